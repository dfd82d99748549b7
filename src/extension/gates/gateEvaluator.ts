/**
 * Checks gates files against a run. The file is parsed here (jsonc, cheap: its problems become diagnostics at
 * once); the check itself reads every case record of the run and runs in the engine process, like every
 * analysis. Callers get the latest evaluation per file and an event when one finishes.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GatesFileError, parseGates, type GateResult, type GateSpec, type GatesProblem, type ParsedGates } from '../../core/analysis/gates';
import type { EngineClient } from '../engineClient';
import { newestRun } from './latestRuns';

/** File names the gates features own (the JSON schema is bound to the same names in package.json). */
export const GATES_GLOB = '**/{umd.gates.json,*.umd.gates.json}';
export function isGatesFile(uri: vscode.Uri): boolean {
  const name = path.basename(uri.fsPath);
  return uri.scheme === 'file' && (name === 'umd.gates.json' || name.endsWith('.umd.gates.json'));
}

export interface GateEvaluation {
  uri: vscode.Uri;
  /** The text checked (the editor's, with unsaved edits), for the ranges of the keys. */
  text?: string;
  /** The parsed file, when it is valid. */
  gates?: ParsedGates;
  /** Problems of the file itself (syntax, types, unknown keys), each with its line and column. */
  problems?: GatesProblem[];
  runDir?: string;
  results?: GateResult[];
  /** maxRegression gates left unchecked: no baseline run is set (or the run is the baseline). */
  unchecked?: GateSpec[];
  /** Why nothing was checked (no run yet, the engine failed). */
  note?: string;
  /** The check was cancelled (a newer edit, or the caller): nothing to show for it. */
  cancelled?: boolean;
  error?: boolean;
}

export interface GateEvaluatorDeps {
  engine: EngineClient;
  runsRoot: () => string;
  baseline: () => string | undefined;
  log: vscode.LogOutputChannel;
  /** Awaited before evaluate() resolves (the diagnostics are set when a caller's await returns). */
  onEvaluated?: (e: GateEvaluation) => Promise<void> | void;
}

export class GateEvaluator implements vscode.Disposable {
  private readonly latestByFile = new Map<string, GateEvaluation>();
  private readonly generation = new Map<string, number>();
  private readonly emitter = new vscode.EventEmitter<GateEvaluation>();
  readonly onDidEvaluate = this.emitter.event;

  constructor(private readonly deps: GateEvaluatorDeps) {}

  latest(uri: vscode.Uri): GateEvaluation | undefined {
    return this.latestByFile.get(uri.toString());
  }

  forget(uri: vscode.Uri): void {
    this.latestByFile.delete(uri.toString());
  }

  /** The text of a gates file: the editor's when it is open (unsaved edits count), else the file's. */
  static async textOf(uri: vscode.Uri): Promise<string> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return open.getText();
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  }

  /**
   * Checks `uri` against `runDir` (default: the newest finished run). A later call for the same file wins: an
   * evaluation overtaken while in the engine is returned but neither stored nor announced.
   */
  async evaluate(uri: vscode.Uri, opts: { runDir?: string; token?: vscode.CancellationToken } = {}): Promise<GateEvaluation> {
    const key = uri.toString();
    const gen = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, gen);
    const checked = await this.check(uri, opts);
    const result = checked;
    if (this.generation.get(key) === gen && !opts.token?.isCancellationRequested) {
      this.latestByFile.set(key, result);
      await this.deps.onEvaluated?.(result);
      this.emitter.fire(result);
    }
    return result;
  }

  private async check(uri: vscode.Uri, opts: { runDir?: string; token?: vscode.CancellationToken }): Promise<GateEvaluation> {
    let text: string;
    try {
      text = await GateEvaluator.textOf(uri);
    } catch (e) {
      return { uri, note: `${uri.fsPath}: cannot read the gates file (${(e as Error).message})`, error: true };
    }
    let gates: ParsedGates;
    try {
      gates = parseGates(text, uri.fsPath);
    } catch (e) {
      if (e instanceof GatesFileError) return { uri, text, problems: e.problems };
      return { uri, text, note: (e as Error).message, error: true };
    }
    const runDir = opts.runDir ?? newestRun(this.deps.runsRoot());
    if (!runDir) return { uri, text, gates, note: 'no finished run to check the gates on yet: evaluate a model (UMD Lens: Evaluate on UMD)' };
    const base = this.deps.baseline();
    const baselineDir = base && base !== runDir ? base : undefined;
    const unchecked = baselineDir ? [] : gates.gates.filter((g) => g.kind === 'maxRegression');
    const checked: ParsedGates = { file: gates.file, gates: gates.gates.filter((g) => !unchecked.includes(g)) };
    if (!checked.gates.length) return { uri, text, gates, runDir, results: [], unchecked };
    try {
      const done = await this.deps.engine.run(
        { type: 'gates', runDir, gatesFile: uri.fsPath, gatesText: text, baselineDir: unchecked.length ? undefined : baselineDir },
        { token: opts.token, onOutput: (l) => this.deps.log.info(`engine: ${l}`) },
      );
      if (done.cancelled) return { uri, text, gates, runDir, cancelled: true };
      const results = done.result.gates;
      const failed = results.filter((r) => !r.pass).length;
      this.deps.log.info(`gates ${vscode.workspace.asRelativePath(uri)} on ${path.basename(runDir)}: ${results.length - failed} hold, ${failed} fail`);
      return { uri, text, gates, runDir, results, unchecked };
    } catch (e) {
      const msg = (e as Error).message;
      this.deps.log.error(`gates ${uri.fsPath}: ${msg}`);
      return { uri, text, gates, runDir, note: `the gates could not be checked: ${msg}`, error: true };
    }
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
