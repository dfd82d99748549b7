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
import { pairwiseSum } from './numpySum';
import { surfelAreaTable } from './surfelAreas';

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
 * Surfels of a padded mask. Corner (p0,p1,p2) of the corner grid sees padded voxels p..p+1 on each axis, and voxel
 * (p0+a, p1+b, p2+c) contributes bit 7-(4a+2b+c) (a along x0): the reference's neighbourhood kernel. A corner is a
 * surfel when its code is neither 0 nor 255. The 4 voxels of one x0 position form a column code shared by the two
 * corners beside it, so each voxel is read twice instead of eight times, and corner rows whose four voxel rows are
 * empty are skipped.
 */
export function surfelsOf(mask: Uint8Array, dims: Dims3): Surfels {
  const [n0, n1, n2] = dims;
  const m0 = n0 - 1, m1 = n1 - 1, m2 = n2 - 1;
  const s1 = n0, s2 = n0 * n1;
  const rowHas = new Uint8Array(n1 * n2);
  for (let r = 0; r < n1 * n2; r++) {
    for (let v = r * n0, end = v + n0; v < end; v++) if (mask[v]) { rowHas[r] = 1; break; }
  }
  let index = new Int32Array(1024);
  let code = new Uint8Array(1024);
  let n = 0;
  for (let p2 = 0; p2 < m2; p2++) {
    for (let p1 = 0; p1 < m1; p1++) {
      const r = p1 + n1 * p2;
      if (!(rowHas[r] | rowHas[r + 1] | rowHas[r + n1] | rowHas[r + n1 + 1])) continue;
      let at = p2 * s2 + p1 * s1;
      let out = p1 * m0 + p2 * m0 * m1;
      // column code of x0 = at: bits (b,c) = (0,0) (0,1) (1,0) (1,1) -> 3 2 1 0
      let prev = (mask[at] << 3) | (mask[at + s2] << 2) | (mask[at + s1] << 1) | mask[at + s1 + s2];
      for (let p0 = 0; p0 < m0; p0++, out++) {
        at++;
        const next = (mask[at] << 3) | (mask[at + s2] << 2) | (mask[at + s1] << 1) | mask[at + s1 + s2];
        const c = (prev << 4) | next;
        prev = next;
        if (c === 0 || c === 255) continue;
        if (n === index.length) {
          const grownIndex = new Int32Array(n * 2); grownIndex.set(index); index = grownIndex;
          const grownCode = new Uint8Array(n * 2); grownCode.set(code); code = grownCode;
        }
        index[n] = out;
        code[n++] = c;
      }
    }
  }
  return { dims: [m0, m1, m2], index: index.subarray(0, n), code: code.subarray(0, n) };
}

export function surfaceDistances(pair: MaskPair, spacingMm: SpacingMm): SurfaceDistances {
  const areaOf = surfelAreaTable(spacingMm);
  const g = surfelsOf(pair.gt, pair.dims);
  const p = surfelsOf(pair.pred, pair.dims);
  // distances are read only at the other mask's surfels
  const gtToPred = squaredDistanceAtMm2(p.index, g.index, g.dims, spacingMm);
  const predToGt = squaredDistanceAtMm2(g.index, p.index, g.dims, spacingMm);
  const [distGtToPredMm, areaGtMm2] = sortedSurfels(g.code, gtToPred, areaOf);
  const [distPredToGtMm, areaPredMm2] = sortedSurfels(p.code, predToGt, areaOf);
  return { distGtToPredMm, areaGtMm2, distPredToGtMm, areaPredMm2 };
}

/**
 * The surfels of one mask with their distance to the other surface, sorted by (distance, area): ties in distance
 * ordered by area, as the reference's sort of (distance, area) tuples does, so that the cumulative sums that pick
 * a percentile add in the same order. Areas take few distinct values (one per code class), so a surfel's sort key
 * is an integer: (rank of its distance among the distinct distances) * (distinct areas) + (rank of its area), and
 * both sorts are native typed-array sorts.
 */
function sortedSurfels(codes: Uint8Array, squaredDist: Float64Array, areaOf: Float64Array): [Float64Array, Float64Array] {
  const n = codes.length;
  const distinctAreas = [...new Set(Array.from({ length: 254 }, (_, c) => areaOf[c + 1]))].sort((a, b) => a - b);
  const rankOfArea = new Map(distinctAreas.map((a, r) => [a, r]));
  const rankOfCode = new Uint16Array(256);
  for (let c = 1; c < 255; c++) rankOfCode[c] = rankOfArea.get(areaOf[c])!;
  const nAreas = distinctAreas.length;

  const dist = new Float64Array(n);
  for (let x = 0; x < n; x++) dist[x] = Math.sqrt(squaredDist[x]);
  const sorted = dist.slice().sort();
  let nDistinct = 0;
  for (let x = 0; x < n; x++) if (x === 0 || sorted[x] !== sorted[nDistinct - 1]) sorted[nDistinct++] = sorted[x];
  const distinct = sorted.subarray(0, nDistinct);
  const outDist = new Float64Array(n);
  const outArea = new Float64Array(n);
  if (nDistinct * nAreas <= 4 * n + 4096) {
    // counting sort over (distance rank, area rank): one pass to count, one to lay out
    const counts = new Int32Array(nDistinct * nAreas);
    for (let x = 0; x < n; x++) counts[rankOf(distinct, dist[x]) * nAreas + rankOfCode[codes[x]]]++;
    let o = 0;
    for (let d = 0, key = 0; d < nDistinct; d++) {
      for (let r = 0; r < nAreas; r++, key++) {
        for (let m = counts[key]; m > 0; m--, o++) { outDist[o] = distinct[d]; outArea[o] = distinctAreas[r]; }
      }
    }
    return [outDist, outArea];
  }
  // many distinct distances (surfaces far apart): sort integer keys natively instead
  const keys = new Float64Array(n);
  for (let x = 0; x < n; x++) keys[x] = rankOf(distinct, dist[x]) * nAreas + rankOfCode[codes[x]];
  keys.sort();
  for (let x = 0; x < n; x++) {
    const rank = keys[x] % nAreas;
    outDist[x] = distinct[(keys[x] - rank) / nAreas];
    outArea[x] = distinctAreas[rank];
  }
  return [outDist, outArea];
}

/** Index of `value` in the sorted distinct array (present by construction). */
function rankOf(distinct: Float64Array, value: number): number {
  let lo = 0, hi = distinct.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (distinct[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

function weightedDistanceSum(dist: Float64Array, area: Float64Array): number {
  const prod = new Float64Array(dist.length);
  for (let i = 0; i < prod.length; i++) prod[i] = dist[i] * area[i];
  return pairwiseSum(prod);
}

export function scoreSurfaces(s: SurfaceDistances, tauMm: number, hdPercentile = 95): SurfaceScores {
  const totalGt = pairwiseSum(s.areaGtMm2);
  const totalPred = pairwiseSum(s.areaPredMm2);
  const nsd = (areaWithin(s.distGtToPredMm, s.areaGtMm2, tauMm) + areaWithin(s.distPredToGtMm, s.areaPredMm2, tauMm)) / (totalGt + totalPred);
  const hd95 = Math.max(percentileDistance(s.distGtToPredMm, s.areaGtMm2, hdPercentile), percentileDistance(s.distPredToGtMm, s.areaPredMm2, hdPercentile));
  const last = (d: Float64Array) => (d.length ? d[d.length - 1] : Infinity);
  const hd = Math.max(last(s.distGtToPredMm), last(s.distPredToGtMm));
  const assd = (weightedDistanceSum(s.distGtToPredMm, s.areaGtMm2) + weightedDistanceSum(s.distPredToGtMm, s.areaPredMm2)) / (totalGt + totalPred);
  return { nsd, hd95, hd, assd, surface_gt_mm2: totalGt, surface_pred_mm2: totalPred };
}
