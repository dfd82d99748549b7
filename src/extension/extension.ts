/**
 * UMD Lens extension entry point. Activation stays light: the tree reads run files, models run in the
 * engine process (dist/engine.js) started on demand, the viewer is a webview.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CaseRecord } from '../core/runstore/schema';
import { runsRoot } from './config';
import { Evaluator, pickModel } from './evaluate';
import { OPEN_CASE_COMMAND, RunsTreeProvider } from './runs/runsTree';
import { CaseViewerPanel } from './viewer/viewerPanel';

export interface UmdLensApi {
  /** Evaluates a checkpoint; resolves with the run directory (undefined when cancelled). */
  evaluate(modelPath: string, datasetPath?: string): Promise<string | undefined>;
  runsProvider: RunsTreeProvider;
  runsRoot(): string;
  /** Opens the failure-case viewer on one case record. */
  openCase(runDir: string, record: CaseRecord): CaseViewerPanel;
}

export function activate(context: vscode.ExtensionContext): UmdLensApi {
  const log = vscode.window.createOutputChannel('UMD Lens', { log: true });
  const runsProvider = new RunsTreeProvider(() => runsRoot(context), log);
  const evaluator = new Evaluator({ context, log, onRunFinished: () => runsProvider.refresh() });
  const openCase = (runDir: string, record: CaseRecord) => CaseViewerPanel.show(context.extensionUri, runDir, record, log);

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
    log, runsProvider, { dispose: () => { clearTimeout(timer); watcher.dispose(); } },
    vscode.window.createTreeView('umdLens.runs', { treeDataProvider: runsProvider, showCollapseAll: true }),
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
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('umdLens.runsDirectory')) {
        watcher.dispose();
        watcher = watchRoot();
        runsProvider.refresh();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => runsProvider.refresh()),
  );
  log.info(`UMD Lens activated (runs root ${runsRoot(context)})`);
  return {
    evaluate: (modelPath, datasetPath) => evaluator.evaluate(modelPath, datasetPath),
    runsProvider,
    runsRoot: () => runsRoot(context),
    openCase,
  };
}

export function deactivate(): void {}
