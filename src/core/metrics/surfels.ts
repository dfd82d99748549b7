/**
 * The surface elements ("surfels") of a mask, as DeepMind's surface-distance library finds them: every corner of the
 * voxel grid whose 2x2x2 neighbourhood code is neither 0 (outside) nor 255 (inside), on the grid of a crop padded
 * with one background voxel on every side. Either from a padded binary mask (the definition, used by the tests) or
 * straight from a label map inside a label's box (what the pool's tasks do: no crop is built). Ascending corner
 * index, which the distance search needs.
 */
import type { Dims3 } from './edt';
import type { VoxelBox } from './labelScan';
import type { LabelData } from './kernelHeap';
import { WorkBuffers } from './workBuffers';

/** The surfels of one mask: corner-grid dims, their corner indices (ascending) and their neighbourhood codes. */
export interface Surfels {
  dims: Dims3;
  index: Int32Array;
  code: Uint8Array;
}

/**
 * Surfels of a padded mask. Corner (p0,p1,p2) of the corner grid sees padded voxels p..p+1 on each axis, and voxel
 * (p0+a, p1+b, p2+c) contributes bit 7-(4a+2b+c) (a along x0): the reference's neighbourhood kernel. A corner is a
 * surfel when its code is neither 0 nor 255.
 */
export function surfelsOf(mask: Uint8Array, dims: Dims3, work?: WorkBuffers, slot = 'surfels'): Surfels {
  const [n0, n1] = dims;
  return withBuffers(work, (w) => {
    const m = w.heap.hold(mask);
    try {
      return surfelsByPlane(dims, (z, plane, rowHas) => w.heap.kernels.maskPlane(m.view.byteOffset, n0, n1, z, plane, rowHas), w, slot);
    } finally {
      w.heap.unhold(m);
    }
  });
}

/**
 * The same surfels as `surfelsOf(cropLabel(...))` gives for one map, read straight from the label map: the padded
 * crop of `label` in `box` (one background voxel on every side) is never built, only two of its planes at a time.
 * Outside the box the label is absent by construction (the box holds every voxel of it in either map).
 */
export function surfelsOfLabel(labels: LabelData, dims: Dims3, label: number, box: VoxelBox, work?: WorkBuffers, slot = 'surfels'): Surfels {
  const [n0, n1] = dims;
  const c0 = box.hi[0] - box.lo[0] + 3, c1 = box.hi[1] - box.lo[1] + 3, c2 = box.hi[2] - box.lo[2] + 3;
  const shift = labels instanceof Uint16Array ? 1 : 0;
  return withBuffers(work, (w) => {
    const m = w.heap.hold(labels);
    try {
      return surfelsByPlane([c0, c1, c2], (z, plane, rowHas) => w.heap.kernels.labelPlane(
        m.view.byteOffset, n0, n1, box.lo[0], box.lo[1], box.lo[2], c0, c1, c2, label, shift, z, plane, rowHas,
      ), w, slot);
    } finally {
      w.heap.unhold(m);
    }
  });
}

/**
 * Fills padded plane `z` into the bit plane at byte address `plane` as bit rows (`ceil(n0 / 32)` 32-bit words a
 * row; bit b of word w is x0 = 32w + b, bits past the row's end zero), and the byte `rowHas + y` with whether row y
 * holds any voxel of the mask (the kernel's packRow: 16 voxels compared at once).
 */
type PlaneSource = (z: number, plane: number, rowHas: number) => void;

/** `work`, or a set for this call whose results are copied out (callers without buffers get arrays of their own). */
function withBuffers(work: WorkBuffers | undefined, run: (w: WorkBuffers) => Surfels): Surfels {
  if (work) return run(work);
  const own = new WorkBuffers();
  try {
    const s = run(own);
    return { dims: s.dims, index: s.index.slice(), code: s.code.slice() };
  } finally {
    own.release();
  }
}

/**
 * The corner scan over a window of two padded bit planes (z = p2 and p2 + 1), each plane filled once. A corner row
 * sees four voxel rows; per 32 corners, "some voxel set" and "every voxel set" are two word operations, and only
 * corners with some but not every voxel set (the surfels) are visited, in ascending x0 (the kernel's surfelPlane).
 */
function surfelsByPlane(dims: Dims3, fillPlane: PlaneSource, work: WorkBuffers, slot: string): Surfels {
  const [n0, n1, n2] = dims;
  const m0 = n0 - 1, m1 = n1 - 1, m2 = n2 - 1;
  const wordsPerRow = (n0 + 31) >>> 5;
  const planeWords = wordsPerRow * n1;
  let lower = work.u32('surfel-plane-a', planeWords).byteOffset;
  let upper = work.u32('surfel-plane-b', planeWords).byteOffset;
  // one spare byte: the corner scan reads rowHas[p1 + 1]
  let lowerHas = work.u8('surfel-rows-a', n1 + 1).byteOffset;
  let upperHas = work.u8('surfel-rows-b', n1 + 1).byteOffset;
  // Sized for every corner at once: a surfel is a corner, so never grown, and only the pages surfels are written to
  // cost memory.
  const corners = Math.max(0, m0 * m1 * m2);
  const index = work.i32Capacity(`${slot}-index`, corners);
  const code = work.u8Capacity(`${slot}-code`, corners);
  const k = work.heap.kernels;
  let n = 0;
  if (m2 > 0) fillPlane(0, lower, lowerHas);
  for (let p2 = 0; p2 < m2; p2++) {
    fillPlane(p2 + 1, upper, upperHas);
    n = k.surfelPlane(lower, upper, lowerHas, upperHas, wordsPerRow, m0, m1, p2, index.byteOffset, code.byteOffset, n);
    [lower, upper] = [upper, lower];
    [lowerHas, upperHas] = [upperHas, lowerHas];
  }
  return { dims: [m0, m1, m2], index: index.subarray(0, n), code: code.subarray(0, n) };
}
