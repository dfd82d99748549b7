/**
 * One scan in the viewer: a NiiVue instance on its own canvas with the image, the ground truth, the prediction
 * and the organ's error map. The paired view has two, their crosshairs linked in world coordinates (mm).
 */
import { Niivue, SLICE_TYPE, type NVImage } from '@niivue/niivue';
import type { VolumeRef } from '../viewerProtocol/messages';
import { axialAxis, ERROR_COLORS, mmToVox, organCentroid, voxToMm, worstSlice, writeErrorMap, type ErrorCounts, type Vec3, type WorstSlice } from './errorMap';

export type OverlayMode = 'error' | 'overlay';
export type ViewKind = 'multiplanar' | 'axial' | 'coronal' | 'sagittal' | 'render';

export interface Look {
  mode: OverlayMode;
  showGt: boolean;
  showPred: boolean;
  /** 0..1 */
  opacity: number;
  colormap: string;
}

export interface OrganVoxels { gt: number; pred: number; errors?: ErrorCounts }

const SLICE: Record<ViewKind, SLICE_TYPE> = {
  multiplanar: SLICE_TYPE.MULTIPLANAR,
  axial: SLICE_TYPE.AXIAL,
  coronal: SLICE_TYPE.CORONAL,
  sagittal: SLICE_TYPE.SAGITTAL,
  render: SLICE_TYPE.RENDER,
};

type Writable = { [i: number]: number; length: number };

/** Writes the organ mask (1 inside, 0 outside) of `src` into `vol`; returns the voxel count. */
function applyMask(vol: NVImage, src: ArrayLike<number>, organId: number): number {
  const img = vol.img as unknown as Writable;
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const on = organId === 0 ? src[i] > 0 : Math.round(src[i]) === organId;
    img[i] = on ? 1 : 0;
    if (on) n++;
  }
  vol.cal_min = 0;
  vol.cal_max = 1;
  return n;
}

export class Pane {
  readonly nv: Niivue;
  private attached: Promise<unknown> | undefined;
  private gt: NVImage | undefined;
  private pred: NVImage | undefined;
  private errorMap: NVImage | undefined;
  /** Original label volumes; the displayed ones are binary masks of the organ (or its error map). */
  private raw: { gt?: ArrayLike<number>; pred?: ArrayLike<number> } = {};
  private organId = 0;
  /** TP / FP / FN of the organ shown (undefined without a prediction). */
  private errors: ErrorCounts | undefined;
  /** Set by the viewer: called when the user moves this pane's crosshair. */
  onUserMove: (() => void) | undefined;

  constructor(readonly canvas: HTMLCanvasElement, backColor: [number, number, number, number]) {
    this.nv = new Niivue({
      backColor,
      show3Dcrosshair: false,
      crosshairColor: [1, 1, 0, 0.6],
      isColorbar: false,
      dragAndDropEnabled: false,
      loadingText: 'loading...',
      isResizeCanvas: true,
    });
    this.nv.onLocationChange = () => { this.report(); this.onUserMove?.(); };
  }

  get hasPrediction(): boolean { return !!this.pred; }

  async load(scan: { image: VolumeRef; labels: VolumeRef; pred?: VolumeRef }, look: Look, view: ViewKind): Promise<number> {
    this.attached ??= this.nv.attachToCanvas(this.canvas);
    await this.attached;
    this.nv.setSliceType(SLICE[view]);
    const list = [
      { url: scan.image.url, name: scan.image.name, colormap: look.colormap },
      { url: scan.labels.url, name: scan.labels.name, colormap: 'green', opacity: 0 },
    ];
    if (scan.pred) list.push({ url: scan.pred.url, name: scan.pred.name, colormap: 'red', opacity: 0 });
    await this.nv.loadVolumes(list);
    [, this.gt, this.pred] = this.nv.volumes;
    // the labels as read (their img is rewritten to one organ's mask): typed copies, one memcpy each; a plain
    // array would take seconds and gigabytes on a whole-body scan, on the thread the workbench may share
    const copy = (img: unknown) => (img ? (img as Uint8Array).slice() : undefined);
    this.raw = { gt: copy(this.gt?.img), pred: copy(this.pred?.img) };
    this.errorMap = undefined;
    if (this.gt && this.pred) {
      // same grid as the ground truth (predictions are written on the labels' grid), codes 0..3
      const em = this.gt.clone();
      em.name = 'error map';
      const [tp, fp, fn] = [ERROR_COLORS.tp, ERROR_COLORS.fp, ERROR_COLORS.fn];
      em.setColormapLabel({ R: [0, tp[0], fp[0], fn[0]], G: [0, tp[1], fp[1], fn[1]], B: [0, tp[2], fp[2], fn[2]], A: [0, 255, 255, 255], I: [0, 1, 2, 3], labels: ['', 'TP', 'FP', 'FN'] });
      em.opacity = 0;
      this.nv.addVolume(em);
      this.errorMap = em;
    }
    return this.nv.volumes.length;
  }

  /** Shows one organ (0: all) in `look`; the error map is recomputed, the volumes updated once. */
  selectOrgan(organId: number, look: Look): OrganVoxels {
    this.organId = organId;
    const voxels: OrganVoxels = { gt: 0, pred: 0 };
    if (this.gt && this.raw.gt) voxels.gt = applyMask(this.gt, this.raw.gt, organId);
    if (this.pred && this.raw.pred) voxels.pred = applyMask(this.pred, this.raw.pred, organId);
    if (this.errorMap && this.raw.gt && this.raw.pred) {
      voxels.errors = writeErrorMap(this.errorMap.img as unknown as Writable, this.raw.gt, this.raw.pred, organId);
    }
    this.errors = voxels.errors;
    // one update for the masks and the look: each update rebuilds the textures of every volume
    this.applyLook(look);
    this.nv.updateGLVolume();
    return voxels;
  }

  setLook(look: Look): void {
    this.applyLook(look);
    this.nv.updateGLVolume();
  }

  private applyLook(look: Look): void {
    const errorMode = look.mode === 'error' && !!this.errorMap;
    const img = this.nv.volumes[0];
    if (img && img.colormap !== look.colormap) img.colormap = look.colormap;
    if (this.gt) this.gt.opacity = !errorMode && look.showGt ? look.opacity : 0;
    if (this.pred) this.pred.opacity = !errorMode && look.showPred ? look.opacity : 0;
    if (this.errorMap) this.errorMap.opacity = errorMode ? look.opacity : 0;
  }

  setView(view: ViewKind): void {
    this.nv.setSliceType(SLICE[view]);
  }

  setBackColor(rgba: [number, number, number, number]): void {
    this.nv.opts.backColor = rgba;
    if (this.nv.gl) this.nv.drawScene();
  }

  private labelsAffine(): number[][] | undefined {
    return this.gt?.hdr?.affine as number[][] | undefined;
  }

  private labelsDims(): Vec3 | undefined {
    const d = this.gt?.hdr?.dims;
    return d ? [d[1], d[2], d[3]] : undefined;
  }

  /** Dice of the organ shown on this scan's grid (undefined without a prediction, or with neither mask). */
  dice(): number | undefined {
    const e = this.errors;
    if (!e || e.tp + e.fp + e.fn === 0) return undefined;
    return (2 * e.tp) / (2 * e.tp + e.fp + e.fn);
  }

  /** The axial slice with the most FP + FN voxels of the organ (undefined without a prediction or errors). */
  worstSlice(): WorstSlice | undefined {
    const A = this.labelsAffine();
    const dims = this.labelsDims();
    if (!this.errorMap || !A || !dims) return undefined;
    return worstSlice(this.errorMap.img as unknown as ArrayLike<number>, dims, axialAxis(A));
  }

  /** The organ's ground-truth centroid (the prediction's when the ground truth lacks the organ), a voxel of the labels' grid. */
  centroid(): Vec3 | undefined {
    const dims = this.labelsDims();
    if (!dims) return undefined;
    return (this.raw.gt && organCentroid(this.raw.gt, dims, this.organId)) || (this.raw.pred && organCentroid(this.raw.pred, dims, this.organId)) || undefined;
  }

  /** Moves the crosshair to a voxel of the labels' grid. */
  moveToVoxel(v: Vec3): void {
    const A = this.labelsAffine();
    if (A) this.moveToMm(voxToMm(A, v));
  }

  moveToMm(mm: Vec3): void {
    this.nv.scene.crosshairPos = this.nv.mm2frac(mm);
    this.nv.drawScene();
    this.report();
  }

  crosshairMm(): Vec3 {
    const mm = this.nv.frac2mm(this.nv.scene.crosshairPos);
    return [mm[0], mm[1], mm[2]];
  }

  /** Crosshair voxel in the labels' grid. */
  crosshairVoxel(): Vec3 | undefined {
    const A = this.labelsAffine();
    return A ? mmToVox(A, this.crosshairMm()) : undefined;
  }

  /** The crosshair, readable from the page (tests, accessibility tools): world mm and labels' voxel. */
  private report(): void {
    this.canvas.dataset.mm = this.crosshairMm().map((x) => x.toFixed(2)).join(',');
    const v = this.crosshairVoxel();
    if (v) this.canvas.dataset.vox = v.join(',');
  }

  redraw(): void {
    this.nv.drawScene();
  }
}
