/**
 * UMD Lens failure-case viewer (runs inside the webview; bundled to dist/webview/viewer.js as an IIFE).
 * Shows the case image with the study's ground truth (green) and the model's prediction (red) as NiiVue
 * overlays; the selected organ is isolated so a failure is obvious. Fed by postMessage from the panel.
 */
import { Niivue, SLICE_TYPE, type NVImage } from '@niivue/niivue';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { HostToViewerMessage, LoadCaseMessage, ViewerToHostMessage } from '../extension/viewer/messages';

interface VsCodeApi {
  postMessage(msg: ViewerToHostMessage): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: ViewerToHostMessage) => vscode.postMessage(m);

const GT_COLORMAP = 'green';
const PRED_COLORMAP = 'red';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const titleEl = $('title');
const metaEl = $('meta');
const statusEl = $('status');
const organEl = $<HTMLElement & { value: string }>('organ');
const showGtEl = $<HTMLElement & { checked: boolean }>('showGt');
const showPredEl = $<HTMLElement & { checked: boolean }>('showPred');
const opacityEl = $<HTMLInputElement>('opacity');

let nv: Niivue | undefined;
let attached: Promise<unknown> | undefined;
let current: LoadCaseMessage | undefined;
let loadSeq = 0;
/** Original label volumes (ground truth, prediction); the displayed ones are binary masks of the organ. */
let raw: { gt?: ArrayLike<number>; pred?: ArrayLike<number> } = {};

function setStatus(text: string, error = false): void {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', error);
}

function viewer(): Niivue {
  if (!nv) {
    nv = new Niivue({
      backColor: [0, 0, 0, 1],
      show3Dcrosshair: false,
      crosshairColor: [1, 1, 0, 0.6],
      isColorbar: false,
      dragAndDropEnabled: false,
      loadingText: 'loading…',
      isResizeCanvas: true,
    });
  }
  return nv;
}

function overlayOpacity(): number {
  return Number(opacityEl.value) / 100;
}

/** Writes the organ mask (1 inside, 0 outside) of `src` into `vol`; returns the voxel count. */
function applyMask(vol: NVImage, src: ArrayLike<number>, organId: number): number {
  const img = vol.img as unknown as { [i: number]: number; length: number };
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    const on = organId === 0 ? v > 0 : Math.round(v) === organId;
    img[i] = on ? 1 : 0;
    if (on) n++;
  }
  vol.cal_min = 0;
  vol.cal_max = 1;
  return n;
}

/** World position (mm) of the centroid of a mask, through the volume's affine. */
function centroidMm(vol: NVImage): [number, number, number] | undefined {
  const dims = vol.hdr?.dims;
  const img = vol.img as unknown as ArrayLike<number>;
  const A = vol.hdr?.affine;
  if (!dims || !A || !img) return undefined;
  const [nx, ny] = [dims[1], dims[2]];
  let si = 0, sj = 0, sk = 0, n = 0;
  for (let idx = 0; idx < img.length; idx++) {
    if (img[idx] !== 1) continue;
    const i = idx % nx;
    const j = Math.floor(idx / nx) % ny;
    const k = Math.floor(idx / (nx * ny));
    si += i; sj += j; sk += k; n++;
  }
  if (!n) return undefined;
  const [i, j, k] = [si / n, sj / n, sk / n];
  return [0, 1, 2].map((r) => A[r][0] * i + A[r][1] * j + A[r][2] * k + A[r][3]) as [number, number, number];
}

function selectOrgan(organId: number, notify: boolean): { gt: number; pred: number } {
  const v = viewer();
  const [, gtVol, predVol] = v.volumes;
  const voxels = { gt: 0, pred: 0 };
  if (gtVol && raw.gt) voxels.gt = applyMask(gtVol, raw.gt, organId);
  if (predVol && raw.pred) voxels.pred = applyMask(predVol, raw.pred, organId);
  const focus = (voxels.gt && gtVol && centroidMm(gtVol)) || (voxels.pred && predVol && centroidMm(predVol)) || undefined;
  if (focus) v.scene.crosshairPos = v.mm2frac(focus);
  applyVisibility();
  v.updateGLVolume();
  const name = current?.organs.find((o) => o.id === organId)?.name ?? 'all organs';
  setStatus(`${name}: ground truth ${voxels.gt} voxels, prediction ${raw.pred ? voxels.pred + ' voxels' : 'not available'}`);
  if (notify && current) post({ type: 'organ', caseId: current.caseId, organId });
  return voxels;
}

function applyVisibility(): void {
  const v = viewer();
  const o = overlayOpacity();
  if (v.volumes[1]) v.setOpacity(1, showGtEl.checked ? o : 0);
  if (v.volumes[2]) v.setOpacity(2, showPredEl.checked ? o : 0);
}

function fillOrganSelect(msg: LoadCaseMessage): void {
  organEl.replaceChildren();
  const all = document.createElement('vscode-option');
  all.setAttribute('value', '0');
  all.textContent = 'All organs';
  organEl.appendChild(all);
  for (const o of msg.organs) {
    const opt = document.createElement('vscode-option');
    opt.setAttribute('value', String(o.id));
    opt.textContent = o.name;
    if (o.id === msg.organId) opt.setAttribute('selected', '');
    organEl.appendChild(opt);
  }
  organEl.value = String(msg.organId);
}

async function load(msg: LoadCaseMessage): Promise<void> {
  const seq = ++loadSeq;
  current = msg;
  vscode.setState({ caseId: msg.caseId });
  titleEl.textContent = msg.title;
  metaEl.textContent = msg.subtitle;
  fillOrganSelect(msg);
  setStatus(`Loading ${msg.image.name}…`);
  try {
    const v = viewer();
    attached ??= v.attachTo('gl');
    await attached;
    v.setSliceType(SLICE_TYPE.MULTIPLANAR);
    const list = [
      { url: msg.image.url, name: msg.image.name, colormap: 'gray' },
      { url: msg.labels.url, name: msg.labels.name, colormap: GT_COLORMAP, opacity: overlayOpacity() },
    ];
    if (msg.pred) list.push({ url: msg.pred.url, name: msg.pred.name, colormap: PRED_COLORMAP, opacity: overlayOpacity() });
    await v.loadVolumes(list);
    if (seq !== loadSeq) return; // a newer case arrived meanwhile
    raw = {
      gt: v.volumes[1]?.img ? Array.from(v.volumes[1].img as ArrayLike<number>) : undefined,
      pred: msg.pred && v.volumes[2]?.img ? Array.from(v.volumes[2].img as ArrayLike<number>) : undefined,
    };
    const voxels = selectOrgan(msg.organId, false);
    v.drawScene();
    // let the browser composite the frame before reporting
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const canvas = $<HTMLCanvasElement>('gl');
    post({ type: 'rendered', caseId: msg.caseId, organId: msg.organId, volumes: v.volumes.length, voxels, canvas: { width: canvas.width, height: canvas.height } });
  } catch (e) {
    const message = e instanceof Error ? e.message
      : e instanceof Event ? `a resource failed to load (${e.type} on ${(e.target as Element | null)?.tagName ?? 'unknown'})`
      : String(e);
    setStatus(`Could not load the case: ${message}`, true);
    post({ type: 'error', caseId: msg.caseId, message });
  }
}

organEl.addEventListener('change', () => {
  if (!current) return;
  selectOrgan(Number(organEl.value), true);
});
showGtEl.addEventListener('change', () => { applyVisibility(); nv?.updateGLVolume(); });
showPredEl.addEventListener('change', () => { applyVisibility(); nv?.updateGLVolume(); });
opacityEl.addEventListener('input', () => { applyVisibility(); nv?.updateGLVolume(); });

window.addEventListener('message', (event: MessageEvent<HostToViewerMessage>) => {
  const msg = event.data;
  if (msg && msg.type === 'load') void load(msg);
});

post({ type: 'ready' });
