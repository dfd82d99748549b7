/**
 * The "while developing" features, registered together: gate diagnostics (+ their quick fix and the command
 * behind their link), model card diagnostics, CodeLens on gates files and cards, the gates as tests, watch mode.
 * Nothing runs at activation beyond listing the workspace's gates files; every check runs in the engine process.
 */
import * as vscode from 'vscode';
import { cardDiagnostics, isCardFile } from './card/cardDiagnostics';
import { CardLensProvider } from './card/cardLenses';
import { gateDiagnostics, GateFailureActions, OPEN_GATE_FAILURES_COMMAND, openGateFailures } from './gates/gateDiagnostics';
import { GateEvaluator, GATES_GLOB, isGatesFile, type GateEvaluation } from './gates/gateEvaluator';
import { GateLensProvider } from './gates/gateLenses';
import { GateTests } from './testing/gateTests';
import { WatchMode } from './watch/watchMode';
import type { LensHost } from './host';

export interface DevLoopDeps {
  baseline: () => string | undefined;
  /** The dataset to evaluate on when none is configured (the generated UMD-mini). */
  ensureDataset: (token?: vscode.CancellationToken) => Promise<string>;
  refreshRuns: () => void;
}

export interface DevLoopApi {
  gates: GateEvaluator;
  gateDiagnostics: vscode.DiagnosticCollection;
  cardDiagnostics: vscode.DiagnosticCollection;
  /** Checks every gates file of the workspace against the newest run (or `runDir`); resolves when the diagnostics are set. */
  checkGates(runDir?: string): Promise<GateEvaluation[]>;
  tests: GateTests;
  watch: WatchMode;
}

const GATES_SELECTOR: vscode.DocumentSelector = [{ scheme: 'file', pattern: GATES_GLOB }];
const CARD_SELECTOR: vscode.DocumentSelector = [{ scheme: 'file', pattern: '**/*.umd.json' }];

export function registerDevLoop(host: LensHost, hostDeps: DevLoopDeps): DevLoopApi {
  const { context, enginePath } = host;
  const deps = { ...hostDeps, log: host.log, runsRoot: host.runsRoot };
  const gateProblems = vscode.languages.createDiagnosticCollection('umdLens.gates');
  const gates = new GateEvaluator({
    enginePath, runsRoot: deps.runsRoot, baseline: deps.baseline, log: deps.log,
    // a cancelled evaluation keeps the diagnostics it would have replaced
    onEvaluated: (e) => { if (e.note !== 'cancelled') gateProblems.set(e.uri, gateDiagnostics(e)); },
  });
  const cardProblems = vscode.languages.createDiagnosticCollection('umdLens.card');
  const gateLenses = new GateLensProvider({ runsRoot: deps.runsRoot });
  const cardLenses = new CardLensProvider({ runsRoot: deps.runsRoot });
  const tests = new GateTests(gates, deps.log);

  const checkGates = async (runDir?: string): Promise<GateEvaluation[]> => {
    const files = await vscode.workspace.findFiles(GATES_GLOB, '**/node_modules/**', 100);
    return Promise.all(files.map((f) => gates.evaluate(f, { runDir })));
  };
  const watch = new WatchMode({
    enginePath, runsRoot: deps.runsRoot, ensureDataset: deps.ensureDataset, log: deps.log,
    onRun: async (runDir) => {
      deps.refreshRuns();
      const evaluations = await checkGates(runDir);
      return { failingGates: evaluations.reduce((n, e) => n + (e.results ?? []).filter((r) => !r.pass).length, 0) };
    },
  });

  // a gates file is checked when it is saved or opened, and all of them when a run finishes
  const gateTimers = new Map<string, NodeJS.Timeout>();
  const recheck = (uri: vscode.Uri, delayMs = 300) => {
    if (!isGatesFile(uri)) return;
    clearTimeout(gateTimers.get(uri.toString()));
    gateTimers.set(uri.toString(), setTimeout(() => {
      gateTimers.delete(uri.toString());
      void gates.evaluate(uri);
      void tests.update(uri);
    }, delayMs));
  };
  const cardCheck = (doc: vscode.TextDocument) => {
    if (!isCardFile(doc.uri)) return;
    try {
      cardProblems.set(doc.uri, cardDiagnostics(doc));
    } catch (e) {
      deps.log.error(`card check ${doc.uri.fsPath}: ${(e as Error).message}`);
    }
  };
  let runsTimer: NodeJS.Timeout | undefined;
  const runsChanged = () => {
    clearTimeout(runsTimer);
    runsTimer = setTimeout(() => {
      gateLenses.refresh();
      cardLenses.refresh();
      void checkGates();
    }, 1000);
  };
  const watchRuns = () => {
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(deps.runsRoot()), '*/run.json'), false, false, false);
    w.onDidCreate(runsChanged); w.onDidChange(runsChanged); w.onDidDelete(runsChanged);
    return w;
  };
  let runsWatcher = watchRuns();
  const gatesWatcher = vscode.workspace.createFileSystemWatcher(GATES_GLOB);
  gatesWatcher.onDidCreate((u) => recheck(u));
  gatesWatcher.onDidChange((u) => recheck(u));
  gatesWatcher.onDidDelete((u) => { gateProblems.delete(u); gates.forget(u); tests.remove(u); });

  context.subscriptions.push(
    gates, gateProblems, cardProblems, gateLenses, cardLenses, tests, watch, gatesWatcher,
    { dispose: () => { runsWatcher.dispose(); clearTimeout(runsTimer); gateTimers.forEach((t) => clearTimeout(t)); } },
    vscode.languages.registerCodeLensProvider(GATES_SELECTOR, gateLenses),
    vscode.languages.registerCodeLensProvider(CARD_SELECTOR, cardLenses),
    vscode.languages.registerCodeActionsProvider(GATES_SELECTOR, new GateFailureActions(), { providedCodeActionKinds: GateFailureActions.kinds }),
    vscode.commands.registerCommand(OPEN_GATE_FAILURES_COMMAND, (runDir: string, organ: string, modality: string) => openGateFailures(runDir, organ, modality)),
    vscode.commands.registerCommand('umdLens.checkGates', () => checkGates()),
    vscode.workspace.onDidOpenTextDocument((d) => { cardCheck(d); if (isGatesFile(d.uri) && !gates.latest(d.uri)) recheck(d.uri, 0); }),
    vscode.workspace.onDidChangeTextDocument((e) => { cardCheck(e.document); if (isGatesFile(e.document.uri)) recheck(e.document.uri, 800); }),
    vscode.workspace.onDidCloseTextDocument((d) => { if (isCardFile(d.uri)) cardProblems.delete(d.uri); }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('umdLens.runsDirectory')) return;
      runsWatcher.dispose();
      runsWatcher = watchRuns();
      runsChanged();
    }),
  );
  vscode.workspace.textDocuments.forEach(cardCheck);
  // after activation, off its path: list the gates as tests and check them against the newest run
  setTimeout(() => { void tests.discover(); void checkGates(); }, 0);
  return { gates, gateDiagnostics: gateProblems, cardDiagnostics: cardProblems, checkGates, tests, watch };
}
