/** The failure-case viewer: the commands that open a case (alone or beside its paired modality) and the panel serializer. */
import * as vscode from 'vscode';
import type { CaseRecord } from '../../core/runstore/schema';
import type { LensHost } from '../host';
import { OPEN_CASE_COMMAND, OPEN_PAIRED_CASE_COMMAND, type RunsNode } from '../runs/runsTree';
import { CaseViewerPanel, registerCaseViewerSerializer } from './viewerPanel';

export interface Viewer {
  openCase(runDir: string, record: CaseRecord): CaseViewerPanel;
  openPairedCase(runDir: string, record: CaseRecord): CaseViewerPanel;
}

export function registerViewer(host: LensHost): Viewer {
  const { context, log } = host;
  const openCase = (runDir: string, record: CaseRecord) => CaseViewerPanel.show(context.extensionUri, runDir, record, log);
  const openPairedCase = (runDir: string, record: CaseRecord) => CaseViewerPanel.show(context.extensionUri, runDir, record, log, true);
  context.subscriptions.push(
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
  );
  return { openCase, openPairedCase };
}
