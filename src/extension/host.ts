/**
 * What every feature's registration needs from activation: the extension context, the log, the runs root, where
 * the engine bundle lies, and the one Workspace Trust check that guards every command that runs a model.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runsRoot } from './config';
import { EngineClient } from './engineClient';

export interface LensHost {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  /** The engine process (dist/engine.js): models and analyses run there, never in the extension host. */
  engine: EngineClient;
  runsRoot(): string;
}

export function createHost(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): LensHost {
  const engine = new EngineClient(path.join(context.extensionPath, 'dist', 'engine.js'));
  context.subscriptions.push(engine);
  return { context, log, engine, runsRoot: () => runsRoot(context) };
}

const UNTRUSTED = 'UMD Lens evaluates models only in trusted workspaces.';

/** False (after a warning) in Restricted Mode: a checkpoint and its card are code the workspace chose to run. */
export function ensureTrusted(opts: { offerManage?: boolean } = {}): boolean {
  if (vscode.workspace.isTrusted) return true;
  if (opts.offerManage) {
    void vscode.window.showWarningMessage(UNTRUSTED, 'Manage Workspace Trust')
      .then((a) => a && vscode.commands.executeCommand('workbench.trust.manage'));
  } else {
    void vscode.window.showWarningMessage(UNTRUSTED);
  }
  return false;
}
