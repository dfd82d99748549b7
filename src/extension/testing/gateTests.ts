/**
 * The gates as tests (Testing API): one test item per gate of each gates file (an organ x modality threshold, at
 * its line). Running them checks the file against the newest finished run, in the engine process; it does not
 * evaluate the model again (Evaluate on UMD, or watch mode, makes new runs). A failing gate reports the threshold
 * as expected and the measured value as actual, at the gate's line.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GatesFileError, parseGates, type GateResult, type GateSpec } from '../../core/analysis/gates';
import { GateEvaluator, GATES_GLOB, isGatesFile } from '../gates/gateEvaluator';
import { keyRange } from '../gates/gateDiagnostics';

export const GATES_CONTROLLER_ID = 'umdLens.gates';

export interface GateTestOutcome {
  state: 'passed' | 'failed' | 'errored' | 'skipped';
  messages: vscode.TestMessage[];
}

const op = (kind: GateSpec['kind']) => (kind.startsWith('min') ? '>=' : '<=');
const what = (kind: GateSpec['kind']) => ({ minDice: 'mean Dice', minNsd: 'mean NSD', maxGap: 'mean Dice gap', maxRegression: 'mean Dice drop' })[kind];
export const gateItemId = (g: Pick<GateSpec, 'entry' | 'kind'>) => `gates[${g.entry}].${g.kind}`;

export class GateTests implements vscode.Disposable {
  readonly controller: vscode.TestController;
  /** Outcome of each item in the latest run, by item id (`<file uri>#gates[i].kind`). */
  readonly lastOutcomes = new Map<string, GateTestOutcome>();
  private readonly specs = new WeakMap<vscode.TestItem, GateSpec>();

  constructor(private readonly evaluator: GateEvaluator, private readonly log: vscode.LogOutputChannel) {
    this.controller = vscode.tests.createTestController(GATES_CONTROLLER_ID, 'UMD Lens gates');
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discover();
    };
    this.controller.refreshHandler = () => this.discover();
    this.controller.createRunProfile('Check against the newest run', vscode.TestRunProfileKind.Run, (req, token) => this.run(req, token), true);
  }

  /** Finds the workspace's gates files and lists their gates. */
  async discover(): Promise<void> {
    const files = await vscode.workspace.findFiles(GATES_GLOB, '**/node_modules/**', 100);
    const keep = new Set(files.map((u) => u.toString()));
    this.controller.items.forEach((i) => { if (!keep.has(i.id)) this.controller.items.delete(i.id); });
    for (const f of files) await this.update(f);
  }

  /** (Re)reads one gates file into its test items; an invalid file shows as an item with its error. */
  async update(uri: vscode.Uri): Promise<vscode.TestItem | undefined> {
    if (!isGatesFile(uri)) return undefined;
    let text: string;
    try {
      text = await GateEvaluator.textOf(uri);
    } catch {
      this.controller.items.delete(uri.toString());
      return undefined;
    }
    const file = this.controller.items.get(uri.toString()) ?? this.controller.createTestItem(uri.toString(), vscode.workspace.asRelativePath(uri), uri);
    this.controller.items.add(file);
    file.error = undefined;
    const children: vscode.TestItem[] = [];
    try {
      for (const g of parseGates(text, uri.fsPath).gates) {
        const item = this.controller.createTestItem(`${uri.toString()}#${gateItemId(g)}`, `${g.organ === '*' ? 'every organ' : g.organ} · ${g.modality === '*' ? 'every modality' : g.modality} · ${g.kind} ${g.threshold}`, uri);
        item.range = keyRange(text, g.line, g.column);
        item.description = `${what(g.kind)} ${op(g.kind)} ${g.threshold}`;
        this.specs.set(item, g);
        children.push(item);
      }
    } catch (e) {
      file.error = e instanceof GatesFileError ? e.problems.map((p) => `line ${p.line}: ${p.path ? p.path + ': ' : ''}${p.message}`).join('\n') : (e as Error).message;
    }
    file.children.replace(children);
    return file;
  }

  remove(uri: vscode.Uri): void {
    this.controller.items.delete(uri.toString());
  }

  /** Runs the requested gates (default: all); resolves when every outcome is reported. */
  async run(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request, 'UMD Lens gates');
    const excluded = new Set(request.exclude ?? []);
    const byFile = new Map<string, vscode.TestItem[]>();
    const add = (i: vscode.TestItem) => {
      if (excluded.has(i)) return;
      if (this.specs.has(i)) {
        const key = i.uri!.toString();
        byFile.set(key, [...(byFile.get(key) ?? []), i]);
      } else i.children.forEach(add);
    };
    if (request.include) request.include.forEach(add);
    else this.controller.items.forEach(add);
    try {
      for (const [file, items] of byFile) {
        if (token.isCancellationRequested) break;
        for (const i of items) run.started(i);
        const e = await this.evaluator.evaluate(vscode.Uri.parse(file), { token });
        for (const item of items) {
          if (token.isCancellationRequested) {
            run.skipped(item);
            continue;
          }
          const spec = this.specs.get(item)!;
          const outcome = this.outcome(spec, item, e.results, e.runDir, e.note ?? (e.problems ? 'the gates file is invalid (see Problems)' : undefined), e.unchecked?.includes(spec));
          this.lastOutcomes.set(item.id, outcome);
          if (outcome.state === 'passed') run.passed(item);
          else if (outcome.state === 'failed') run.failed(item, outcome.messages);
          else if (outcome.state === 'skipped') run.skipped(item);
          else run.errored(item, outcome.messages);
        }
      }
    } finally {
      run.end();
    }
  }

  private outcome(g: GateSpec, item: vscode.TestItem, results: GateResult[] | undefined, runDir: string | undefined, note: string | undefined, unchecked?: boolean): GateTestOutcome {
    const location = new vscode.Location(item.uri!, item.range!);
    if (unchecked) return { state: 'skipped', messages: [] };
    if (!results || !runDir) {
      const m = new vscode.TestMessage(note ?? 'not checked');
      m.location = location;
      return { state: 'errored', messages: [m] };
    }
    const mine = results.filter((r) => r.line === g.line && r.column === g.column);
    const failed = mine.filter((r) => !r.pass);
    if (!failed.length) {
      this.log.debug(`gate ${item.id}: ${mine.length} check(s) hold on ${path.basename(runDir)}`);
      return { state: mine.length ? 'passed' : 'skipped', messages: [] };
    }
    const messages = failed.map((r) => {
      const label = `${r.gate.organ} ${r.gate.modality} ${what(r.gate.kind)}`;
      const m = vscode.TestMessage.diff(
        `${r.message} — run ${path.basename(runDir)}`,
        `${label} ${op(r.gate.kind)} ${r.gate.threshold}`,
        `${label} ${r.measured === null ? 'not measured (no scored case)' : r.measured.toFixed(3)}`,
      );
      m.location = location;
      return m;
    });
    return { state: 'failed', messages };
  }

  dispose(): void {
    this.controller.dispose();
  }
}
