/**
 * Commands on a run of the Runs view: delete it (after a modal confirmation; only a run directory directly under
 * the runs root is ever removed) and reveal it (in the Explorer when it lies in the workspace, else in the OS).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BaselineStore } from '../regressions/baseline';
import type { RegressionsTreeProvider } from '../regressions/regressionsTree';
import type { RunsNode, RunsTreeProvider } from './runsTree';

export interface RunCommandDeps {
  runsProvider: RunsTreeProvider;
  regressionsProvider: RegressionsTreeProvider;
  baseline: BaselineStore;
  runsRoot: () => string;
  log: vscode.LogOutputChannel;
  onBaselineCleared: () => unknown;
}

const dirOf = (node?: RunsNode | string) =>
  typeof node === 'string' ? node : node?.kind === 'run' ? node.run.dir : node?.kind === 'error' ? node.dir : undefined;

/** A run directory the extension may delete: an immediate child of the runs root holding a run.json. */
export function deletableRunDir(runsRoot: string, dir: string): string | undefined {
  const resolved = path.resolve(dir);
  if (path.dirname(resolved) !== path.resolve(runsRoot)) return undefined;
  return fs.existsSync(path.join(resolved, 'run.json')) ? resolved : undefined;
}

export function registerRunCommands(d: RunCommandDeps): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('umdLens.deleteRun', async (node?: RunsNode | string) => {
      const given = dirOf(node);
      if (!given) return false;
      const dir = deletableRunDir(d.runsRoot(), given);
      if (!dir) {
        void vscode.window.showErrorMessage(`UMD Lens: ${given} is not a run of this workspace's runs directory; nothing deleted.`);
        return false;
      }
      const isBaseline = d.baseline.get() === dir;
      const answer = await vscode.window.showWarningMessage(
        `Delete the run ${path.basename(dir)}?`,
        { modal: true, detail: `${dir}\\n\\nIts scores and kept predictions are removed from disk.${isBaseline ? ' It is the baseline: the baseline is cleared.' : ''}` },
        'Delete');
      if (answer !== 'Delete') return false;
      fs.rmSync(dir, { recursive: true, force: true });
      d.log.info(`deleted run ${dir}`);
      if (isBaseline) {
        await d.baseline.set(undefined);
        await d.onBaselineCleared();
        d.regressionsProvider.show(undefined);
      } else if (d.regressionsProvider.current()?.runDir === dir) d.regressionsProvider.show(undefined);
      d.runsProvider.refresh();
      return true;
    }),
    vscode.commands.registerCommand('umdLens.revealRun', async (node?: RunsNode | string) => {
      const dir = dirOf(node);
      if (!dir) return;
      const uri = vscode.Uri.file(path.join(dir, 'run.json'));
      const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
      await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
    }),
  ];
}
