/**
 * The failure-case viewer: a WebviewPanel running dist/webview/viewer.js (NiiVue). Volumes are read by the
 * webview through `asWebviewUri` (no base64 through postMessage); `localResourceRoots` is limited to the
 * dataset root, the run directory and the extension's dist/ and media/.
 *
 * No `retainContextWhenHidden`: the webview keeps its own state (`vscode.setState`) and restores it when it is
 * shown again; `CaseViewerSerializer` brings the panel back after a window reload.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import type { CaseRecord } from '../../core/runstore/schema';
import { caseFiles, fmtDice, readRunInfo, runOrgans, type RunInfo } from '../runs/runReader';
import { newNonce, renderViewerHtml } from './html';
import type { CaseRef, LoadCaseMessage, RenderedMessage, ViewerToHostMessage } from '../../viewerProtocol/messages';
import { findPairedRecord, leftFirst } from './pairedCase';
import { validateSavedCase, validateViewerMessage } from './validateMessage';

const caseIdOf = (r: CaseRecord) => `${r.study}_${r.subject}_${r.modality}`;

function subtitleOf(run: RunInfo, r: CaseRecord): string {
  return `Dice ${fmtDice(r.dice)}${typeof r.nsd === 'number' ? ` · NSD ${fmtDice(r.nsd)} at ${r.tau_mm} mm` : ''}` +
    `${typeof r.hd95 === 'number' ? ` · HD95 ${r.hd95.toFixed(1)} mm` : ''} (${r.status}) · ${run.manifest.model?.name ?? path.basename(run.dir)}`;
}

function resourceRoots(extensionUri: vscode.Uri, run: RunInfo, record: CaseRecord): vscode.Uri[] {
  const { datasetRoot } = caseFiles(run, record);
  return [vscode.Uri.file(datasetRoot), vscode.Uri.file(run.dir), vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export class CaseViewerPanel extends Disposable {
  static readonly viewType = 'umdLens.caseViewer';
  private static current: CaseViewerPanel | undefined;

  private message: LoadCaseMessage | undefined;
  private shown: { run: RunInfo; record: CaseRecord; paired: boolean } | undefined;
  private readonly renderedEmitter = this.register(new vscode.EventEmitter<RenderedMessage>());
  private readonly errorEmitter = this.register(new vscode.EventEmitter<string>());
  /** Fires when the webview has drawn the case (used by tests and for logging). */
  readonly onDidRender = this.renderedEmitter.event;
  readonly onDidFail = this.errorEmitter.event;
  private ready = false;

  /** Shows a case (paired: beside the other modality's scan), reusing the open panel when its resource roots allow. */
  static show(extensionUri: vscode.Uri, runDir: string, record: CaseRecord, log?: vscode.LogOutputChannel, paired = false): CaseViewerPanel {
    const run = readRunInfo(runDir);
    const roots = resourceRoots(extensionUri, run, record);
    const cur = CaseViewerPanel.current;
    const key = roots.map((r) => r.fsPath).join('\n');
    let panel: CaseViewerPanel;
    if (cur && !cur.isDisposed && cur.rootsKey === key) {
      panel = cur;
      panel.panel.reveal(undefined, false);
    } else {
      cur?.dispose();
      const wp = vscode.window.createWebviewPanel(CaseViewerPanel.viewType, 'UMD Lens case', vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: roots,
      });
      panel = new CaseViewerPanel(wp, extensionUri, key, log);
    }
    panel.showCase(run, record, paired);
    return panel;
  }

  /** After a window reload: the panel VS Code restored, and the state its webview saved. */
  static revive(wp: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, log?: vscode.LogOutputChannel): CaseViewerPanel | undefined {
    const saved = validateSavedCase(state);
    const found = saved && CaseViewerPanel.lookUp(saved.ref, log);
    if (!saved || !found) {
      log?.warn(`viewer: a restored panel's case is no longer available (${saved ? saved.ref.runDir : 'no saved case'})`);
      wp.dispose();
      return undefined;
    }
    const roots = resourceRoots(extensionUri, found.run, found.record);
    wp.webview.options = { enableScripts: true, localResourceRoots: roots };
    CaseViewerPanel.current?.dispose();
    const panel = new CaseViewerPanel(wp, extensionUri, roots.map((r) => r.fsPath).join('\n'), log);
    panel.showCase(found.run, found.record, saved.paired);
    return panel;
  }

  private static lookUp(ref: CaseRef, log?: vscode.LogOutputChannel): { run: RunInfo; record: CaseRecord } | undefined {
    try {
      const run = readRunInfo(ref.runDir);
      const record = run.records.find((r) => r.study === ref.study && r.subject === ref.subject && r.modality === ref.modality && r.organ === ref.organ);
      return record ? { run, record } : undefined;
    } catch (e) {
      log?.warn(`viewer: cannot read ${ref.runDir}: ${(e as Error).message}`);
      return undefined;
    }
  }

  private constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly rootsKey: string, private readonly log?: vscode.LogOutputChannel) {
    super();
    CaseViewerPanel.current = this;
    const wv = panel.webview;
    wv.html = renderViewerHtml({
      cspSource: wv.cspSource,
      nonce: newNonce(),
      scriptUri: wv.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'viewer.js')).toString(),
      styleUri: wv.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'viewer.css')).toString(),
    });
    this.register(wv.onDidReceiveMessage((raw: unknown) => {
      const m = validateViewerMessage(raw);
      if (m) this.onMessage(m);
      else this.log?.warn(`viewer: ignored a malformed message: ${JSON.stringify(raw)?.slice(0, 200)}`);
    }));
    this.register(panel.onDidDispose(() => this.dispose()));
  }

  private showCase(run: RunInfo, record: CaseRecord, paired: boolean): void {
    const wv = this.panel.webview;
    const uri = (p: string) => wv.asWebviewUri(vscode.Uri.file(p)).toString();
    const organs = runOrgans(run);
    const organId = record.labelId ?? organs.find((o) => o.name === record.organ)?.id ?? 0;
    const scan = (r: CaseRecord) => {
      const files = caseFiles(run, r);
      return {
        caseId: caseIdOf(r),
        modality: r.modality,
        subtitle: subtitleOf(run, r),
        image: { url: uri(files.image), name: path.basename(files.image) },
        labels: { url: uri(files.labels), name: `${r.study}/${r.subject}/${path.basename(files.labels)}` },
        pred: files.pred ? { url: uri(files.pred), name: path.basename(files.pred) } : undefined,
      };
    };
    let main = record;
    let other: LoadCaseMessage['paired'];
    if (paired) {
      const found = findPairedRecord(run.records, record);
      if ('record' in found) {
        [main] = leftFirst(record, found.record);
        other = scan(main === record ? found.record : record);
      } else {
        other = { missing: found.missing };
      }
    }
    const m = scan(main);
    this.panel.title = `${record.organ ?? 'case'} · ${record.subject} ${paired ? record.study : record.modality}`;
    this.message = {
      type: 'load',
      caseId: m.caseId,
      title: `${record.organ ?? 'all organs'} · ${record.subject} · ${record.study} ${paired ? 'paired' : record.modality}`,
      subtitle: m.subtitle,
      modality: m.modality,
      image: m.image,
      labels: m.labels,
      pred: m.pred,
      organs,
      organId,
      ...(other ? { paired: other } : {}),
      ref: { runDir: run.dir, study: record.study, subject: record.subject, modality: record.modality, organ: record.organ },
    };
    this.shown = { run, record, paired };
    this.log?.info(`viewer: ${m.caseId} ${record.organ}${paired ? ` paired with ${other && 'caseId' in other ? other.caseId : 'nothing (missing)'}` : ''} (image ${m.image.url})`);
    this.post();
  }

  private post(): void {
    if (this.ready && this.message) void this.panel.webview.postMessage(this.message);
  }

  private onMessage(m: ViewerToHostMessage): void {
    switch (m.type) {
      case 'ready':
        // first load, or the webview was re-created (shown again, or restored): send the case again
        this.ready = true;
        this.post();
        break;
      case 'rendered':
        this.log?.info(`viewer rendered ${m.caseId}: ${m.volumes} volumes in ${m.panes ?? 1} pane(s), organ ${m.organId} (GT ${m.voxels.gt} / pred ${m.voxels.pred} voxels)`);
        this.renderedEmitter.fire(m);
        break;
      case 'organ':
        // kept so that a re-created webview is sent the organ the user chose
        if (this.message && m.caseId === this.message.caseId && this.message.organs.some((o) => o.id === m.organId)) this.message.organId = m.organId;
        break;
      case 'paired':
        if (this.shown && this.shown.paired !== m.paired) this.showCase(this.shown.run, this.shown.record, m.paired);
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

  override dispose(): void {
    if (this.isDisposed) return;
    if (CaseViewerPanel.current === this) CaseViewerPanel.current = undefined;
    super.dispose();
    this.panel.dispose();
  }
}

/** Restores the viewer after a window reload (activation event `onWebviewPanel:umdLens.caseViewer`). */
export function registerCaseViewerSerializer(extensionUri: vscode.Uri, log?: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(CaseViewerPanel.viewType, {
    async deserializeWebviewPanel(panel, state) {
      CaseViewerPanel.revive(panel, extensionUri, state, log);
    },
  });
}
