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

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export function scanLabels(gt: ArrayLike<number>, pred: ArrayLike<number>, dims: Dims3): LabelScan {
  const [n0, n1, n2] = dims;
  const n = n0 * n1 * n2;
  if (gt.length !== n) throw new Error(`label map has ${gt.length} voxels, grid ${dims.join('x')} needs ${n}`);
  if (pred.length !== gt.length) throw new Error(`label maps differ in size (${gt.length} vs ${pred.length} voxels)`);
  // tables sized by the labels the maps can hold: 256 for uint8 maps (a few KB), 65536 otherwise
  const size = gt instanceof Uint8Array && pred instanceof Uint8Array ? 256 : 65536;
  const tp = new Float64Array(size), fp = new Float64Array(size), fn = new Float64Array(size);
  // box[label*6 + 0..5] = lo0, lo1, lo2, hi0, hi1, hi2
  const box = new Int32Array(size * 6);
  const seen = new Uint8Array(size);
  const touch = (l: number, i0: number, i1: number, j: number, k: number): void => {
    const b = l * 6;
    if (!seen[l]) {
      seen[l] = 1;
      box[b] = i0; box[b + 3] = i1; box[b + 1] = box[b + 4] = j; box[b + 2] = box[b + 5] = k;
      return;
    }
    if (i0 < box[b]) box[b] = i0;
    if (i1 > box[b + 3]) box[b + 3] = i1;
    if (j < box[b + 1]) box[b + 1] = j; else if (j > box[b + 4]) box[b + 4] = j;
    if (k < box[b + 2]) box[b + 2] = k; else if (k > box[b + 5]) box[b + 5] = k;
  };
  const words = wordView(gt, pred);
  if (words && (n0 % words[2]) === 0) scanRowsByWord(words, dims, tp, fp, fn, touch, size);
  else {
    for (let v = 0; v < n; v++) {
      const g = gt[v];
      const p = pred[v];
      if (g === 0 && p === 0) continue;
      const i = v % n0, r = (v - i) / n0, j = r % n1, k = (r - j) / n1;
      if (g === p) { tp[g]++; touch(g, i, i, j, k); continue; }
      if (g !== 0) { fn[g]++; touch(g, i, i, j, k); }
      if (p !== 0) { fp[p]++; touch(p, i, i, j, k); }
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

type Touch = (l: number, i0: number, i1: number, j: number, k: number) => void;

/**
 * The scan row by row over 32-bit words (4 uint8 or 2 uint16 voxels, little-endian), when rows hold whole words.
 * Most of a whole-body volume is background in both maps, so zero words are skipped; within a row each label's
 * first and last x0 are kept and its box is updated once per row, not once per voxel.
 */
function scanRowsByWord(
  [g32, p32, per]: [Uint32Array, Uint32Array, number], [n0, n1, n2]: Dims3,
  tp: Float64Array, fp: Float64Array, fn: Float64Array, touch: Touch, size: number,
): void {
  const bits = 32 / per;
  const lane = (1 << bits) - 1;
  const repeat = per === 4 ? 0x01010101 : 0x00010001;
  const rowWords = n0 / per;
  const rowLo = new Int32Array(size), rowHi = new Int32Array(size);
  const inRow = new Uint8Array(size);
  const rowLabels = new Int32Array(size);
  let w = 0;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      let nRow = 0;
      for (let end = w + rowWords; w < end; w++) {
        const gw = g32[w], pw = p32[w];
        if ((gw | pw) === 0) continue;
        let i = (w - (end - rowWords)) * per;
        // inside an organ both maps often hold one label across the word: count it at once
        if (gw === pw) {
          const l = gw & lane;
          if (gw === l * repeat) {
            tp[l] += per;
            if (!inRow[l]) { inRow[l] = 1; rowLabels[nRow++] = l; rowLo[l] = i; }
            rowHi[l] = i + per - 1;
            continue;
          }
        }
        for (let x = 0; x < per; x++, i++) {
          const g = (gw >>> (x * bits)) & lane;
          const p = (pw >>> (x * bits)) & lane;
          if (g === 0 && p === 0) continue;
          if (g === p) tp[g]++;
          else {
            if (g !== 0) fn[g]++;
            if (p !== 0) fp[p]++;
          }
          // voxels come in ascending x0: the first sets lo, every one moves hi
          if (g !== 0) {
            if (!inRow[g]) { inRow[g] = 1; rowLabels[nRow++] = g; rowLo[g] = i; }
            rowHi[g] = i;
          }
          if (p !== 0 && p !== g) {
            if (!inRow[p]) { inRow[p] = 1; rowLabels[nRow++] = p; rowLo[p] = i; }
            rowHi[p] = i;
          }
        }
      }
      for (let x = 0; x < nRow; x++) {
        const l = rowLabels[x];
        inRow[l] = 0;
        touch(l, rowLo[l], rowHi[l], j, k);
      }
    }
  }
}

/** 32-bit views of two uint8 or uint16 maps (voxels per word), when both are aligned typed arrays of one kind. */
/** Little-endian hosts only (x86, arm64): the byte order the lanes above assume. */
function wordView(gt: ArrayLike<number>, pred: ArrayLike<number>): [Uint32Array, Uint32Array, number] | undefined {
  const kind = (a: ArrayLike<number>) => (a instanceof Uint8Array ? 1 : a instanceof Uint16Array ? 2 : 0);
  const bytes = kind(gt);
  if (bytes === 0 || kind(pred) !== bytes || !LITTLE_ENDIAN) return undefined;
  const g = gt as Uint8Array | Uint16Array, p = pred as Uint8Array | Uint16Array;
  if (g.byteOffset % 4 || p.byteOffset % 4) return undefined;
  const nWords = Math.floor(g.byteLength / 4);
  return [new Uint32Array(g.buffer, g.byteOffset, nWords), new Uint32Array(p.buffer, p.byteOffset, nWords), 4 / bytes];
}

/**
 * Binary masks of one label inside its box, with one background voxel on every side: the padding closes surfaces
 * that touch the box (and the volume border) exactly as the reference's zero padding does. The pool's tasks never
 * build these (surfelsOfLabel reads the label maps two planes at a time); they define what those surfels must equal.
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
