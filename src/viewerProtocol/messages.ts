/**
 * Messages between the failure-case panel (extension host, src/extension/viewer/viewerPanel.ts) and its webview
 * (src/webview/viewer.ts). Types only. In a folder of its own so that the webview, a browser bundle, imports the
 * contract without importing the extension; the host checks what it receives in extension/viewer/validateMessage.ts.
 *
 * Flow (DVC style): the webview posts `ready` once its script runs; the panel answers with `load`
 * (again after every reload of the webview); the webview posts `rendered` once the volumes are drawn.
 * The paired view (`paired` toggle) asks the panel for the same case with the other modality added.
 */

export interface OrganOption {
  id: number;
  name: string;
}

export interface VolumeRef { url: string; name: string }

/** Which run record a view shows: lets the panel serializer find it again after a reload. */
export interface CaseRef {
  runDir: string;
  study: string;
  subject: string;
  modality: string;
  organ: string | null;
}

/** The other modality of the same subject and study, shown side by side with linked crosshairs. */
export interface PairedScan {
  caseId: string;
  modality: string;
  subtitle: string;
  image: VolumeRef;
  labels: VolumeRef;
  pred?: VolumeRef;
}

/** Panel -> webview: show one case. URLs come from `webview.asWebviewUri`. */
export interface LoadCaseMessage {
  type: 'load';
  caseId: string;
  title: string;
  subtitle: string;
  /** Modality of the main scan (pane title in the paired view). */
  modality?: string;
  image: VolumeRef;
  labels: VolumeRef;
  pred?: VolumeRef;
  organs: OrganOption[];
  /** Organ to highlight (dataset label id); 0 shows every organ. */
  organId: number;
  /** Present in the paired view: the other scan, or why there is none. */
  paired?: PairedScan | { missing: string };
  ref?: CaseRef;
}

export type HostToViewerMessage = LoadCaseMessage;

/** Webview -> panel: the volumes of `caseId` were loaded and drawn. */
export interface RenderedMessage {
  type: 'rendered';
  caseId: string;
  organId: number;
  volumes: number;
  /** Voxels of the highlighted organ in the ground truth and the prediction. */
  voxels: { gt: number; pred: number };
  canvas: { width: number; height: number };
  /** Canvases drawn: 2 in the paired view with the other scan present. */
  panes?: number;
}

export type ViewerToHostMessage =
  | { type: 'ready' }
  | RenderedMessage
  | { type: 'organ'; caseId: string; organId: number }
  | { type: 'paired'; caseId: string; paired: boolean }
  | { type: 'error'; caseId?: string; message: string };
