/**
 * The two per-run analysis views, Modality Gap and Failure Cases, and the run they show: the one chosen with
 * "Show Modality Gap and Failure Cases", else the newest finished run. The gap's bootstrap runs in the engine
 * process; the failure cases are a sort of the records the Runs view already read.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FailuresTreeProvider } from './failuresTree';
import { GapTreeProvider } from './gapTree';
import type { LensHost } from '../host';
import type { RunInfo } from '../runs/runReader';
import type { RunsNode, RunsTreeProvider } from '../runs/runsTree';

export interface AnalysisViews {
  gapProvider: GapTreeProvider;
  failuresProvider: FailuresTreeProvider;
  /** Shows one run (default: the newest finished run) in both views. */
  showAnalysis(runDir?: string): Promise<void>;
}

export function registerAnalysisViews(host: LensHost, runsProvider: RunsTreeProvider): AnalysisViews {
  const { context, log } = host;
  const runInfo = (dir: string): RunInfo | undefined => runsProvider.runs().find((r): r is RunInfo => !('error' in r) && r.dir === dir);
  const gapProvider = new GapTreeProvider((dir, k) => runInfo(dir)?.records.find((r) =>
    r.subject === k.subject && r.study === k.study && r.modality === k.modality && r.organ === k.organ));
  const failuresProvider = new FailuresTreeProvider(() => vscode.workspace.getConfiguration('umdLens').get<number>('failureCases.perOrganAndScan') ?? 3);

  const showAnalysis = async (runDir?: string): Promise<void> => {
    const dir = runDir ?? runsProvider.runs().find((r): r is RunInfo => !('error' in r) && !!r.manifest.finishedAt)?.dir;
    const run = dir ? runInfo(dir) : undefined;
    failuresProvider.show(run);
    if (!dir || !run) {
      gapProvider.show(undefined);
      return;
    }
    gapProvider.show(undefined, { label: `computing the modality gap of ${path.basename(dir)}…`, icon: 'loading~spin' });
    try {
      const done = await host.engine.run({ type: 'gap', runDir: dir }, { onOutput: (l) => log.info(`engine: ${l}`) });
      const gap = done.result?.gap;
      const illusion = done.result?.illusion ?? [];
      if (!gap) throw new Error('the engine returned no modality gap');
      const any = gap.length > 0 || illusion.length > 0;
      gapProvider.show(any ? { runDir: dir, rows: gap, illusion } : undefined,
        any ? undefined : { label: `${path.basename(dir)} has no subject scored on two scans`, icon: 'info' });
    } catch (e) {
      log.error(`modality gap failed: ${(e as Error).message}`);
      gapProvider.show(undefined, { label: `modality gap failed: ${(e as Error).message}`, icon: 'error' });
    }
  };

  context.subscriptions.push(
    gapProvider, failuresProvider,
    ...[
      vscode.window.createTreeView('umdLens.gap', { treeDataProvider: gapProvider, showCollapseAll: true }),
      vscode.window.createTreeView('umdLens.failures', { treeDataProvider: failuresProvider, showCollapseAll: true }),
    ].map((view) => {
      // filled when first shown, not at activation
      view.onDidChangeVisibility((e) => { if (e.visible && !gapProvider.current() && !failuresProvider.current()) void showAnalysis(); });
      return view;
    }),
    vscode.commands.registerCommand('umdLens.showAnalysis', (node?: RunsNode | string) =>
      showAnalysis(typeof node === 'string' ? node : node?.kind === 'run' ? node.run.dir : undefined)),
  );
  return { gapProvider, failuresProvider, showAnalysis };
}
