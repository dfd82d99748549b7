/** Settings of UMD Lens and the folders they resolve to. */
import * as path from 'node:path';
import * as vscode from 'vscode';

export const SECTION = 'umdLens';

/** `<workspace>/.umd/runs` by default; absolute settings are used as they are. */
export function runsRoot(context: vscode.ExtensionContext): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const setting = vscode.workspace.getConfiguration(SECTION, folder?.uri).get<string>('runsDirectory') || '.umd/runs';
  if (path.isAbsolute(setting)) return setting;
  return folder ? path.join(folder.uri.fsPath, setting) : path.join(context.globalStorageUri.fsPath, 'runs');
}

/** The configured dataset root, or undefined for the generated UMD-mini dataset. */
export function configuredDataset(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const p = vscode.workspace.getConfiguration(SECTION, folder?.uri).get<string>('datasetPath')?.trim();
  if (!p) return undefined;
  return path.isAbsolute(p) || !folder ? p : path.join(folder.uri.fsPath, p);
}

export function miniDatasetDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'umd-mini');
}
