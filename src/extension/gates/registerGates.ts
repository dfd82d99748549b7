/**
 * Quality gates while developing: their diagnostics (+ the quick fix and the command behind their link), the
 * CodeLens on gates files, and the gates as tests in the Test Explorer. A gates file is checked when it is saved
 * or opened, and all of them when a run finishes; every check runs in the engine process.
 */
import * as vscode from 'vscode';
import type { LensHost } from '../host';
import { GateTests } from '../testing/gateTests';
import { gateDiagnostics, GateFailureActions, OPEN_GATE_FAILURES_COMMAND, openGateFailures } from './gateDiagnostics';
import { GateEvaluator, GATES_GLOB, isGatesFile, type GateEvaluation } from './gateEvaluator';
import { GateLensProvider } from './gateLenses';

const GATES_SELECTOR: vscode.DocumentSelector = [{ scheme: 'file', pattern: GATES_GLOB }];

export interface Gates {
  gates: GateEvaluator;
  gateProblems: vscode.DiagnosticCollection;
  tests: GateTests;
  /** Checks every gates file of the workspace against the newest run (or `runDir`); resolves when the diagnostics are set. */
  checkGates(runDir?: string): Promise<GateEvaluation[]>;
}

export function registerGates(host: LensHost, deps: { baseline: () => string | undefined; onRunsChanged: () => void }): Gates {
  const { log } = host;
  const gateProblems = vscode.languages.createDiagnosticCollection('umdLens.gates');
  const gates = new GateEvaluator({
    engine: host.engine, runsRoot: host.runsRoot, baseline: deps.baseline, log,
    // a cancelled evaluation keeps the diagnostics it would have replaced
    onEvaluated: (e) => { if (!e.cancelled) gateProblems.set(e.uri, gateDiagnostics(e)); },
  });
  const gateLenses = new GateLensProvider({ runsRoot: host.runsRoot });
  const tests = new GateTests(gates, log);

  const checkGates = async (runDir?: string): Promise<GateEvaluation[]> => {
    const files = await vscode.workspace.findFiles(GATES_GLOB, '**/node_modules/**', 100);
    return Promise.all(files.map((f) => gates.evaluate(f, { runDir })));
  };

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
  let runsTimer: NodeJS.Timeout | undefined;
  const runsChanged = () => {
    clearTimeout(runsTimer);
    runsTimer = setTimeout(() => {
      gateLenses.refresh();
      deps.onRunsChanged();
      void checkGates();
    }, 1000);
  };
  const watchRuns = () => {
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(host.runsRoot()), '*/run.json'), false, false, false);
    w.onDidCreate(runsChanged); w.onDidChange(runsChanged); w.onDidDelete(runsChanged);
    return w;
  };
  let runsWatcher = watchRuns();
  const gatesWatcher = vscode.workspace.createFileSystemWatcher(GATES_GLOB);
  gatesWatcher.onDidCreate((u) => recheck(u));
  gatesWatcher.onDidChange((u) => recheck(u));
  gatesWatcher.onDidDelete((u) => { gateProblems.delete(u); gates.forget(u); tests.remove(u); });

  host.context.subscriptions.push(
    gates, gateProblems, gateLenses, tests, gatesWatcher,
    { dispose: () => { runsWatcher.dispose(); clearTimeout(runsTimer); gateTimers.forEach((t) => clearTimeout(t)); } },
    vscode.languages.registerCodeLensProvider(GATES_SELECTOR, gateLenses),
    vscode.languages.registerCodeActionsProvider(GATES_SELECTOR, new GateFailureActions(), { providedCodeActionKinds: GateFailureActions.kinds }),
    vscode.commands.registerCommand(OPEN_GATE_FAILURES_COMMAND, (runDir: string, organ: string, modality: string) => openGateFailures(runDir, organ, modality)),
    vscode.commands.registerCommand('umdLens.checkGates', () => checkGates()),
    vscode.workspace.onDidOpenTextDocument((d) => { if (isGatesFile(d.uri) && !gates.latest(d.uri)) recheck(d.uri, 0); }),
    vscode.workspace.onDidChangeTextDocument((e) => { if (isGatesFile(e.document.uri)) recheck(e.document.uri, 800); }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('umdLens.runsDirectory')) return;
      runsWatcher.dispose();
      runsWatcher = watchRuns();
      runsChanged();
    }),
  );
  // after activation, off its path: list the gates as tests and check them against the newest run
  setTimeout(() => { void tests.discover(); void checkGates(); }, 0);
  return { gates, gateProblems, tests, checkGates };
}
