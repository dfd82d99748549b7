/**
 * Messages between the failure-case panel (extension host) and its webview (src/webview/viewer.ts).
 * Types only: the webview bundle imports this file for type checking, nothing else.
 *
 * Flow (DVC style): the webview posts `ready` once its script runs; the panel answers with `load`
 * (again after every reload of the webview); the webview posts `rendered` once the volumes are drawn.
 */

export interface OrganOption {
  id: number;
  name: string;
}

/** Panel -> webview: show one case. URLs come from `webview.asWebviewUri`. */
export interface LoadCaseMessage {
  type: 'load';
  caseId: string;
  title: string;
  subtitle: string;
  image: { url: string; name: string };
  labels: { url: string; name: string };
  pred?: { url: string; name: string };
  organs: OrganOption[];
  /** Organ to highlight (dataset label id); 0 shows every organ. */
  organId: number;
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
}

export type ViewerToHostMessage =
  | { type: 'ready' }
  | RenderedMessage
  | { type: 'organ'; caseId: string; organId: number }
  | { type: 'error'; caseId?: string; message: string };
