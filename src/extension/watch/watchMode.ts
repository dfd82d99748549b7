/**
 * Watch mode: when a checkpoint matching `umdLens.watch.glob` changes (a training loop writing a new .onnx), a
 * quick subset of the dataset (`umdLens.watch.subset` subjects) is evaluated in the engine process, then the runs
 * tree, the gate diagnostics and the status bar item update. Nothing waits on it: no progress notification, the
 * status bar shows where it is. A change during an evaluation queues one more evaluation of that checkpoint
 * (never a cancelled, half-written run). Off in untrusted workspaces: watching runs models.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import type { RunSummary } from '../../core/analysis/summary';
import { configuredDataset, inferenceSettings, metricSettings, SECTION } from '../config';
import type { EngineClient } from '../engineClient';

export interface WatchDeps {
  engine: EngineClient;
  runsRoot: () => string;
  ensureDataset: (token?: vscode.CancellationToken) => Promise<string>;
  log: vscode.LogOutputChannel;
  /** A watch run finished: refresh what shows runs. */
  onRun: (runDir: string) => Promise<{ failingGates: number } | void>;
}

export interface WatchRun {
  model: string;
  runDir: string;
  subjects: string[];
  summary?: RunSummary;
}

const DEBOUNCE_MS = 1000;

export class WatchMode extends Disposable {
  readonly status = this.register(vscode.window.createStatusBarItem('umdLens.watch', vscode.StatusBarAlignment.Left, 50));
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running: { model: string; abort: AbortController } | undefined;
  private readonly queue: string[] = [];
  private readonly finished = this.register(new vscode.EventEmitter<WatchRun>());
  /** Fires after each finished watch evaluation (and its refreshes). */
  readonly onDidFinish = this.finished.event;
  constructor(private readonly deps: WatchDeps) {
    super();
    this.status.name = 'UMD Lens watch mode';
    this.status.command = 'umdLens.runs.focus';
    this.register(vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration(`${SECTION}.watch`)) this.configure(); }));
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.configure()));
    this.configure();
  }

  private get settings() {
    const cfg = vscode.workspace.getConfiguration(SECTION, vscode.workspace.workspaceFolders?.[0]?.uri);
    const subset = cfg.get<number>('watch.subset');
    return { glob: (cfg.get<string>('watch.glob') ?? '').trim(), subset: typeof subset === 'number' && Number.isInteger(subset) && subset >= 1 ? subset : 1 };
  }

  /** (Re)creates the watcher from the settings; nothing is watched without a glob or without trust. */
  configure(): void {
    this.watcher?.dispose();
    this.watcher = undefined;
    const { glob } = this.settings;
    if (!glob) {
      this.status.hide();
      return;
    }
    if (!vscode.workspace.isTrusted) {
      this.show('$(workspace-untrusted) UMD watch off', 'Watch mode evaluates models: it is off in untrusted workspaces.');
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    const pattern = folder && !path.isAbsolute(glob) ? new vscode.RelativePattern(folder, glob) : glob;
    this.watcher = vscode.workspace.createFileSystemWatcher(pattern, false, false, true);
    this.watcher.onDidChange((u) => this.changed(u));
    this.watcher.onDidCreate((u) => this.changed(u));
    this.deps.log.info(`watch mode: watching ${glob}`);
    if (!this.running) this.show('$(eye) UMD watch', `Watching ${glob}: a changed checkpoint is evaluated on ${this.settings.subset} subject(s) per study.`);
  }

  private show(text: string, tooltip: string): void {
    this.status.text = text;
    this.status.tooltip = tooltip;
    this.status.show();
  }

  /** A checkpoint changed: evaluate once it has been quiet for a second (writers write in chunks). */
  changed(uri: vscode.Uri): void {
    if (uri.scheme !== 'file' || !uri.fsPath.toLowerCase().endsWith('.onnx') || !vscode.workspace.isTrusted) return;
    const file = uri.fsPath;
    clearTimeout(this.timers.get(file));
    this.timers.set(file, setTimeout(() => {
      this.timers.delete(file);
      if (!this.running) void this.evaluate(file);
      else if (!this.queue.includes(file)) this.queue.push(file);
    }, DEBOUNCE_MS));
  }

  /** First `n` subjects of the dataset (by name), from both study folders. */
  static subjects(datasetRoot: string, n: number): string[] {
    const names = new Set<string>();
    for (const study of ['PETCT', 'PETMRI']) {
      try {
        for (const d of fs.readdirSync(path.join(datasetRoot, study), { withFileTypes: true })) if (d.isDirectory()) names.add(d.name);
      } catch { /* a dataset without this study */ }
    }
    return [...names].sort().slice(0, n);
  }

  private async evaluate(model: string): Promise<void> {
    const abort = new AbortController();
    this.running = { model, abort };
    const name = path.basename(model);
    const { subset } = this.settings;
    this.show(`$(sync~spin) UMD watch: ${name}`, `Evaluating ${model} on ${subset} subject(s) per study`);
    try {
      const dataset = configuredDataset() ?? await this.deps.ensureDataset();
      const subjects = WatchMode.subjects(dataset, subset);
      const root = this.deps.runsRoot();
      fs.mkdirSync(root, { recursive: true });
      this.deps.log.info(`watch mode: ${model} changed: evaluating ${subjects.join(', ')}`);
      const outcome = await this.deps.engine.run({
        type: 'evaluate', modelPath: model, datasetRoot: dataset, runsRoot: root, subjects, ...metricSettings(), ...inferenceSettings(),
      }, {
        signal: abort.signal,
        onOutput: (l) => this.deps.log.info(`engine: ${l}`),
        onEvent: (e) => {
          if (e.type === 'progress' && e.total > 0) this.show(`$(sync~spin) UMD watch: ${name} ${e.done}/${e.total}`, `Evaluating ${model}: ${e.message}`);
          if (e.type === 'finished' && e.total > 0) this.show(`$(sync~spin) UMD watch: ${name} ${e.done}/${e.total}`, `Evaluating ${model}: ${e.cancelled ? 'cancelled' : 'done'}`);
        },
      });
      if (outcome.cancelled || !outcome.result.runDir) return;
      const done = outcome.result;
      const gates = await this.deps.onRun(done.runDir);
      const order = ['CT', 'PET', 'MRI'];
      const dice = [...(done.summary.modalities)].sort((a, b) => order.indexOf(a.modality) - order.indexOf(b.modality)).map((m) => `${m.modality} ${m.meanDice === null ? '—' : m.meanDice.toFixed(3)}`).join(' · ');
      const failing = gates ? gates.failingGates : 0;
      this.show(
        `${failing ? '$(error)' : '$(pass)'} UMD watch: ${name} Dice ${dice}${failing ? ` · ${failing} gate${failing === 1 ? '' : 's'} failing` : ''}`,
        `Watch run ${path.basename(done.runDir)} (${subjects.length} subject(s) per study): ${dice}`,
      );
      this.finished.fire({ model, runDir: done.runDir, subjects, summary: done.summary });
    } catch (e) {
      this.deps.log.error(`watch mode: ${name}: ${(e as Error).message}`);
      this.show(`$(warning) UMD watch: ${name} failed`, (e as Error).message);
    } finally {
      this.running = undefined;
      const next = this.queue.shift();
      if (next) void this.evaluate(next);
    }
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.running?.abort.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    // recreated on each configure(), so not registered once
    this.watcher?.dispose();
    super.dispose();
  }
}
