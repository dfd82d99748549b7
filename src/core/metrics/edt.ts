/**
 * Surface distances in mm on a 3D grid with anisotropic spacing, read only where they are needed
 * (squaredDistanceAtMm2), bit for bit equal to the exact transform of geometry/distanceTransform.ts: sums are
 * formed in its order, ((d0*s0)^2 + (d1*s1)^2) + (d2*s2)^2, scipy.ndimage.distance_transform_edt's order, which
 * matters where a surface distance is compared with a tolerance (NSD counts `d <= tau`).
 */

import { pass1d, type Dims3, type SpacingMm } from '../geometry/distanceTransform';
import { WorkBuffers } from './workBuffers';

export type { Dims3, SpacingMm };

/**
 * The search's work budget, in row lookups per voxel of the box. The fallback's full passes cost about as much as
 * 8-16 lookups per voxel: on whole-body organs a budget of 1 sent the liver and brain to the fallback with a few
 * hundred queries left, 1.7x slower than finishing the search; 8 did not cost any organ time.
 */
const SEARCH_STEPS_PER_VOXEL = 8;

/**
 * Squared distance (mm^2) from each query voxel to the nearest feature voxel, without transforming the whole grid:
 * surface distances are only ever read at the other mask's surfels, a small fraction of the box. Pass 1 of the
 * separable transform (distances along x0 within each row) is exact and cheap; each query then searches the rows
 * around it outward in x2 and x1, summing ((d0*s0)^2 + (d1*s1)^2) + (d2*s2)^2 in the full transform's order, and
 * stops once the x1/x2 part alone exceeds the best sum found (rounding is monotone, so pruning on a partial sum never
 * skips a closer feature). Values equal squaredDistanceMm2's bit for bit. When the surfaces are far apart the search
 * costs more than the transform; past a work budget it falls back to the full transform.
 * `searchStepsPerVoxel` sets that budget (tests and the warm-up set 0 to take the fallback at once).
 *
 * `features` and `queries` are voxel indices (x0 fastest), `features` ascending. With `work`, the result lives in its
 * slot `outSlot` and the row offsets in a shared slot; without, everything is freshly allocated.
 */
export function squaredDistanceAtMm2(
  features: Int32Array, queries: Int32Array, dims: Dims3, spacingMm: SpacingMm, work?: WorkBuffers, outSlot = 'distance',
  searchStepsPerVoxel = SEARCH_STEPS_PER_VOXEL,
): Float64Array {
  const [n0, n1, n2] = dims;
  const n = n0 * n1 * n2;
  const out = work ? work.f64(outSlot, queries.length) : new Float64Array(queries.length);
  if (features.length === 0) return out.fill(Infinity);
  if (n0 >= 65535) throw new Error(`surface distances: a box row of ${n0} voxels is longer than the search's offsets hold (65534)`);
  const w = work ?? new WorkBuffers();
  const heap = w.heap;
  const f = heap.hold(features), q = heap.hold(queries);
  try {
    // The offsets take a byte a voxel (two on rows longer than 254); their buffer is sized for the fallback's
    // doubles, which overwrite them in place (pages never touched cost no memory, so the search alone uses an eighth
    // of it). First-touched memory is what a fresh thread pays most for: on the benchmark's VM a page fault costs ~20 us.
    const buffer = w.f64('row-offsets', n);
    const wide = n0 < 255 ? 0 : 1;
    const off = wide ? new Uint16Array(buffer.buffer, buffer.byteOffset, n) : new Uint8Array(buffer.buffer, buffer.byteOffset, n);
    heap.kernels.rowOffsets(f.view.byteOffset, features.length, n0, n, buffer.byteOffset, wide);
    const s0 = spacingMm[0], s1 = spacingMm[1], s2 = spacingMm[2];
    // squared mm along x0 by stored offset (offset + 1; 0 = no feature on the row), exactly as the full transform's
    // first pass computes it: ((q - p) * s0)^2
    const sq0 = w.f64('sq-0', n0 + 1);
    sq0[0] = Infinity;
    for (let o = 0; o < n0; o++) { const d = o * s0; sq0[o + 1] = d * d; }
    // squared mm of whole steps along x1 and x2, as the transform's passes compute them: (u * s1)^2, (t * s2)^2
    const sqJ = w.f64('sq-1', n1 + 1);
    for (let u = 0; u <= n1; u++) { const d = u * s1; sqJ[u] = d * d; }
    const sqK = w.f64('sq-2', n2 + 1);
    for (let t = 0; t <= n2; t++) { const d = t * s2; sqK[t] = d * d; }
    // The search (the kernel's searchRows), a few thousand queries a call: per query, the rows around it outward in
    // x2 and x1, stopping once the x1/x2 part alone exceeds the best sum found (rounding is monotone, so pruning on
    // a partial sum never skips a closer feature). Far-apart surfaces make it long; past this much work (row
    // lookups), finish the x1 pass over the box instead and search along x2 only (the transform's pass 2, then pass
    // 3 evaluated at the queries alone).
    const budget = n * searchStepsPerVoxel;
    // the distances straight into `out` when it is in the heap (a work slot), else through a block of their own
    const direct = heap.addressOf(out) !== undefined;
    const to = direct ? out.byteOffset : heap.alloc(queries.length * 8);
    let qi = 0;
    try {
      heap.kernels.work.value = 0;
      while (qi < queries.length) {
        const next = heap.kernels.searchRows(buffer.byteOffset, wide, n0, n1, n2, q.view.byteOffset, qi, Math.min(queries.length, qi + QUERIES_PER_CALL),
          to, sq0.byteOffset, sqJ.byteOffset, sqK.byteOffset, budget);
        if (next === qi) break;
        qi = next;
      }
      if (!direct) out.set(heap.f64(to, qi));
    } finally {
      if (!direct) heap.release(to, queries.length * 8);
    }
    if (qi < queries.length) fallback(off, buffer, sq0, dims, spacingMm, queries, qi, out);
    return out;
  } finally {
    heap.unhold(f);
    heap.unhold(q);
    if (!work) w.release();
  }
}

/** Queries per kernel call: short calls let V8's tier-up (between calls) reach the search within the first organ. */
const QUERIES_PER_CALL = 4096;

/**
 * The full transform's passes 2 and 3 for the queries from `qi` on, where the search ran past its budget: the
 * offsets become pass 1's squared mm in place, pass 2 runs over the box, pass 3 only at the queries.
 */
function fallback(
  off: Uint8Array | Uint16Array, buffer: Float64Array, sq0: Float64Array, [n0, n1, n2]: Dims3, [, s1, s2]: SpacingMm,
  queries: Int32Array, from: number, out: Float64Array,
): void {
  const n = n0 * n1 * n2;
  const plane = n0 * n1;
  // in place, from the last voxel down: f1[v] covers the offsets of voxels 8v..8v+7 (1-byte offsets) or 4v..4v+3
  // (2 bytes), all at or above v, so each offset is read before it is overwritten
  const f1 = buffer;
  for (let v = n - 1; v >= 0; v--) f1[v] = sq0[off[v]];
  const longest = Math.max(n0, n1);
  const scratch = { f: new Float64Array(longest), out: new Float64Array(longest), v: new Int32Array(longest), z: new Float64Array(longest + 1) };
  for (let k = 0; k < n2; k++) for (let i = 0; i < n0; i++) pass1d(f1, k * plane + i, n0, n1, s1, scratch);
  for (let qi = from; qi < queries.length; qi++) {
    const v = queries[qi];
    const k = Math.floor(v / plane);
    const inPlane = v - k * plane;
    let best = f1[v];
    for (let t = 1; ; t++) {
      const dk = t * s2;
      const dk2 = dk * dk;
      if (dk2 > best || (k - t < 0 && k + t >= n2)) break;
      if (k - t >= 0) { const c = f1[inPlane + (k - t) * plane] + dk2; if (c < best) best = c; }
      if (k + t < n2) { const c = f1[inPlane + (k + t) * plane] + dk2; if (c < best) best = c; }
    }
    out[qi] = best;
  }
}
