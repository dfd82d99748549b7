/** Watch mode: a checkpoint matching the watch glob is evaluated on a subset when it changes, then the gates checked. */
import type * as vscode from 'vscode';
import type { LensHost } from '../host';
import { WatchMode } from './watchMode';

export interface WatchDeps {
  /** The dataset to evaluate on when none is configured (the generated UMD-mini). */
  ensureDataset: (token?: vscode.CancellationToken) => Promise<string>;
  refreshRuns: () => void;
  /** Checks the workspace's gates against a run; resolves with how many failed. */
  failingGates: (runDir: string) => Promise<number>;
}

export function registerWatch(host: LensHost, deps: WatchDeps): WatchMode {
  const watch = new WatchMode({
    engine: host.engine, runsRoot: host.runsRoot, ensureDataset: deps.ensureDataset, log: host.log,
    onRun: async (runDir) => {
      deps.refreshRuns();
      return { failingGates: await deps.failingGates(runDir) };
    },
  });
  host.context.subscriptions.push(watch);
  return watch;
}
