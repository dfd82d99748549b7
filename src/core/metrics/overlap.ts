/**
 * Overlap metrics per label: Dice and volumes, from voxel counts on one grid.
 *
 * Semantics (the seed protocol, recorded with every run):
 *   dice = 2|G∩P| / (|G| + |P|), computed on the ground truth's grid (the prediction is resampled to it first).
 *   Both masks empty           -> dice null, status 'both-empty' (not applicable; excluded from means, counted).
 *   Ground truth empty, P not  -> dice 0, status 'false-positive'.
 *   Ground truth present, P empty -> dice 0, status 'missed'.
 *   Volumes in mL = voxel count x voxel volume (|det| of the affine's linear part, mm^3) / 1000.
 */
import { voxelVolumeMm3, type Affine } from '../geometry/affine';

export interface OverlapCounts {
  /** Voxels in both masks, in the prediction only, in the ground truth only. */
  tp: number;
  fp: number;
  fn: number;
}

export type OverlapStatus = 'ok' | 'both-empty' | 'missed' | 'false-positive';

export interface OverlapScores extends OverlapCounts {
  dice: number | null;
  volume_gt_ml: number;
  volume_pred_ml: number;
  status: OverlapStatus;
}

/** One pass over both label maps, counting tp/fp/fn for every label value at once. */
export function countOverlap(gt: ArrayLike<number>, pred: ArrayLike<number>): Map<number, OverlapCounts> {
  if (gt.length !== pred.length) throw new Error(`label maps differ in size (${gt.length} vs ${pred.length} voxels)`);
  const size = 65536;
  const tp = new Float64Array(size);
  const fp = new Float64Array(size);
  const fn = new Float64Array(size);
  let maxLabel = 0;
  for (let v = 0; v < gt.length; v++) {
    const g = gt[v];
    const p = pred[v];
    if (g === p) {
      if (g !== 0) tp[g]++;
    } else {
      if (g !== 0) fn[g]++;
      if (p !== 0) fp[p]++;
    }
    if (g > maxLabel) maxLabel = g;
    if (p > maxLabel) maxLabel = p;
  }
  const out = new Map<number, OverlapCounts>();
  for (let l = 1; l <= maxLabel; l++) {
    if (tp[l] || fp[l] || fn[l]) out.set(l, { tp: tp[l], fp: fp[l], fn: fn[l] });
  }
  return out;
}

export function scoreOverlap(c: OverlapCounts | undefined, affine: Affine): OverlapScores {
  const { tp, fp, fn } = c ?? { tp: 0, fp: 0, fn: 0 };
  const ml = voxelVolumeMm3(affine) / 1000;
  const gt = tp + fn;
  const pred = tp + fp;
  let status: OverlapStatus = 'ok';
  let dice: number | null;
  if (gt === 0 && pred === 0) {
    status = 'both-empty';
    dice = null;
  } else {
    dice = (2 * tp) / (gt + pred);
    if (gt === 0) status = 'false-positive';
    else if (pred === 0) status = 'missed';
  }
  return { tp, fp, fn, dice, volume_gt_ml: gt * ml, volume_pred_ml: pred * ml, status };
}

/** Scores for the requested label ids (absent labels included, as both-empty or missed). */
export function overlapByLabel(gt: ArrayLike<number>, pred: ArrayLike<number>, affine: Affine, labels: Iterable<number>): Map<number, OverlapScores> {
  const counts = countOverlap(gt, pred);
  const out = new Map<number, OverlapScores>();
  for (const l of labels) out.set(l, scoreOverlap(counts.get(l), affine));
  return out;
}
