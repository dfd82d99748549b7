/**
 * One pass over a ground-truth and a prediction label map on the same grid: per label the voxel counts
 * (tp, fp, fn) and the bounding box of the label in either map. Everything per organ afterwards works inside
 * that box (plus a one-voxel background margin), never on the whole volume.
 */
import type { Dims3 } from './edt';
import type { OverlapCounts } from './overlap';
import { threadHeap, type KernelHeap, type LabelData } from './kernelHeap';

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

/** Planes per kernel call: a call is short enough for V8's tier-up, which acts between calls, to reach the rest. */
const PLANES_PER_CALL = 8;

/**
 * The kernel's loop (surfaceKernels.wat, scanPlanes): row by row, 16 bytes at a time. Most of a whole-body volume is
 * background in both maps, so all-zero runs are skipped; inside an organ both maps often hold one label across the
 * run, counted at once; within a row each label's first and last x0 are kept and its box is updated once per row.
 * Maps outside `heap` are copied in for the call (tests); a pool's maps are already there.
 */
export function scanLabels(gt: LabelData, pred: LabelData, dims: Dims3, heap: KernelHeap = threadHeap()): LabelScan {
  const [n0, n1, n2] = dims;
  const n = n0 * n1 * n2;
  if (gt.length !== n) throw new Error(`label map has ${gt.length} voxels, grid ${dims.join('x')} needs ${n}`);
  if (pred.length !== gt.length) throw new Error(`label maps differ in size (${gt.length} vs ${pred.length} voxels)`);
  // one kind for both: a uint16 map beside a uint8 one is scanned as uint16 (a widened copy)
  const wide = gt instanceof Uint16Array || pred instanceof Uint16Array;
  const g = heap.hold(wide ? asU16(gt) : gt), p = heap.hold(wide ? asU16(pred) : pred);
  // tables sized by the labels the maps can hold: 256 for uint8 maps (14 KB), 65536 otherwise
  const size = wide ? 65536 : 256;
  const tablesAt = heap.alloc(size * 56);
  try {
    heap.u8(tablesAt, size * 56).fill(0);
    for (let k = 0; k < n2; k += PLANES_PER_CALL) {
      heap.kernels.scanPlanes(g.view.byteOffset, p.view.byteOffset, n0, n1, k, Math.min(n2, k + PLANES_PER_CALL), wide ? 1 : 0, tablesAt, 0);
    }
    const tp = heap.u32(tablesAt, size), fp = heap.u32(tablesAt + 4 * size, size), fn = heap.u32(tablesAt + 8 * size, size);
    const seen = heap.u32(tablesAt + 12 * size, size);
    const box = heap.i32(tablesAt + 32 * size, size * 6);
    const counts = new Map<number, OverlapCounts>();
    const boxes = new Map<number, VoxelBox>();
    for (let l = 1; l < size; l++) {
      if (!seen[l]) continue;
      counts.set(l, { tp: tp[l], fp: fp[l], fn: fn[l] });
      const b = l * 6;
      boxes.set(l, { lo: [box[b], box[b + 1], box[b + 2]], hi: [box[b + 3], box[b + 4], box[b + 5]] });
    }
    return { counts, boxes };
  } finally {
    heap.release(tablesAt, size * 56);
    heap.unhold(g);
    heap.unhold(p);
  }
}

/** One map's labels: per label its voxel count and its box (what a case scanned map by map knows before the overlap). */
export interface MapScan {
  voxels: Map<number, number>;
  boxes: Map<number, VoxelBox>;
}

/**
 * The scan of one label map, plane by plane as its planes arrive: the inflating worker scans each stretch of planes
 * right after writing it (`ring`: the planes from `firstPlane` on, at that address), while it is still in the cache,
 * so that the map is never read again in full. The same kernel as scanLabels, given the planes as both maps: its
 * "both" counts are the map's own counts.
 */
export class MapScanner {
  private readonly size: number;
  private readonly tablesAt: number;

  constructor(private readonly heap: KernelHeap, private readonly dims: Dims3, bytesPerVoxel: 1 | 2 = 1) {
    this.size = bytesPerVoxel === 2 ? 65536 : 256;
    this.tablesAt = heap.alloc(this.size * 56, { zeroed: true });
  }

  /**
   * Scans `planes` whole planes (x2 index `firstPlane` on) held at heap address `ring`, and copies them without their
   * background into the map at `copyTo` (its plane 0; 0: no copy), whose untouched pages read as zero.
   */
  scan(ring: number, firstPlane: number, planes: number, copyTo = 0): void {
    const [n0, n1] = this.dims;
    const shift = this.size === 256 ? 0 : 1;
    // the kernel addresses plane k at base + k * plane bytes: the base that puts plane `firstPlane` at `ring`
    const base = (ring - firstPlane * ((n0 * n1) << shift)) | 0;
    for (let k = firstPlane; k < firstPlane + planes; k += PLANES_PER_CALL) {
      this.heap.kernels.scanPlanes(base, base, n0, n1, k, Math.min(firstPlane + planes, k + PLANES_PER_CALL), shift, this.tablesAt, copyTo);
    }
  }

  /** Gives the tables back without a result (the map failed to read). */
  discard(): void {
    this.heap.release(this.tablesAt, this.size * 56);
  }

  /** The scan of the planes scanned; the scanner's tables are given back. */
  finish(): MapScan {
    const { heap, size, tablesAt } = this;
    try {
      const count = heap.u32(tablesAt, size), seen = heap.u32(tablesAt + 12 * size, size), box = heap.i32(tablesAt + 32 * size, size * 6);
      const voxels = new Map<number, number>();
      const boxes = new Map<number, VoxelBox>();
      for (let l = 1; l < size; l++) {
        if (!seen[l]) continue;
        voxels.set(l, count[l]);
        const b = l * 6;
        boxes.set(l, { lo: [box[b], box[b + 1], box[b + 2]], hi: [box[b + 3], box[b + 4], box[b + 5]] });
      }
      return { voxels, boxes };
    } finally {
      heap.release(tablesAt, size * 56);
    }
  }
}

/** Voxels of `label` in both maps inside `box` (the kernel's countBoth): the overlap of maps scanned one at a time. */
export function countBoth(gt: LabelData, pred: LabelData, dims: Dims3, label: number, box: VoxelBox, heap: KernelHeap = threadHeap()): number {
  if ((gt instanceof Uint16Array) !== (pred instanceof Uint16Array)) throw new Error('countBoth: both maps must be uint8 or both uint16');
  const g = heap.hold(gt), p = heap.hold(pred);
  try {
    return heap.kernels.countBoth(g.view.byteOffset, p.view.byteOffset, dims[0], dims[1], box.lo[0], box.lo[1], box.lo[2],
      box.hi[0] - box.lo[0] + 1, box.hi[1] - box.lo[1] + 1, box.hi[2] - box.lo[2] + 1, label, gt instanceof Uint16Array ? 1 : 0);
  } finally {
    heap.unhold(g);
    heap.unhold(p);
  }
}

function asU16(a: LabelData): Uint16Array {
  return a instanceof Uint16Array ? a : Uint16Array.from(a);
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
