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
import { squaredDistanceMm2, type Dims3, type SpacingMm } from './edt';
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

/**
 * Code of every voxel corner: corner (p0,p1,p2) of the corner grid sees padded voxels p..p+1 on each axis, and
 * voxel (p0+a, p1+b, p2+c) contributes bit 7-(4a+2b+c) (a along x0), the reference's neighbourhood kernel.
 */
export function cornerCodes(mask: Uint8Array, dims: Dims3): { codes: Uint8Array; dims: Dims3 } {
  const [n0, n1, n2] = dims;
  const m0 = n0 - 1, m1 = n1 - 1, m2 = n2 - 1;
  const codes = new Uint8Array(m0 * m1 * m2);
  const s1 = n0, s2 = n0 * n1;
  let out = 0;
  for (let p2 = 0; p2 < m2; p2++) {
    for (let p1 = 0; p1 < m1; p1++) {
      let at = p2 * s2 + p1 * s1;
      for (let p0 = 0; p0 < m0; p0++, at++, out++) {
        codes[out] =
          (mask[at] << 7) | (mask[at + s2] << 6) | (mask[at + s1] << 5) | (mask[at + s1 + s2] << 4) |
          (mask[at + 1] << 3) | (mask[at + 1 + s2] << 2) | (mask[at + 1 + s1] << 1) | mask[at + 1 + s1 + s2];
      }
    }
  }
  return { codes, dims: [m0, m1, m2] };
}

function surfels(codes: Uint8Array): Uint8Array {
  const border = new Uint8Array(codes.length);
  for (let v = 0; v < codes.length; v++) border[v] = codes[v] !== 0 && codes[v] !== 255 ? 1 : 0;
  return border;
}

export function surfaceDistances(pair: MaskPair, spacingMm: SpacingMm): SurfaceDistances {
  const areaOf = surfelAreaTable(spacingMm);
  const g = cornerCodes(pair.gt, pair.dims);
  const p = cornerCodes(pair.pred, pair.dims);
  const borderGt = surfels(g.codes);
  const borderPred = surfels(p.codes);
  const toGt = squaredDistanceMm2(borderGt, g.dims, spacingMm);
  const toPred = squaredDistanceMm2(borderPred, g.dims, spacingMm);
  const [distGtToPredMm, areaGtMm2] = sortedSurfels(borderGt, g.codes, toPred, areaOf);
  const [distPredToGtMm, areaPredMm2] = sortedSurfels(borderPred, p.codes, toGt, areaOf);
  return { distGtToPredMm, areaGtMm2, distPredToGtMm, areaPredMm2 };
}

/**
 * The surfels of one mask with their distance to the other surface, sorted by (distance, area). Ties in distance
 * are ordered by area, as the reference's sort of (distance, area) tuples does: the cumulative sums that pick a
 * percentile then add in the same order. Surfels are grouped by area value (at most 254 distinct), each group's
 * distances sorted natively, and the groups merged: far faster than sorting pairs with a comparator.
 */
function sortedSurfels(border: Uint8Array, codes: Uint8Array, squaredDist: Float64Array, areaOf: Float64Array): [Float64Array, Float64Array] {
  const distinctAreas = [...new Set(Array.from({ length: 254 }, (_, c) => areaOf[c + 1]))].sort((a, b) => a - b);
  const rankOfArea = new Map(distinctAreas.map((a, r) => [a, r]));
  const rankOfCode = new Uint16Array(256);
  for (let c = 1; c < 255; c++) rankOfCode[c] = rankOfArea.get(areaOf[c])!;

  const counts = new Int32Array(distinctAreas.length);
  for (let v = 0; v < border.length; v++) if (border[v]) counts[rankOfCode[codes[v]]]++;
  let runs: Run[] = [];
  const fill = new Int32Array(distinctAreas.length);
  const groups = Array.from(counts, (n) => new Float64Array(n));
  for (let v = 0; v < border.length; v++) {
    if (!border[v]) continue;
    const r = rankOfCode[codes[v]];
    groups[r][fill[r]++] = Math.sqrt(squaredDist[v]);
  }
  groups.forEach((d, r) => {
    if (d.length === 0) return;
    d.sort();
    runs.push({ d, rank: new Uint16Array(d.length).fill(r) });
  });
  while (runs.length > 1) {
    const next: Run[] = [];
    for (let i = 0; i < runs.length; i += 2) next.push(i + 1 < runs.length ? mergeRuns(runs[i], runs[i + 1]) : runs[i]);
    runs = next;
  }
  const merged = runs[0] ?? { d: new Float64Array(0), rank: new Uint16Array(0) };
  const area = new Float64Array(merged.d.length);
  for (let i = 0; i < area.length; i++) area[i] = distinctAreas[merged.rank[i]];
  return [merged.d, area];
}

interface Run { d: Float64Array; rank: Uint16Array }

function mergeRuns(a: Run, b: Run): Run {
  const n = a.d.length + b.d.length;
  const d = new Float64Array(n);
  const rank = new Uint16Array(n);
  let i = 0, j = 0, o = 0;
  while (i < a.d.length && j < b.d.length) {
    if (a.d[i] < b.d[j] || (a.d[i] === b.d[j] && a.rank[i] <= b.rank[j])) { d[o] = a.d[i]; rank[o++] = a.rank[i++]; }
    else { d[o] = b.d[j]; rank[o++] = b.rank[j++]; }
  }
  while (i < a.d.length) { d[o] = a.d[i]; rank[o++] = a.rank[i++]; }
  while (j < b.d.length) { d[o] = b.d[j]; rank[o++] = b.rank[j++]; }
  return { d, rank };
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
