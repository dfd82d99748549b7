/**
 * The failure-case viewer: a WebviewPanel running dist/webview/viewer.js (NiiVue). Volumes are read by the
 * webview through `asWebviewUri` (no base64 through postMessage); `localResourceRoots` is limited to the
 * dataset root, the run directory and the extension's dist/ and media/.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CaseRecord } from '../../core/runstore/schema';
import { caseFiles, fmtDice, readRunInfo, runOrgans } from '../runs/runReader';
import { newNonce, renderViewerHtml } from './html';
import type { LoadCaseMessage, RenderedMessage, ViewerToHostMessage } from './messages';
import { validateViewerMessage } from './validateMessage';

export class CaseViewerPanel implements vscode.Disposable {
  static readonly viewType = 'umdLens.caseViewer';
  private static current: CaseViewerPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private message: LoadCaseMessage | undefined;
  private readonly renderedEmitter = new vscode.EventEmitter<RenderedMessage>();
  private readonly errorEmitter = new vscode.EventEmitter<string>();
  /** Fires when the webview has drawn the case (used by tests and for logging). */
  readonly onDidRender = this.renderedEmitter.event;
  readonly onDidFail = this.errorEmitter.event;
  private disposed = false;

  /** Shows a case, reusing the open panel when its resource roots allow. */
  static show(extensionUri: vscode.Uri, runDir: string, record: CaseRecord, log?: vscode.LogOutputChannel): CaseViewerPanel {
    const run = readRunInfo(runDir);
    const files = caseFiles(run, record);
    const roots = [vscode.Uri.file(files.datasetRoot), vscode.Uri.file(run.dir), vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
    const cur = CaseViewerPanel.current;
    const key = roots.map((r) => r.fsPath).join('\n');
    let panel: CaseViewerPanel;
    if (cur && !cur.disposed && cur.rootsKey === key) {
      panel = cur;
      panel.panel.reveal(undefined, false);
    } else {
      cur?.dispose();
      const wp = vscode.window.createWebviewPanel(CaseViewerPanel.viewType, 'UMD Lens case', vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: roots,
      });
      panel = new CaseViewerPanel(wp, extensionUri, key, log);
      CaseViewerPanel.current = panel;
    }
    const wv = panel.panel.webview;
    const organs = runOrgans(run);
    const organId = record.labelId ?? organs.find((o) => o.name === record.organ)?.id ?? 0;
    const uri = (p: string) => wv.asWebviewUri(vscode.Uri.file(p)).toString();
    const caseId = `${record.study}_${record.subject}_${record.modality}`;
    panel.panel.title = `${record.organ ?? 'case'} · ${record.subject} ${record.modality}`;
    panel.message = {
      type: 'load',
      caseId,
      title: `${record.organ ?? 'all organs'} · ${record.subject} · ${record.study} ${record.modality}`,
      subtitle: `Dice ${fmtDice(record.dice)}${typeof record.nsd === 'number' ? ` · NSD ${fmtDice(record.nsd)} at ${record.tau_mm} mm` : ''}${typeof record.hd95 === 'number' ? ` · HD95 ${record.hd95.toFixed(1)} mm` : ''} (${record.status}) · ${run.manifest.model?.name ?? path.basename(run.dir)}`,
      image: { url: uri(files.image), name: path.basename(files.image) },
      labels: { url: uri(files.labels), name: `${record.study}/${record.subject}/${path.basename(files.labels)}` },
      pred: files.pred ? { url: uri(files.pred), name: path.basename(files.pred) } : undefined,
      organs,
      organId,
    };
    log?.info(`viewer: ${caseId} ${record.organ} (image ${files.image}, labels ${files.labels}, pred ${files.pred ?? 'missing'})`);
    panel.post();
    return panel;
  }

  private constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly rootsKey: string, private readonly log?: vscode.LogOutputChannel) {
    const wv = panel.webview;
    wv.html = renderViewerHtml({
      cspSource: wv.cspSource,
      nonce: newNonce(),
      scriptUri: wv.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'viewer.js')).toString(),
      styleUri: wv.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'viewer.css')).toString(),
    });
    this.disposables.push(
      wv.onDidReceiveMessage((raw: unknown) => {
        const m = validateViewerMessage(raw);
        if (m) this.onMessage(m);
        else this.log?.warn(`viewer: ignored a malformed message: ${JSON.stringify(raw)?.slice(0, 200)}`);
      }),
      panel.onDidDispose(() => this.dispose()),
      this.renderedEmitter, this.errorEmitter,
    );
  }

  private ready = false;

  private post(): void {
    if (this.ready && this.message) void this.panel.webview.postMessage(this.message);
  }

  private onMessage(m: ViewerToHostMessage): void {
    switch (m.type) {
      case 'ready':
        // first load, or the webview was reloaded (e.g. after being hidden): send the case again
        this.ready = true;
        this.post();
        break;
      case 'rendered':
        this.log?.info(`viewer rendered ${m.caseId}: ${m.volumes} volumes, organ ${m.organId} (GT ${m.voxels.gt} / pred ${m.voxels.pred} voxels)`);
        this.renderedEmitter.fire(m);
        break;
      case 'organ':
        break;
      case 'error':
        this.log?.error(`viewer: ${m.message}`);
        void vscode.window.showErrorMessage(`UMD Lens viewer: ${m.message}`);
        this.errorEmitter.fire(m.message);
        break;
    }
  }

  /** Resolves with the next 'rendered' message (rejects on a viewer error or timeout). */
  whenRendered(timeoutMs = 120000): Promise<RenderedMessage> {
    return new Promise((resolve, reject) => {
      const subs: vscode.Disposable[] = [];
      const timer = setTimeout(() => { subs.forEach((s) => s.dispose()); reject(new Error('viewer did not render in time')); }, timeoutMs);
      const end = () => { clearTimeout(timer); subs.forEach((s) => s.dispose()); };
      subs.push(this.onDidRender((r) => { end(); resolve(r); }), this.onDidFail((e) => { end(); reject(new Error(e)); }));
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (CaseViewerPanel.current === this) CaseViewerPanel.current = undefined;
    this.panel.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
