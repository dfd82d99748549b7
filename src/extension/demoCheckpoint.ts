/**
 * "Copy a Demo Checkpoint into the Workspace": the walkthrough's first step in a workspace without a checkpoint.
 * The demo checkpoints ship in the extension's models/ folder, which users cannot reach from the Explorer; the
 * command copies one, with its model card, into `<workspace>/models/` and reveals it, ready for Evaluate on UMD.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

export const COPY_DEMO_COMMAND = 'umdLens.copyDemoCheckpoint';

/** The checkpoints in `<extension>/models` with the one-line description of their card, if it has one. */
async function demoCheckpoints(extensionUri: vscode.Uri): Promise<{ name: string; description?: string }[]> {
  const dir = vscode.Uri.joinPath(extensionUri, 'models');
  const entries = await vscode.workspace.fs.readDirectory(dir);
  const names = entries.filter(([n, t]) => t === vscode.FileType.File && n.endsWith('.onnx')).map(([n]) => n).sort();
  return Promise.all(names.map(async (name) => {
    try {
      const card = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, name.replace(/\.onnx$/, '.umd.json')))));
      return { name, description: typeof card.description === 'string' ? card.description : undefined };
    } catch {
      return { name };
    }
  }));
}

const exists = (uri: vscode.Uri) => vscode.workspace.fs.stat(uri).then(() => true, () => false);

/** Registers the command; it resolves with the copied checkpoint's path (undefined when cancelled or impossible). */
export function registerCopyDemoCheckpoint(extensionUri: vscode.Uri): vscode.Disposable {
  return vscode.commands.registerCommand(COPY_DEMO_COMMAND, async (name?: string): Promise<string | undefined> => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void vscode.window.showWarningMessage('UMD Lens: open a folder first: the demo checkpoint is copied into its models/ folder.');
      return undefined;
    }
    const demos = await demoCheckpoints(extensionUri);
    const pick = typeof name === 'string' ? demos.find((d) => d.name === name) : await vscode.window.showQuickPick(
      demos.map((d) => ({ label: d.name, detail: d.description, name: d.name })),
      { title: 'UMD Lens: Copy a Demo Checkpoint into the Workspace', placeHolder: 'Demo checkpoint (copied with its model card)', matchOnDetail: true });
    if (!pick) {
      if (typeof name === 'string') void vscode.window.showErrorMessage(`UMD Lens: no demo checkpoint ${name} (there are: ${demos.map((d) => d.name).join(', ')}).`);
      return undefined;
    }
    const src = vscode.Uri.joinPath(extensionUri, 'models');
    const dest = vscode.Uri.joinPath(folder.uri, 'models');
    const files = [pick.name, pick.name.replace(/\.onnx$/, '.umd.json')];
    await vscode.workspace.fs.createDirectory(dest);
    for (const f of files) {
      // an existing file is the user's: kept, never overwritten
      if (await exists(vscode.Uri.joinPath(src, f)) && !(await exists(vscode.Uri.joinPath(dest, f)))) {
        await vscode.workspace.fs.copy(vscode.Uri.joinPath(src, f), vscode.Uri.joinPath(dest, f));
      }
    }
    const model = vscode.Uri.joinPath(dest, pick.name);
    await vscode.commands.executeCommand('revealInExplorer', model);
    void vscode.window.showInformationMessage(`UMD Lens: ${path.posix.join('models', pick.name)} is in the workspace: right-click it and choose Evaluate on UMD.`);
    return model.fsPath;
  });
}
