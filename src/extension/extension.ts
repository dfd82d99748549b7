/**
 * UMD Lens extension entry point. Activation stays light: the tree reads run files, models run in the
 * engine process (dist/engine.js) started on demand, the viewer is a webview.
 */
import * as vscode from 'vscode';
import type { CaseRecord } from '../core/runstore/schema';
import type { Comparison } from '../core/analysis/compare';
import { registerAnalysisViews } from './analysis/analysisViews';
import type { FailuresTreeProvider } from './analysis/failuresTree';
import type { GapTreeProvider } from './analysis/gapTree';
import { registerCopyDemoCheckpoint } from './demoCheckpoint';
import { registerDevLoop, type DevLoopApi } from './devLoop';
import { createHost } from './host';
import { registerEvaluate } from './registerEvaluate';
import { BaselineStore } from './regressions/baseline';
import type { RegressionsTreeProvider } from './regressions/regressionsTree';
import { registerRegressions } from './regressions/registerRegressions';
import { registerRunCommands } from './runs/runCommands';
import { registerRuns } from './runs/registerRuns';
import type { RunsTreeProvider } from './runs/runsTree';
import { registerViewer } from './viewer/registerViewer';
import type { CaseViewerPanel } from './viewer/viewerPanel';

export interface UmdLensApi {
  /** Evaluates a checkpoint; resolves with the run directory (undefined when cancelled). */
  evaluate(modelPath: string, datasetPath?: string): Promise<string | undefined>;
  runsProvider: RunsTreeProvider;
  runsRoot(): string;
  /** Opens the failure-case viewer on one case record. */
  openCase(runDir: string, record: CaseRecord): CaseViewerPanel;
  /** Opens the case beside the same subject's other modality (CT | PET, MRI | PET), crosshairs linked. */
  openPairedCase(runDir: string, record: CaseRecord): CaseViewerPanel;
  regressionsProvider: RegressionsTreeProvider;
  baseline: BaselineStore;
  /** Compares a run (default: the newest other run) with the baseline and shows it in the Regressions view. */
  compareWithBaseline(runDir?: string): Promise<Comparison | undefined>;
  gapProvider: GapTreeProvider;
  failuresProvider: FailuresTreeProvider;
  /** Shows one run (default: the newest finished run) in the Modality Gap and Failure Cases views. */
  showAnalysis(runDir?: string): Promise<void>;
  /** Gate and card diagnostics, the gates as tests, watch mode. */
  devLoop: DevLoopApi;
}

export function activate(context: vscode.ExtensionContext): UmdLensApi {
  const log = vscode.window.createOutputChannel('UMD Lens', { log: true });
  context.subscriptions.push(log);
  const host = createHost(context, log);
  const baseline = new BaselineStore(context.workspaceState);
  const runsProvider = registerRuns(host, () => baseline.get());
  const { regressionsProvider, compareWithBaseline, syncBaselineContext } = registerRegressions(host, baseline, runsProvider);
  context.subscriptions.push(...registerRunCommands({
    runsProvider, regressionsProvider, baseline, log, runsRoot: host.runsRoot, onBaselineCleared: () => syncBaselineContext(),
  }));
  const { gapProvider, failuresProvider, showAnalysis } = registerAnalysisViews(host, runsProvider);
  const evaluator = registerEvaluate(host, (runDir) => {
    runsProvider.refresh();
    if (baseline.get()) void compareWithBaseline(runDir);
    void showAnalysis(runDir);
  });
  const { openCase, openPairedCase } = registerViewer(host);
  context.subscriptions.push(registerCopyDemoCheckpoint(context.extensionUri));
  const devLoop = registerDevLoop(host, {
    baseline: () => baseline.get(),
    ensureDataset: (token) => evaluator.ensureMiniDataset(token), refreshRuns: () => runsProvider.refresh(),
  });
  log.info(`UMD Lens activated (runs root ${host.runsRoot()})`);
  return {
    evaluate: (modelPath, datasetPath) => evaluator.evaluate(modelPath, datasetPath),
    runsProvider,
    runsRoot: host.runsRoot,
    openCase,
    openPairedCase,
    regressionsProvider,
    baseline,
    compareWithBaseline,
    gapProvider,
    failuresProvider,
    showAnalysis,
    devLoop,
  };
}

export function deactivate(): void {}
