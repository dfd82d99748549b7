/**
 * UMD Lens failure-case viewer (runs inside the webview; bundled to dist/webview/viewer.js as an IIFE).
 * Shows the case image with the organ's error map (TP / FP / FN) or its ground truth and prediction, the worst
 * slice and the centroid one click away, and in the paired view the same subject's other scan beside it with
 * linked crosshairs. Fed by postMessage from the panel; its state (case, organ, look, crosshair) is kept with
 * `vscode.setState`, so hiding the panel or reloading the window brings back the same view.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { HostToViewerMessage, LoadCaseMessage, PairedScan, ViewerToHostMessage } from '../viewerProtocol/messages';
import type { Vec3 } from './errorMap';
import { Pane, type Look, type OrganVoxels, type OverlayMode, type ViewKind } from './pane';
import { themeBackColor, watchTheme } from './theme';

interface VsCodeApi {
  postMessage(msg: ViewerToHostMessage): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface UiState {
  organId: number;
  mode: OverlayMode;
  showGt: boolean;
  showPred: boolean;
  opacity: number;
  colormap: string;
  view: ViewKind;
  crosshairMm?: Vec3;
}
interface SavedState { v: 1; load: LoadCaseMessage; ui: UiState }

const vscode = acquireVsCodeApi();
const post = (m: ViewerToHostMessage) => vscode.postMessage(m);

type Select = HTMLElement & { value: string };
type Check = HTMLElement & { checked: boolean };
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const titleEl = $('title');
const metaEl = $('meta');
const statusEl = $('status');
const organEl = $<Select>('organ');
const modeEl = $<Select>('mode');
const showGtEl = $<Check>('showGt');
const showPredEl = $<Check>('showPred');
const opacityEl = $<Select>('opacity');
const colormapEl = $<Select>('colormap');
const viewEl = $<Select>('sliceType');
const pairedEl = $<Check>('paired');
const paneB = $('paneB');
const missingEl = $('pairMissing');

const VIEWS: readonly ViewKind[] = ['multiplanar', 'axial', 'coronal', 'sagittal', 'render'];
const COLORMAPS = ['gray', 'hot', 'inferno', 'viridis', 'bone'];

let current: LoadCaseMessage | undefined;
let loadSeq = 0;
const panes: Pane[] = [];
let mainPane: Pane | undefined;
let otherPane: Pane | undefined;
let organId = 0;
/** While a case loads, the crosshair to keep in the state is the restored one (or none), not the last case's. */
let loaded = false;
let pendingCrosshair: Vec3 | undefined;
/** The controls' values: the elements may not have taken a value set before they rendered, this always has. */
const look0 = { mode: 'error' as OverlayMode, showGt: true, showPred: true, opacity: 55, colormap: 'gray', view: 'multiplanar' as ViewKind };

function setStatus(text: string, error = false): void {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', error);
}

function ui(): UiState {
  return { organId, ...look0, crosshairMm: loaded ? mainPane?.crosshairMm() : pendingCrosshair };
}

function look(): Look {
  return { mode: look0.mode, showGt: look0.showGt, showPred: look0.showPred, opacity: look0.opacity / 100, colormap: look0.colormap };
}

function saveState(): void {
  if (current) vscode.setState({ v: 1, load: current, ui: ui() } satisfies SavedState);
}

function setControl(el: Select | Check, value: string | boolean): void {
  if (typeof value === 'boolean') { (el as Check).checked = value; return; }
  for (const o of Array.from(el.querySelectorAll('vscode-option'))) o.toggleAttribute('selected', o.getAttribute('value') === value);
  (el as Select).value = value;
}

function applyUi(u: UiState): void {
  look0.mode = u.mode === 'overlay' ? 'overlay' : 'error';
  look0.showGt = u.showGt !== false;
  look0.showPred = u.showPred !== false;
  look0.opacity = Number.isFinite(u.opacity) ? Math.min(100, Math.max(0, u.opacity)) : 55;
  look0.colormap = COLORMAPS.includes(u.colormap) ? u.colormap : 'gray';
  look0.view = VIEWS.includes(u.view) ? u.view : 'multiplanar';
  setControl(modeEl, look0.mode);
  setControl(showGtEl, look0.showGt);
  setControl(showPredEl, look0.showPred);
  setControl(opacityEl, String(look0.opacity));
  setControl(colormapEl, look0.colormap);
  setControl(viewEl, look0.view);
  syncModeClass();
}

function syncModeClass(): void {
  document.body.classList.toggle('mode-error', look0.mode === 'error');
  document.body.classList.toggle('mode-overlay', look0.mode === 'overlay');
}

function pane(canvasId: string): Pane {
  const existing = panes.find((p) => p.canvas.id === canvasId);
  if (existing) return existing;
  const p = new Pane($<HTMLCanvasElement>(canvasId), themeBackColor());
  // linked crosshairs: the other pane goes to the same world position (mm), whatever its grid
  p.onUserMove = () => { link(p); saveState(); };
  panes.push(p);
  return p;
}

function link(from: Pane): void {
  const to = from === mainPane ? otherPane : mainPane;
  if (to && from && otherPane) to.moveToMm(from.crosshairMm());
}

function fillOrganSelect(msg: LoadCaseMessage, selected: number): void {
  organEl.replaceChildren();
  const all = document.createElement('vscode-option');
  all.setAttribute('value', '0');
  all.textContent = 'All organs';
  organEl.appendChild(all);
  for (const o of msg.organs) {
    const opt = document.createElement('vscode-option');
    opt.setAttribute('value', String(o.id));
    opt.textContent = o.name;
    if (o.id === selected) opt.setAttribute('selected', '');
    organEl.appendChild(opt);
  }
  organEl.value = String(selected);
}

const organName = (id: number) => current?.organs.find((o) => o.id === id)?.name ?? 'all organs';

function describe(v: OrganVoxels, hasPred: boolean): string {
  const e = v.errors ? ` · TP ${v.errors.tp}, FP ${v.errors.fp}, FN ${v.errors.fn}` : '';
  return `ground truth ${v.gt} voxels, prediction ${hasPred ? v.pred + ' voxels' : 'not available'}${e}`;
}

/** Shows `id` in every pane; the crosshair goes to its centroid unless `keepCrosshair`. */
function selectOrgan(id: number, notify: boolean, keepCrosshair = false): OrganVoxels {
  organId = id;
  let voxels: OrganVoxels = { gt: 0, pred: 0 };
  let other = '';
  for (const p of [mainPane, otherPane]) {
    if (!p) continue;
    const v = p.selectOrgan(id, look());
    if (p === mainPane) voxels = v;
    else if (isPaired(current?.paired)) other = ` | ${current.paired.modality}: ${describe(v, p.hasPrediction)}`;
  }
  if (!keepCrosshair) {
    const c = mainPane?.centroid();
    if (c && mainPane) { mainPane.moveToVoxel(c); link(mainPane); }
  }
  setStatus(`${organName(id)}: ${describe(voxels, !!mainPane?.hasPrediction)}${other}`);
  if (notify && current) post({ type: 'organ', caseId: current.caseId, organId: id });
  saveState();
  return voxels;
}

function restyle(): void {
  syncModeClass();
  for (const p of [mainPane, otherPane]) p?.setLook(look());
  saveState();
}

const isPaired = (p: LoadCaseMessage['paired']): p is PairedScan => !!p && 'caseId' in p;

/** Same case and same pairing: a re-sent `load` (the webview was re-created) keeps the restored view. */
function sameView(a: LoadCaseMessage, b: LoadCaseMessage): boolean {
  const pa = a.paired, pb = b.paired;
  return a.caseId === b.caseId && !!pa === !!pb && (!isPaired(pa) || (isPaired(pb) && pa.caseId === pb.caseId));
}

async function load(msg: LoadCaseMessage, restore?: UiState): Promise<void> {
  const seq = ++loadSeq;
  current = msg;
  loaded = false;
  pendingCrosshair = restore?.crosshairMm;
  if (restore) applyUi(restore);
  organId = restore?.organId ?? msg.organId;
  titleEl.textContent = msg.title;
  metaEl.textContent = msg.subtitle;
  fillOrganSelect(msg, organId);
  pairedEl.checked = !!msg.paired;
  const paired = msg.paired;
  paneB.hidden = !paired;
  missingEl.hidden = !(paired && !isPaired(paired));
  missingEl.textContent = paired && !isPaired(paired) ? paired.missing : '';
  $('paneATitle').textContent = paired ? `${msg.modality ?? ''} · ${msg.subtitle}` : '';
  $('paneBTitle').textContent = isPaired(paired) ? `${paired.modality} · ${paired.subtitle}` : paired ? 'other modality' : '';
  setStatus(`Loading ${msg.image.name}${isPaired(paired) ? ` and ${paired.image.name}` : ''}…`);
  saveState();
  try {
    mainPane = pane('gl');
    otherPane = isPaired(paired) ? pane('gl2') : undefined;
    const u = ui();
    const jobs: Promise<number>[] = [mainPane.load(msg, look(), u.view)];
    if (otherPane && isPaired(paired)) jobs.push(otherPane.load(paired, look(), u.view));
    const counts = await Promise.all(jobs);
    if (seq !== loadSeq) return; // a newer case arrived meanwhile
    loaded = true;
    const voxels = selectOrgan(organId, false, !!restore?.crosshairMm);
    if (restore?.crosshairMm) { mainPane.moveToMm(restore.crosshairMm); link(mainPane); }
    saveState();
    // let the browser composite the frame before reporting
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const canvas = $<HTMLCanvasElement>('gl');
    post({
      type: 'rendered', caseId: msg.caseId, organId, volumes: counts[0], voxels: { gt: voxels.gt, pred: voxels.pred },
      canvas: { width: canvas.width, height: canvas.height }, panes: otherPane ? 2 : 1,
    });
  } catch (e) {
    const message = e instanceof Error ? e.message
      : e instanceof Event ? `a resource failed to load (${e.type} on ${(e.target as Element | null)?.tagName ?? 'unknown'})`
      : String(e);
    setStatus(`Could not load the case: ${message}`, true);
    post({ type: 'error', caseId: msg.caseId, message });
  }
}

/**
 * The pane "Worst slice" goes to: in the paired view the scan on which the organ scores the lower Dice (the one the
 * model fails on: the point of pairing), else the main one. The other pane follows through the linked crosshair.
 */
function failingPane(main: Pane): { pane: Pane; note: string } {
  const paired = current && isPaired(current.paired) ? current.paired : undefined;
  const a = main.dice(), b = otherPane?.dice();
  if (!otherPane || !paired || b === undefined) return { pane: main, note: '' };
  if (a === undefined) return { pane: otherPane, note: ` of ${paired.modality}` };
  const mainName = current?.modality ?? 'this scan';
  return b < a
    ? { pane: otherPane, note: ` of ${paired.modality} (Dice ${b.toFixed(3)} vs ${mainName} ${a.toFixed(3)})` }
    : { pane: main, note: ` of ${mainName} (Dice ${a.toFixed(3)} vs ${paired.modality} ${b.toFixed(3)})` };
}

function moveTo(what: 'worst' | 'centroid'): void {
  if (!mainPane || !current) return;
  let moved: Pane = mainPane;
  if (what === 'worst') {
    const target = failingPane(mainPane);
    const w = target.pane.worstSlice();
    if (!w) { setStatus(`${organName(organId)}: no false positive or false negative voxels${mainPane.hasPrediction ? '' : ' (no prediction)'}`); return; }
    moved = target.pane;
    moved.moveToVoxel(w.voxel);
    setStatus(`${organName(organId)}: worst axial slice ${w.index}${target.note} (voxel axis ${'ijk'[w.axis]}), ${w.errors} FP + FN voxels`);
  } else {
    const c = mainPane.centroid();
    if (!c) { setStatus(`${organName(organId)}: not in the ground truth or the prediction`); return; }
    mainPane.moveToVoxel(c);
    setStatus(`${organName(organId)}: centroid at voxel ${c.join(', ')}`);
  }
  link(moved);
  saveState();
}

organEl.addEventListener('change', () => { if (current) selectOrgan(Number(organEl.value), true); });
modeEl.addEventListener('change', () => { look0.mode = modeEl.value === 'overlay' ? 'overlay' : 'error'; restyle(); });
showGtEl.addEventListener('change', () => { look0.showGt = showGtEl.checked; restyle(); });
showPredEl.addEventListener('change', () => { look0.showPred = showPredEl.checked; restyle(); });
opacityEl.addEventListener('change', () => { look0.opacity = Number(opacityEl.value) || 55; restyle(); });
colormapEl.addEventListener('change', () => { if (COLORMAPS.includes(colormapEl.value)) look0.colormap = colormapEl.value; restyle(); });
viewEl.addEventListener('change', () => {
  if ((VIEWS as string[]).includes(viewEl.value)) look0.view = viewEl.value as ViewKind;
  for (const p of [mainPane, otherPane]) p?.setView(look0.view);
  saveState();
});
$('worst').addEventListener('click', () => moveTo('worst'));
$('centroid').addEventListener('click', () => moveTo('centroid'));
pairedEl.addEventListener('change', () => { if (current) post({ type: 'paired', caseId: current.caseId, paired: pairedEl.checked }); });
watchTheme((rgba) => { for (const p of panes) p.setBackColor(rgba); });

window.addEventListener('message', (event: MessageEvent<HostToViewerMessage>) => {
  const msg = event.data;
  if (!msg || msg.type !== 'load') return;
  if (current && sameView(current, msg)) {
    // the host re-sent the case shown (the webview was re-created and restored itself): keep the view
    current = msg;
    if (msg.organId !== organId && mainPane) { organEl.value = String(msg.organId); selectOrgan(msg.organId, false); }
    return;
  }
  void load(msg);
});

function savedState(): SavedState | undefined {
  const s = vscode.getState() as Partial<SavedState> | undefined;
  return s && s.v === 1 && s.load?.type === 'load' && s.ui ? (s as SavedState) : undefined;
}

syncModeClass();
const saved = savedState();
if (saved) void load(saved.load, saved.ui);
post({ type: 'ready' });
