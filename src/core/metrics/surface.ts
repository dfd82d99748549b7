/**
 * Surface distances between two binary masks, defined exactly as DeepMind's surface-distance library defines them
 * (Nikolov et al., "Clinically applicable segmentation of head and neck anatomy for radiotherapy", 2018/2021):
 *
 * - Surface points live on the grid of voxel corners. Each corner gets the 8-bit code of the 2x2x2 voxels around it
 *   (voxels outside the volume count as background, so a mask touching the border has a closed surface). A corner
 *   whose code is neither 0 nor 255 is a surface element ("surfel"); its area (mm^2) is the marching-cubes surface
 *   inside that 2x2x2 cell for the voxel spacing (`surfelAreaTable`), exact for anisotropic spacing.
 * - The distance of a surfel to the other mask's surface is the exact Euclidean distance (mm) from its corner to the
 *   nearest surfel corner of the other mask.
 * - Surfels are sorted by (distance, area) and every statistic weights a surfel by its area:
 *     nsd(tau)   surface Dice at tolerance tau mm: (area of gt surfels within tau of the prediction's surface + area of
 *                prediction surfels within tau of the gt's surface) / (total gt area + total prediction area); `<=`.
 *     hdP        robust Hausdorff: max over the two directions of the area-weighted P-th percentile distance (the first
 *                sorted surfel whose cumulative area share reaches P/100). hd95 = P 95.
 *     hd         Hausdorff: the largest distance in either direction.
 *     assd       average symmetric surface distance: the area-weighted mean of the distances of the surfels of both
 *                masks, (sum d*a over gt surfels + sum d*a over prediction surfels) / (total gt + prediction area).
 * Both masks must be non-empty: what an empty mask scores is the caller's rule (see caseMetrics).
 */
import { squaredDistanceAtMm2, type Dims3, type SpacingMm } from './edt';
import type { VoxelBox } from './labelScan';
import { distinctRanks } from './distinctRanks';
import { pairwiseSum } from './numpySum';
import { surfelAreaTable } from './surfelAreas';
import type { WorkBuffers } from './workBuffers';

/** Two binary masks (0/1) on one padded crop: one background voxel on every side of the organ's box. */
export interface MaskPair {
  gt: Uint8Array;
  pred: Uint8Array;
  /** Voxel dims of the padded crop. */
  dims: Dims3;
}

/** Directed surface distances, sorted by (distance, area) as the reference sorts them. */
export interface SurfaceDistances {
  distGtToPredMm: Float64Array;
  areaGtMm2: Float64Array;
  distPredToGtMm: Float64Array;
  areaPredMm2: Float64Array;
}

export interface SurfaceScores {
  nsd: number;
  hd95: number;
  hd: number;
  assd: number;
  surface_gt_mm2: number;
  surface_pred_mm2: number;
}

/** The surfels of one mask: corner-grid dims, their corner indices (ascending) and their neighbourhood codes. */
export interface Surfels {
  dims: Dims3;
  index: Int32Array;
  code: Uint8Array;
}

/**
 * Fills padded plane `z` into `plane` as bit rows (`wordsPerRow` 32-bit words a row; bit b of word w is x0 = 32w + b,
 * bits past the row's end zero), and `rowHas[y]` with whether row y holds any voxel of the mask.
 */
type PlaneSource = (z: number, plane: Uint32Array, rowHas: Uint8Array) => void;

/**
 * Surfels of a padded mask. Corner (p0,p1,p2) of the corner grid sees padded voxels p..p+1 on each axis, and voxel
 * (p0+a, p1+b, p2+c) contributes bit 7-(4a+2b+c) (a along x0): the reference's neighbourhood kernel. A corner is a
 * surfel when its code is neither 0 nor 255.
 */
export function surfelsOf(mask: Uint8Array, dims: Dims3, work?: WorkBuffers, slot = 'surfels'): Surfels {
  const [n0, n1] = dims;
  const wordsPerRow = (n0 + 31) >>> 5;
  return surfelsByPlane(dims, (z, plane, rowHas) => {
    for (let y = 0; y < n1; y++) rowHas[y] = packRow(mask, (z * n1 + y) * n0, n0, 1, 0, plane, y * wordsPerRow, wordsPerRow);
  }, work, slot);
}

/**
 * The same surfels as `surfelsOf(cropLabel(...))` gives for one map, read straight from the label map: the padded
 * crop of `label` in `box` (one background voxel on every side) is never built, only two of its planes at a time.
 * Outside the box the label is absent by construction (the box holds every voxel of it in either map).
 */
export function surfelsOfLabel(labels: ArrayLike<number>, dims: Dims3, label: number, box: VoxelBox, work?: WorkBuffers, slot = 'surfels'): Surfels {
  const [n0, n1] = dims;
  const c0 = box.hi[0] - box.lo[0] + 3, c1 = box.hi[1] - box.lo[1] + 3, c2 = box.hi[2] - box.lo[2] + 3;
  const wordsPerRow = (c0 + 31) >>> 5;
  return surfelsByPlane([c0, c1, c2], (z, plane, rowHas) => {
    plane.fill(0);
    rowHas.fill(0);
    if (z === 0 || z === c2 - 1) return;
    const k = box.lo[2] + z - 1;
    for (let y = 1; y < c1 - 1; y++) {
      rowHas[y] = packRow(labels, box.lo[0] + n0 * (box.lo[1] + y - 1 + n1 * k), c0 - 2, label, 1, plane, y * wordsPerRow, wordsPerRow);
    }
  }, work, slot);
}

/**
 * Packs `count` voxels from `src` (1 where they equal `value`) into bits from x0 = `at` of the row of `rowWords` words
 * starting at word `row` of `plane`, zeroing the row's other bits; returns 1 when any bit is set.
 */
function packRow(
  from: ArrayLike<number>, src: number, count: number, value: number, at: number, plane: Uint32Array, row: number, rowWords: number,
): number {
  let word = row;
  let acc = 0;
  let any = 0;
  let bit = at;
  for (let x = 0; x < count; x++) {
    if (from[src + x] === value) acc |= 1 << bit;
    if (++bit === 32) { plane[word++] = acc; any |= acc; acc = 0; bit = 0; }
  }
  // the partial last word, then zeros up to the row's end (the padding column included)
  const end = row + rowWords;
  if (word < end) { plane[word++] = acc; any |= acc; }
  while (word < end) plane[word++] = 0;
  return any !== 0 ? 1 : 0;
}

/**
 * The corner scan over a window of two padded bit planes (z = p2 and p2 + 1), each plane read once. A corner row
 * sees four voxel rows; per 32 corners, "some voxel set" and "every voxel set" are two word operations, and only
 * corners with some but not every voxel set (the surfels) are visited, in ascending x0.
 */
function surfelsByPlane(dims: Dims3, fillPlane: PlaneSource, work: WorkBuffers | undefined, slot: string): Surfels {
  const [n0, n1, n2] = dims;
  const m0 = n0 - 1, m1 = n1 - 1, m2 = n2 - 1;
  const wordsPerRow = (n0 + 31) >>> 5;
  const planeWords = wordsPerRow * n1;
  let lower = work ? work.u32('surfel-plane-a', planeWords) : new Uint32Array(planeWords);
  let upper = work ? work.u32('surfel-plane-b', planeWords) : new Uint32Array(planeWords);
  let lowerHas = work ? work.u8('surfel-rows-a', n1) : new Uint8Array(n1);
  let upperHas = work ? work.u8('surfel-rows-b', n1) : new Uint8Array(n1);
  // Reused buffers are sized for every corner at once: never grown, and only the pages surfels are written to cost
  // memory. Fresh ones start small.
  const corners = m0 * m1 * m2;
  let index = work ? work.i32Capacity(`${slot}-index`, corners) : new Int32Array(1024);
  let code = work ? work.u8Capacity(`${slot}-code`, corners) : new Uint8Array(1024);
  let n = 0;
  if (m2 > 0) fillPlane(0, lower, lowerHas);
  for (let p2 = 0; p2 < m2; p2++) {
    fillPlane(p2 + 1, upper, upperHas);
    for (let p1 = 0; p1 < m1; p1++) {
      if (!(lowerHas[p1] | lowerHas[p1 + 1] | upperHas[p1] | upperHas[p1 + 1])) continue;
      // voxel rows: A = (p1, p2), B = (p1, p2+1), C = (p1+1, p2), D = (p1+1, p2+1); column code of x0 = A B C D
      const r0 = p1 * wordsPerRow, r1 = r0 + wordsPerRow;
      const outRow = p1 * m0 + p2 * m0 * m1;
      let a = lower[r0], b = upper[r0], c = lower[r1], d = upper[r1];
      for (let w = 0; w < wordsPerRow; w++) {
        const last = w === wordsPerRow - 1;
        const na = last ? 0 : lower[r0 + w + 1], nb = last ? 0 : upper[r0 + w + 1];
        const nc = last ? 0 : lower[r1 + w + 1], nd = last ? 0 : upper[r1 + w + 1];
        const any = a | b | c | d, all = a & b & c & d;
        // corner x0 sees voxels x0 and x0 + 1: bit 31's neighbour is the next word's bit 0
        const anyCorner = any | (any >>> 1) | ((na | nb | nc | nd) << 31);
        const allCorner = all & ((all >>> 1) | ((na & nb & nc & nd) << 31));
        let surfel = anyCorner & ~allCorner;
        while (surfel !== 0) {
          const low = surfel & -surfel;
          surfel ^= low;
          const bit = 31 - Math.clz32(low);
          const here = ((a >>> bit) & 1) << 3 | ((b >>> bit) & 1) << 2 | ((c >>> bit) & 1) << 1 | ((d >>> bit) & 1);
          const next = bit === 31
            ? (na & 1) << 3 | (nb & 1) << 2 | (nc & 1) << 1 | (nd & 1)
            : ((a >>> (bit + 1)) & 1) << 3 | ((b >>> (bit + 1)) & 1) << 2 | ((c >>> (bit + 1)) & 1) << 1 | ((d >>> (bit + 1)) & 1);
          if (n === index.length) {
            if (work) {
              index = work.i32Capacity(`${slot}-index`, n * 2, n);
              code = work.u8Capacity(`${slot}-code`, n * 2, n);
            } else {
              const grownIndex = new Int32Array(n * 2); grownIndex.set(index); index = grownIndex;
              const grownCode = new Uint8Array(n * 2); grownCode.set(code); code = grownCode;
            }
          }
          index[n] = outRow + (w << 5) + bit;
          code[n++] = (here << 4) | next;
        }
        a = na; b = nb; c = nc; d = nd;
      }
    }
    [lower, upper] = [upper, lower];
    [lowerHas, upperHas] = [upperHas, lowerHas];
  }
  return { dims: [m0, m1, m2], index: index.subarray(0, n), code: code.subarray(0, n) };
}

/**
 * With `work` (a thread's reused buffers) the returned arrays live in its slots and are valid until the next call
 * with the same buffers; without, they are fresh.
 */
export function surfaceDistances(pair: MaskPair, spacingMm: SpacingMm, work?: WorkBuffers): SurfaceDistances {
  return distancesBetween(surfelsOf(pair.gt, pair.dims, work, 'surfels-gt'), surfelsOf(pair.pred, pair.dims, work, 'surfels-pred'), spacingMm, work);
}

/** `surfaceDistances` of one label's padded crop, read straight from both label maps (no crop is built). */
export function labelSurfaceDistances(
  gt: ArrayLike<number>, pred: ArrayLike<number>, dims: Dims3, label: number, box: VoxelBox, spacingMm: SpacingMm, work?: WorkBuffers,
): SurfaceDistances {
  return distancesBetween(
    surfelsOfLabel(gt, dims, label, box, work, 'surfels-gt'), surfelsOfLabel(pred, dims, label, box, work, 'surfels-pred'), spacingMm, work,
  );
}

function distancesBetween(g: Surfels, p: Surfels, spacingMm: SpacingMm, work: WorkBuffers | undefined): SurfaceDistances {
  const areaOf = surfelAreaTable(spacingMm);
  if (work) {
    // the temporaries both directions share, sized once for the larger side (not grown between the two)
    const most = Math.max(g.index.length, p.index.length);
    work.i32('distinct-rank', most);
  }
  // distances are read only at the other mask's surfels
  const gtToPred = squaredDistanceAtMm2(p.index, g.index, g.dims, spacingMm, work, 'distance-gt');
  const predToGt = squaredDistanceAtMm2(g.index, p.index, g.dims, spacingMm, work, 'distance-pred');
  const [distGtToPredMm, areaGtMm2] = sortedSurfels(g.code, gtToPred, areaOf, work, 'sorted-gt');
  const [distPredToGtMm, areaPredMm2] = sortedSurfels(p.code, predToGt, areaOf, work, 'sorted-pred');
  return { distGtToPredMm, areaGtMm2, distPredToGtMm, areaPredMm2 };
}

/**
 * The surfels of one mask with their distance to the other surface, sorted by (distance, area): ties in distance
 * ordered by area, as the reference's sort of (distance, area) tuples does, so that the cumulative sums that pick
 * a percentile add in the same order. Areas take few distinct values (one per code class), so a surfel's sort key
 * is an integer: (rank of its distance among the distinct distances) * (distinct areas) + (rank of its area). The
 * distinct distances are found by hashing (distinctRanks), so only they are sorted; the surfels are then laid out by
 * a counting sort over the keys, or a native sort of them where the distances are many.
 */
function sortedSurfels(codes: Uint8Array, squaredDist: Float64Array, areaOf: Float64Array, work?: WorkBuffers, slot = 'sorted'): [Float64Array, Float64Array] {
  const n = codes.length;
  const distinctAreas = [...new Set(Array.from({ length: 254 }, (_, c) => areaOf[c + 1]))].sort((a, b) => a - b);
  const rankOfArea = new Map(distinctAreas.map((a, r) => [a, r]));
  const rankOfCode = new Uint16Array(256);
  for (let c = 1; c < 255; c++) rankOfCode[c] = rankOfArea.get(areaOf[c])!;
  const nAreas = distinctAreas.length;

  // in place: the squared distances are not needed again
  const dist = squaredDist;
  for (let x = 0; x < n; x++) dist[x] = Math.sqrt(dist[x]);
  const { distinct, rank } = distinctRanks(dist, work);
  const nDistinct = distinct.length;
  // the sorted distances overwrite the unsorted ones (only their ranks are read from here on)
  const outDist = dist;
  const outArea = work ? work.f64(`${slot}-area`, n) : new Float64Array(n);
  if (nDistinct * nAreas <= 4 * n + 4096) {
    // counting sort over (distance rank, area rank): one pass to count, one to lay out
    const counts = work ? work.i32('sort-counts', nDistinct * nAreas).fill(0) : new Int32Array(nDistinct * nAreas);
    for (let x = 0; x < n; x++) counts[rank[x] * nAreas + rankOfCode[codes[x]]]++;
    let o = 0;
    for (let d = 0, key = 0; d < nDistinct; d++) {
      for (let r = 0; r < nAreas; r++, key++) {
        for (let m = counts[key]; m > 0; m--, o++) { outDist[o] = distinct[d]; outArea[o] = distinctAreas[r]; }
      }
    }
    return [outDist, outArea];
  }
  // many distinct distances (surfaces far apart): sort integer keys natively instead
  const keys = work ? work.f64('sort-keys', n) : new Float64Array(n);
  for (let x = 0; x < n; x++) keys[x] = rank[x] * nAreas + rankOfCode[codes[x]];
  keys.sort();
  for (let x = 0; x < n; x++) {
    const r = keys[x] % nAreas;
    outDist[x] = distinct[(keys[x] - r) / nAreas];
    outArea[x] = distinctAreas[r];
  }
  return [outDist, outArea];
}

/** Area-weighted P-th percentile of sorted directed distances (the reference's compute_robust_hausdorff, one side). */
export function percentileDistance(dist: Float64Array, area: Float64Array, percent: number): number {
  if (dist.length === 0) return Infinity;
  const total = pairwiseSum(area);
  const target = percent / 100;
  let cum = 0;
  for (let i = 0; i < dist.length; i++) {
    cum += area[i];
    if (cum / total >= target) return dist[i];
  }
  return dist[dist.length - 1];
}

/** Area within tolerance: sorted distances make `d <= tau` a prefix, summed as numpy sums the masked array. */
function areaWithin(dist: Float64Array, area: Float64Array, tauMm: number): number {
  let n = 0;
  while (n < dist.length && dist[n] <= tauMm) n++;
  return pairwiseSum(area, 0, n);
}

/** Sum of d * a in sorted order (numpy's sum of the product array); `inPlace` writes the products over `dist`. */
function weightedDistanceSum(dist: Float64Array, area: Float64Array, inPlace: boolean): number {
  const prod = inPlace ? dist : new Float64Array(dist.length);
  for (let i = 0; i < prod.length; i++) prod[i] = dist[i] * area[i];
  return pairwiseSum(prod);
}

/**
 * With `work`, the distances are taken to live in that thread's buffers (labelSurfaceDistances with the same `work`)
 * and are overwritten by the last step (ASSD's products): first-touched memory is what a fresh thread pays most for.
 */
export function scoreSurfaces(s: SurfaceDistances, tauMm: number, hdPercentile = 95, work?: WorkBuffers): SurfaceScores {
  const totalGt = pairwiseSum(s.areaGtMm2);
  const totalPred = pairwiseSum(s.areaPredMm2);
  const nsd = (areaWithin(s.distGtToPredMm, s.areaGtMm2, tauMm) + areaWithin(s.distPredToGtMm, s.areaPredMm2, tauMm)) / (totalGt + totalPred);
  const hd95 = Math.max(percentileDistance(s.distGtToPredMm, s.areaGtMm2, hdPercentile), percentileDistance(s.distPredToGtMm, s.areaPredMm2, hdPercentile));
  const last = (d: Float64Array) => (d.length ? d[d.length - 1] : Infinity);
  const hd = Math.max(last(s.distGtToPredMm), last(s.distPredToGtMm));
  // last: with `work` it overwrites the distances
  const assd = (weightedDistanceSum(s.distGtToPredMm, s.areaGtMm2, !!work) + weightedDistanceSum(s.distPredToGtMm, s.areaPredMm2, !!work)) / (totalGt + totalPred);
  return { nsd, hd95, hd, assd, surface_gt_mm2: totalGt, surface_pred_mm2: totalPred };
}
