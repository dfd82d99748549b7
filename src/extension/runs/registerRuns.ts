/** The Runs view: its tree, refreshed when runs appear or change under the runs root, and its refresh command. */
import * as vscode from 'vscode';
import type { LensHost } from '../host';
import { RunsTreeProvider } from './runsTree';

export function registerRuns(host: LensHost, baseline: () => string | undefined): RunsTreeProvider {
  const runsProvider = new RunsTreeProvider(() => host.runsRoot(), host.log, baseline);

  // debounced: cases.jsonl grows line by line
  let timer: NodeJS.Timeout | undefined;
  const poke = () => { clearTimeout(timer); timer = setTimeout(() => runsProvider.refresh(), 500); };
  const watchRoot = () => {
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(host.runsRoot()), '*/{run.json,cases.jsonl}'));
    w.onDidCreate(poke); w.onDidChange(poke); w.onDidDelete(poke);
    return w;
  };
  let watcher = watchRoot();

  host.context.subscriptions.push(
    runsProvider, { dispose: () => { clearTimeout(timer); watcher.dispose(); } },
    vscode.window.createTreeView('umdLens.runs', { treeDataProvider: runsProvider, showCollapseAll: true }),
    vscode.commands.registerCommand('umdLens.refreshRuns', () => runsProvider.refresh()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('umdLens.runsDirectory')) {
        watcher.dispose();
        watcher = watchRoot();
        runsProvider.refresh();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => runsProvider.refresh()),
  );
  return runsProvider;
}
