/**
 * Surface distances in mm on a 3D grid with anisotropic spacing, read only where they are needed
 * (squaredDistanceAtMm2), bit for bit equal to the exact transform of geometry/distanceTransform.ts: sums are
 * formed in its order, ((d0*s0)^2 + (d1*s1)^2) + (d2*s2)^2, scipy.ndimage.distance_transform_edt's order, which
 * matters where a surface distance is compared with a tolerance (NSD counts `d <= tau`).
 */

import { pass1d, type Dims3, type SpacingMm } from '../geometry/distanceTransform';
import type { WorkBuffers } from './workBuffers';

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
  // The offsets take a byte a voxel (two on rows longer than 254); their buffer is sized for the fallback's doubles,
  // which overwrite them in place (pages never touched cost no memory, so the search alone uses an eighth of it).
  // First-touched memory is what a fresh thread pays most for: on the benchmark's VM a page fault costs ~20 us.
  const buffer = work ? work.f64('row-offsets', n) : new Float64Array(n);
  const off = n0 < 255 ? new Uint8Array(buffer.buffer, buffer.byteOffset, n)
    : n0 < 65535 ? new Uint16Array(buffer.buffer, buffer.byteOffset, n) : new Int32Array(buffer.buffer, buffer.byteOffset, n);
  rowOffsets(features, n, n0, off);
  const s0 = spacingMm[0], s1 = spacingMm[1], s2 = spacingMm[2];
  // squared mm along x0 by stored offset (offset + 1; 0 = no feature on the row), exactly as the full transform's
  // first pass computes it: ((q - p) * s0)^2
  const sq0 = new Float64Array(n0 + 1);
  sq0[0] = Infinity;
  for (let o = 0; o < n0; o++) { const d = o * s0; sq0[o + 1] = d * d; }
  const plane = n0 * n1;
  // squared mm of whole steps along x1 and x2, as the transform's passes compute them: (u * s1)^2, (t * s2)^2
  const sqJ = new Float64Array(n1 + 1);
  for (let u = 0; u <= n1; u++) { const d = u * s1; sqJ[u] = d * d; }
  const sqK = new Float64Array(n2 + 1);
  for (let t = 0; t <= n2; t++) { const d = t * s2; sqK[t] = d * d; }
  // Far-apart surfaces make the x1/x2 search long; past this much work, finish the x1 pass over the box instead and
  // search along x2 only (the transform's pass 2, then pass 3 evaluated at the queries alone).
  const budget = n * searchStepsPerVoxel;
  let work2 = 0;
  let qi = 0;
  for (; qi < queries.length && work2 <= budget; qi++) {
    const v = queries[qi];
    const k = (v / plane) | 0;
    const inPlane = v - k * plane;
    const j = (inPlane / n0) | 0;
    const i = inPlane - j * n0;
    let best = sq0[off[v]];
    const rowOfJ = j * n0 + i;
    const below = j, above = n1 - 1 - j;
    for (let t = 0; ; t++) {
      const dk2 = sqK[t];
      if (dk2 > best) break;
      const kl = k - t, kh = k + t;
      if (kl < 0 && kh >= n2) break;
      // plane k once (t = 0), then planes k - t and k + t
      for (let side = t === 0 ? 1 : 0; side < 2; side++) {
        const kk = side === 0 ? kl : kh;
        if (kk < 0 || kk >= n2) continue;
        let lo = kk * plane + rowOfJ;
        let hi = lo;
        // row j itself: (x + 0) + dk2 is x + dk2 exactly
        const c0 = sq0[off[lo]] + dk2;
        if (c0 < best) best = c0;
        let u = 1;
        for (; u <= below || u <= above; u++) {
          const dj2 = sqJ[u];
          if (dj2 + dk2 > best) break;
          lo -= n0;
          hi += n0;
          if (u <= below) { const c = (sq0[off[lo]] + dj2) + dk2; if (c < best) best = c; }
          if (u <= above) { const c = (sq0[off[hi]] + dj2) + dk2; if (c < best) best = c; }
        }
        work2 += u;
      }
    }
    out[qi] = best;
  }
  if (qi === queries.length) return out;
  // in place, from the last voxel down: f1[v] covers the offsets of voxels 8v..8v+7 (1-byte offsets), 4v..4v+3
  // (2 bytes) or 2v, 2v+1 (4 bytes), all at or above v, so each offset is read before it is overwritten
  const f1 = buffer;
  for (let v = n - 1; v >= 0; v--) f1[v] = sq0[off[v]];
  const longest = Math.max(n0, n1);
  const scratch = { f: new Float64Array(longest), out: new Float64Array(longest), v: new Int32Array(longest), z: new Float64Array(longest + 1) };
  for (let k = 0; k < n2; k++) for (let i = 0; i < n0; i++) pass1d(f1, k * plane + i, n0, n1, s1, scratch);
  for (; qi < queries.length; qi++) {
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
  return out;
}

/**
 * Pass 1 along x0 from sorted feature indices, into `f1` (n voxels): 1 + the offset |q - p| (voxels) to the nearest
 * feature on the row, 0 when the row has none. Offsets, not mm^2: an eighth of the memory of doubles, and
 * ((q - p) * s0)^2 is looked up exactly where it is read. Between two features a row splits at their midpoint (either side of it is
 * as near to one as the other where the gap is even).
 */
function rowOffsets(features: Int32Array, n: number, n0: number, f1: Uint8Array | Uint16Array | Int32Array): void {
  f1.fill(0, 0, n);
  const count = features.length;
  let a = 0;
  while (a < count) {
    const row = features[a] - (features[a] % n0);
    let q = features[a] - row;
    for (let p = 0; p < q; p++) f1[row + p] = q - p + 1;
    f1[row + q] = 1;
    let b = a + 1;
    for (; b < count && features[b] < row + n0; b++) {
      const next = features[b] - row;
      const mid = (q + next) >> 1;
      for (let p = q + 1; p <= mid; p++) f1[row + p] = p - q + 1;
      for (let p = mid + 1; p < next; p++) f1[row + p] = next - p + 1;
      f1[row + next] = 1;
      q = next;
    }
    for (let p = q + 1; p < n0; p++) f1[row + p] = p - q + 1;
    a = b;
  }
}
