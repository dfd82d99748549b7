/**
 * UMD Lens extension entry point. Activation stays light: the tree reads run files, models run in the
 * engine process (dist/engine.js) started on demand, the viewer is a webview.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CaseRecord } from '../core/runstore/schema';
import { runsRoot } from './config';
import { Evaluator, pickModel } from './evaluate';
import { runEngine } from './engineClient';
import { BaselineStore } from './regressions/baseline';
import { RegressionsTreeProvider, registerRegressionsViewCommands } from './regressions/regressionsTree';
import { OPEN_CASE_COMMAND, OPEN_PAIRED_CASE_COMMAND, RunsTreeProvider, type RunsNode } from './runs/runsTree';
import type { Comparison } from '../core/analysis/compare';
import { readRun } from '../core/runstore/runStore';
import { CaseViewerPanel, registerCaseViewerSerializer } from './viewer/viewerPanel';
import { registerAnalysisViews } from './analysis/analysisViews';
import type { GapTreeProvider } from './analysis/gapTree';
import type { FailuresTreeProvider } from './analysis/failuresTree';
import { registerRunCommands } from './runs/runCommands';
import { protocolLabel, type RunInfo } from './runs/runReader';
import { registerCopyDemoCheckpoint } from './demoCheckpoint';
import { registerDevLoop, type DevLoopApi } from './devLoop';

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
  const baseline = new BaselineStore(context.workspaceState);
  const runsProvider = new RunsTreeProvider(() => runsRoot(context), log, () => baseline.get());
  const regressionsProvider = new RegressionsTreeProvider();
  const syncBaselineContext = () => vscode.commands.executeCommand('setContext', 'umdLens.hasBaseline', baseline.get() !== undefined);
  void syncBaselineContext();

  /** The analysis runs in the engine process: 10,000 bootstrap resamples per cell are not for the host's thread. */
  const compareWithBaseline = async (runDir?: string): Promise<Comparison | undefined> => {
    const base = baseline.get();
    if (!base) {
      regressionsProvider.show(undefined);
      return undefined;
    }
    const run = runDir ?? regressionsProvider.current()?.runDir ?? runsProvider.runs().map((r) => r.dir).find((d) => d !== base);
    if (!run || run === base) {
      regressionsProvider.show(undefined);
      return undefined;
    }
    regressionsProvider.show(undefined, { label: `comparing ${path.basename(run)} with the baseline…`, icon: 'loading~spin' });
    try {
      const done = await runEngine({
        enginePath: path.join(context.extensionPath, 'dist', 'engine.js'),
        request: { type: 'compare', runDir: run, baselineDir: base },
        onOutput: (l) => log.info(`engine: ${l}`),
      });
      if (!done.comparison) throw new Error('the engine returned no comparison');
      const protocolOf = (dir: string) => { const m = runInfo(dir)?.manifest; return m && protocolLabel(m); };
      regressionsProvider.show({ runDir: run, baselineDir: base, comparison: done.comparison, protocols: { run: protocolOf(run), baseline: protocolOf(base) } });
      const regressed = done.comparison.cells.filter((c) => c.metric === 'dice' && c.class === 'regression');
      log.info(`compared ${run} with baseline ${base}: ${regressed.length} regression(s)${regressed.length ? `: ${regressed.map((c) => `${c.organ} ${c.modality}`).join(', ')}` : ''}`);
      return done.comparison;
    } catch (e) {
      const msg = (e as Error).message;
      log.error(`comparison failed: ${msg}`);
      regressionsProvider.show(undefined, { label: `comparison failed: ${msg}`, icon: 'error' });
      return undefined;
    }
  };
  const runInfo = (dir: string): RunInfo | undefined => runsProvider.runs().find((r): r is RunInfo => !('error' in r) && r.dir === dir);
  const { gapProvider, failuresProvider, showAnalysis } = registerAnalysisViews(context, runsProvider, log);
  const evaluator = new Evaluator({
    context, log,
    onRunFinished: (runDir) => {
      runsProvider.refresh();
      if (baseline.get()) void compareWithBaseline(runDir);
      void showAnalysis(runDir);
    },
  });
  const openCase = (runDir: string, record: CaseRecord) => CaseViewerPanel.show(context.extensionUri, runDir, record, log);
  const openPairedCase = (runDir: string, record: CaseRecord) => CaseViewerPanel.show(context.extensionUri, runDir, record, log, true);

  // refresh when runs appear or change under the runs root (debounced: cases.jsonl grows line by line)
  let timer: NodeJS.Timeout | undefined;
  const poke = () => { clearTimeout(timer); timer = setTimeout(() => runsProvider.refresh(), 500); };
  const watchRoot = () => {
    const root = runsRoot(context);
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '*/{run.json,cases.jsonl}'));
    w.onDidCreate(poke); w.onDidChange(poke); w.onDidDelete(poke);
    return w;
  };
  let watcher = watchRoot();

  context.subscriptions.push(
    log, runsProvider, regressionsProvider, { dispose: () => { clearTimeout(timer); watcher.dispose(); } },
    vscode.window.createTreeView('umdLens.runs', { treeDataProvider: runsProvider, showCollapseAll: true }),
    vscode.window.createTreeView('umdLens.regressions', { treeDataProvider: regressionsProvider }),
    ...registerRegressionsViewCommands(regressionsProvider),
    ...registerRunCommands({ runsProvider, regressionsProvider, baseline, log, runsRoot: () => runsRoot(context), onBaselineCleared: () => syncBaselineContext() }),
    vscode.commands.registerCommand('umdLens.setBaseline', async (node?: RunsNode | string) => {
      const dir = typeof node === 'string' ? node : node?.kind === 'run' ? node.run.dir : undefined;
      if (!dir) return;
      await baseline.set(dir);
      await syncBaselineContext();
      runsProvider.refresh();
      log.info(`baseline: ${dir}`);
      regressionsProvider.show(undefined);
      await compareWithBaseline();
    }),
    vscode.commands.registerCommand('umdLens.resumeRun', async (node?: RunsNode | string) => {
      const dir = typeof node === 'string' ? node : node?.kind === 'run' ? node.run.dir : undefined;
      if (!dir) return undefined;
      if (!vscode.workspace.isTrusted) {
        void vscode.window.showWarningMessage('UMD Lens evaluates models only in trusted workspaces.');
        return undefined;
      }
      try {
        const { manifest } = readRun(dir);
        log.info(`resume ${dir} (${manifest.model.path} on ${manifest.dataset.root})`);
        return await evaluator.evaluate(manifest.model.path, manifest.dataset.root, dir);
      } catch (e) {
        if (e instanceof vscode.CancellationError) return undefined;
        log.error(`resume failed: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`UMD Lens: cannot resume ${path.basename(dir)}: ${(e as Error).message}`, 'Show Log').then((a) => a && log.show());
        return undefined;
      }
    }),
    vscode.commands.registerCommand('umdLens.clearBaseline', async () => {
      await baseline.set(undefined);
      await syncBaselineContext();
      runsProvider.refresh();
      regressionsProvider.show(undefined);
    }),
    vscode.commands.registerCommand('umdLens.compareWithBaseline', (node?: RunsNode | string) =>
      compareWithBaseline(typeof node === 'string' ? node : node?.kind === 'run' ? node.run.dir : undefined)),
    vscode.commands.registerCommand('umdLens.refreshRegressions', () => compareWithBaseline()),
    vscode.commands.registerCommand('umdLens.evaluate', async (arg?: unknown) => {
      if (!vscode.workspace.isTrusted) {
        void vscode.window.showWarningMessage('UMD Lens evaluates models only in trusted workspaces.', 'Manage Workspace Trust')
          .then((a) => a && vscode.commands.executeCommand('workbench.trust.manage'));
        return undefined;
      }
      const model = await pickModel(arg);
      if (!model) return undefined;
      try {
        const runDir = await evaluator.evaluate(model);
        if (runDir) {
          void vscode.window.showInformationMessage(`UMD Lens: ${path.basename(model)} evaluated.`, 'Show Runs')
            .then((a) => a && vscode.commands.executeCommand('umdLens.runs.focus'));
        }
        return runDir;
      } catch (e) {
        const msg = (e as Error).message;
        if (e instanceof vscode.CancellationError) return undefined;
        log.error(`evaluation failed: ${msg}`);
        void vscode.window.showErrorMessage(`UMD Lens: evaluation failed: ${msg}`, 'Show Log').then((a) => a && log.show());
        return undefined;
      }
    }),
    vscode.commands.registerCommand('umdLens.refreshRuns', () => runsProvider.refresh()),
    vscode.commands.registerCommand(OPEN_CASE_COMMAND, (runDir: string, record: CaseRecord) => {
      try {
        return openCase(runDir, record);
      } catch (e) {
        void vscode.window.showErrorMessage(`UMD Lens: cannot open the case: ${(e as Error).message}`);
        return undefined;
      }
    }),
    // from a case item's context menu (a tree node) or programmatically (run directory, record)
    vscode.commands.registerCommand(OPEN_PAIRED_CASE_COMMAND, (arg?: RunsNode | string, rec?: CaseRecord) => {
      const target = typeof arg === 'string' && rec ? { runDir: arg, record: rec }
        : arg && typeof arg === 'object' && arg.kind === 'case' ? { runDir: arg.run.dir, record: arg.record } : undefined;
      if (!target) return undefined;
      try {
        return openPairedCase(target.runDir, target.record);
      } catch (e) {
        void vscode.window.showErrorMessage(`UMD Lens: cannot open the paired view: ${(e as Error).message}`);
        return undefined;
      }
    }),
    registerCaseViewerSerializer(context.extensionUri, log),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('umdLens.runsDirectory')) {
        watcher.dispose();
        watcher = watchRoot();
        runsProvider.refresh();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => runsProvider.refresh()),
  );
  context.subscriptions.push(registerCopyDemoCheckpoint(context.extensionUri));
  const devLoop = registerDevLoop(context, {
    log, runsRoot: () => runsRoot(context), baseline: () => baseline.get(),
    ensureDataset: (token) => evaluator.ensureMiniDataset(token), refreshRuns: () => runsProvider.refresh(),
  });
  log.info(`UMD Lens activated (runs root ${runsRoot(context)})`);
  return {
    evaluate: (modelPath, datasetPath) => evaluator.evaluate(modelPath, datasetPath),
    runsProvider,
    runsRoot: () => runsRoot(context),
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
