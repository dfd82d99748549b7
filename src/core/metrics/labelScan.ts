/**
 * One pass over a ground-truth and a prediction label map on the same grid: per label the voxel counts
 * (tp, fp, fn) and the bounding box of the label in either map. Everything per organ afterwards works inside
 * that box (plus a one-voxel background margin), never on the whole volume.
 */
import type { Dims3 } from './edt';
import type { OverlapCounts } from './overlap';

/** Inclusive voxel-index box [lo, hi] on axes (i, j, k). */
export interface VoxelBox {
  lo: [number, number, number];
  hi: [number, number, number];
}

export interface LabelScan {
  counts: Map<number, OverlapCounts>;
  /** Box of the voxels carrying the label in the ground truth or the prediction (their union). */
  boxes: Map<number, VoxelBox>;
}

const MAX_LABEL = 65535;

export function scanLabels(gt: ArrayLike<number>, pred: ArrayLike<number>, dims: Dims3): LabelScan {
  const [n0, n1, n2] = dims;
  if (gt.length !== n0 * n1 * n2) throw new Error(`label map has ${gt.length} voxels, grid ${dims.join('x')} needs ${n0 * n1 * n2}`);
  if (pred.length !== gt.length) throw new Error(`label maps differ in size (${gt.length} vs ${pred.length} voxels)`);
  const size = MAX_LABEL + 1;
  const tp = new Float64Array(size), fp = new Float64Array(size), fn = new Float64Array(size);
  // box[label*6 + 0..5] = lo0, lo1, lo2, hi0, hi1, hi2
  const box = new Int32Array(size * 6);
  const seen = new Uint8Array(size);
  const touch = (l: number, i: number, j: number, k: number): void => {
    const b = l * 6;
    if (!seen[l]) {
      seen[l] = 1;
      box[b] = box[b + 3] = i; box[b + 1] = box[b + 4] = j; box[b + 2] = box[b + 5] = k;
      return;
    }
    if (i < box[b]) box[b] = i; else if (i > box[b + 3]) box[b + 3] = i;
    if (j < box[b + 1]) box[b + 1] = j; else if (j > box[b + 4]) box[b + 4] = j;
    if (k < box[b + 2]) box[b + 2] = k; else if (k > box[b + 5]) box[b + 5] = k;
  };
  let v = 0;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      for (let i = 0; i < n0; i++, v++) {
        const g = gt[v];
        const p = pred[v];
        if (g === 0 && p === 0) continue;
        if (g === p) { tp[g]++; touch(g, i, j, k); continue; }
        if (g !== 0) { fn[g]++; touch(g, i, j, k); }
        if (p !== 0) { fp[p]++; touch(p, i, j, k); }
      }
    }
  }
  const counts = new Map<number, OverlapCounts>();
  const boxes = new Map<number, VoxelBox>();
  for (let l = 1; l < size; l++) {
    if (!seen[l]) continue;
    counts.set(l, { tp: tp[l], fp: fp[l], fn: fn[l] });
    const b = l * 6;
    boxes.set(l, { lo: [box[b], box[b + 1], box[b + 2]], hi: [box[b + 3], box[b + 4], box[b + 5]] });
  }
  return { counts, boxes };
}

/**
 * Binary masks of one label inside its box, with one background voxel on every side: the padding closes surfaces
 * that touch the box (and the volume border) exactly as the reference's zero padding does.
 */
export function cropLabel(gt: ArrayLike<number>, pred: ArrayLike<number>, dims: Dims3, label: number, box: VoxelBox): { gt: Uint8Array; pred: Uint8Array; dims: Dims3 } {
  const [n0, n1] = dims;
  const c0 = box.hi[0] - box.lo[0] + 3, c1 = box.hi[1] - box.lo[1] + 3, c2 = box.hi[2] - box.lo[2] + 3;
  const g = new Uint8Array(c0 * c1 * c2);
  const p = new Uint8Array(c0 * c1 * c2);
  for (let k = box.lo[2]; k <= box.hi[2]; k++) {
    for (let j = box.lo[1]; j <= box.hi[1]; j++) {
      let src = box.lo[0] + n0 * (j + n1 * k);
      let dst = 1 + c0 * ((j - box.lo[1] + 1) + c1 * (k - box.lo[2] + 1));
      for (let i = box.lo[0]; i <= box.hi[0]; i++, src++, dst++) {
        g[dst] = gt[src] === label ? 1 : 0;
        p[dst] = pred[src] === label ? 1 : 0;
      }
    }
  }
  return { gt: g, pred: p, dims: [c0, c1, c2] };
}
