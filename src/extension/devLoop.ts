/**
 * The "while developing" features: gates (diagnostics, CodeLens, tests), model cards (diagnostics, CodeLens) and
 * watch mode, each registered by its own folder. Nothing runs at activation beyond listing the workspace's gates
 * files; every check runs in the engine process.
 */
import type * as vscode from 'vscode';
import { registerCards } from './card/registerCards';
import type { GateEvaluator, GateEvaluation } from './gates/gateEvaluator';
import { registerGates } from './gates/registerGates';
import type { LensHost } from './host';
import type { GateTests } from './testing/gateTests';
import { registerWatch } from './watch/registerWatch';
import type { WatchMode } from './watch/watchMode';

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

export function registerDevLoop(host: LensHost, deps: DevLoopDeps): DevLoopApi {
  const { cardProblems, cardLenses } = registerCards(host);
  const { gates, gateProblems, tests, checkGates } = registerGates(host, { baseline: deps.baseline, onRunsChanged: () => cardLenses.refresh() });
  const watch = registerWatch(host, {
    ensureDataset: deps.ensureDataset, refreshRuns: deps.refreshRuns,
    failingGates: async (runDir) => (await checkGates(runDir)).reduce((n, e) => n + (e.results ?? []).filter((r) => !r.pass).length, 0),
  });
  return { gates, gateDiagnostics: gateProblems, cardDiagnostics: cardProblems, checkGates, tests, watch };
}
