/**
 * The Regressions view and the baseline commands: a run against the workspace's baseline, compared in the engine
 * process (10,000 bootstrap resamples per cell are not for the host's thread).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Comparison } from '../../core/analysis/compare';
import type { LensHost } from '../host';
import { protocolLabel, type RunInfo } from '../runs/runReader';
import type { RunsNode, RunsTreeProvider } from '../runs/runsTree';
import type { BaselineStore } from './baseline';
import { RegressionsTreeProvider, registerRegressionsViewCommands } from './regressionsTree';

export interface Regressions {
  regressionsProvider: RegressionsTreeProvider;
  /** Compares a run (default: the newest other run) with the baseline and shows it in the Regressions view. */
  compareWithBaseline(runDir?: string): Promise<Comparison | undefined>;
  /** Sets the context key the Runs view's menus read. */
  syncBaselineContext(): Thenable<unknown>;
}

const runDirOf = (node?: RunsNode | string) => (typeof node === 'string' ? node : node?.kind === 'run' ? node.run.dir : undefined);

export function registerRegressions(host: LensHost, baseline: BaselineStore, runsProvider: RunsTreeProvider): Regressions {
  const { log } = host;
  const regressionsProvider = new RegressionsTreeProvider();
  const syncBaselineContext = () => vscode.commands.executeCommand('setContext', 'umdLens.hasBaseline', baseline.get() !== undefined);
  void syncBaselineContext();
  const runInfo = (dir: string): RunInfo | undefined => runsProvider.runs().find((r): r is RunInfo => !('error' in r) && r.dir === dir);

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
      const done = await host.engine.run({ type: 'compare', runDir: run, baselineDir: base }, { onOutput: (l) => log.info(`engine: ${l}`) });
      const comparison = done.result?.comparison;
      if (!comparison) throw new Error('the engine returned no comparison');
      const protocolOf = (dir: string) => { const m = runInfo(dir)?.manifest; return m && protocolLabel(m); };
      regressionsProvider.show({ runDir: run, baselineDir: base, comparison, protocols: { run: protocolOf(run), baseline: protocolOf(base) } });
      const regressed = comparison.cells.filter((c) => c.metric === 'dice' && c.class === 'regression');
      log.info(`compared ${run} with baseline ${base}: ${regressed.length} regression(s)${regressed.length ? `: ${regressed.map((c) => `${c.organ} ${c.modality}`).join(', ')}` : ''}`);
      return comparison;
    } catch (e) {
      const msg = (e as Error).message;
      log.error(`comparison failed: ${msg}`);
      regressionsProvider.show(undefined, { label: `comparison failed: ${msg}`, icon: 'error' });
      return undefined;
    }
  };

  host.context.subscriptions.push(
    regressionsProvider,
    vscode.window.createTreeView('umdLens.regressions', { treeDataProvider: regressionsProvider }),
    ...registerRegressionsViewCommands(regressionsProvider),
    vscode.commands.registerCommand('umdLens.setBaseline', async (node?: RunsNode | string) => {
      const dir = runDirOf(node);
      if (!dir) return;
      await baseline.set(dir);
      await syncBaselineContext();
      runsProvider.refresh();
      log.info(`baseline: ${dir}`);
      regressionsProvider.show(undefined);
      await compareWithBaseline();
    }),
    vscode.commands.registerCommand('umdLens.clearBaseline', async () => {
      await baseline.set(undefined);
      await syncBaselineContext();
      runsProvider.refresh();
      regressionsProvider.show(undefined);
    }),
    vscode.commands.registerCommand('umdLens.compareWithBaseline', (node?: RunsNode | string) => compareWithBaseline(runDirOf(node))),
    vscode.commands.registerCommand('umdLens.refreshRegressions', () => compareWithBaseline()),
  );
  return { regressionsProvider, compareWithBaseline, syncBaselineContext };
}
