/**
 * Overlap metrics per label, from voxel counts on one grid (the ground truth's; the prediction is resampled to it).
 *
 *   dice = 2|G∩P| / (|G| + |P|);  iou = |G∩P| / |G∪P|;  tp = |G∩P|, fp = |P\G|, fn = |G\P| (voxels).
 *   Volumes in mL = voxel count x voxel volume (|det| of the affine's linear part, mm^3) / 1000;
 *   volume_error_ml = volume_pred_ml - volume_gt_ml (signed: positive = over-segmentation).
 * Empty masks (the seed protocol, recorded with every run):
 *   both empty                   -> dice, iou null, status 'both-empty' (not applicable; excluded from means, counted)
 *   ground truth empty, P not    -> dice 0, iou 0, status 'false-positive'
 *   ground truth present, P empty -> dice 0, iou 0, status 'missed'
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
  iou: number | null;
  volume_gt_ml: number;
  volume_pred_ml: number;
  volume_error_ml: number;
  status: OverlapStatus;
}

export function scoreOverlap(c: OverlapCounts | undefined, affine: Affine): OverlapScores {
  const { tp, fp, fn } = c ?? { tp: 0, fp: 0, fn: 0 };
  const ml = voxelVolumeMm3(affine) / 1000;
  const gt = tp + fn;
  const pred = tp + fp;
  let status: OverlapStatus = 'ok';
  let dice: number | null = null;
  let iou: number | null = null;
  if (gt === 0 && pred === 0) {
    status = 'both-empty';
  } else {
    dice = (2 * tp) / (gt + pred);
    iou = tp / (tp + fp + fn);
    if (gt === 0) status = 'false-positive';
    else if (pred === 0) status = 'missed';
  }
  return { tp, fp, fn, dice, iou, volume_gt_ml: gt * ml, volume_pred_ml: pred * ml, volume_error_ml: (pred - gt) * ml, status };
}
