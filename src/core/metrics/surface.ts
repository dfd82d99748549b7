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
import { surfelsOf, surfelsOfLabel, type Surfels } from './surfels';
import { threadHeap, type KernelHeap, type LabelData } from './kernelHeap';
import { WorkBuffers } from './workBuffers';

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
 * With `work` (a thread's reused buffers) the returned arrays live in its slots and are valid until the next call
 * with the same buffers; without, they are fresh.
 */
export function surfaceDistances(pair: MaskPair, spacingMm: SpacingMm, work?: WorkBuffers): SurfaceDistances {
  return distancesBetween(surfelsOf(pair.gt, pair.dims, work, 'surfels-gt'), surfelsOf(pair.pred, pair.dims, work, 'surfels-pred'), spacingMm, work);
}

/**
 * `surfaceDistances` of one label's padded crop, read straight from both label maps (no crop is built).
 * `areaOf`, when given, is `surfelAreaTable(spacingMm)` computed once by the caller: a case's organs share it, and a
 * worker that is handed it never runs the table's geometry (whose first, uncompiled run and compilation cost a fresh
 * thread more than a small organ's whole score).
 */
export function labelSurfaceDistances(
  gt: LabelData, pred: LabelData, dims: Dims3, label: number, box: VoxelBox, spacingMm: SpacingMm, work?: WorkBuffers,
  areaOf?: Float64Array,
): SurfaceDistances {
  return distancesBetween(
    surfelsOfLabel(gt, dims, label, box, work, 'surfels-gt'), surfelsOfLabel(pred, dims, label, box, work, 'surfels-pred'), spacingMm, work, areaOf,
  );
}

function distancesBetween(g: Surfels, p: Surfels, spacingMm: SpacingMm, work: WorkBuffers | undefined, areaOf = surfelAreaTable(spacingMm)): SurfaceDistances {
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
  const w = work ?? new WorkBuffers();
  const heap = w.heap;
  const k = heap.kernels;
  const distinctAreas = [...new Set(Array.from({ length: 254 }, (_, c) => areaOf[c + 1]))].sort((a, b) => a - b);
  const rankOfArea = new Map(distinctAreas.map((a, r) => [a, r]));
  const rankOfCode = w.u16('area-rank-of-code', 256);
  rankOfCode[0] = rankOfCode[255] = 0;
  for (let c = 1; c < 255; c++) rankOfCode[c] = rankOfArea.get(areaOf[c])!;
  const nAreas = distinctAreas.length;
  const c = heap.hold(codes), d = heap.hold(squaredDist);
  try {
    // in place: the squared distances are not needed again
    const dist = d.view;
    k.sqrtAll(dist.byteOffset, n);
    const { distinct, rank } = distinctRanks(dist, w);
    const nDistinct = distinct.length;
    // the sorted distances overwrite the unsorted ones (only their ranks are read from here on)
    const outDist = dist;
    const outArea = w.f64(`${slot}-area`, n);
    if (nDistinct * nAreas <= 4 * n + 4096) {
      // counting sort over (distance rank, area rank): one pass to count, one to lay out (the kernel's countingSort)
      const sortedDistinct = heap.hold(distinct);
      const areas = w.f64('distinct-areas', nAreas);
      areas.set(distinctAreas);
      k.countingSort(rank.byteOffset, c.view.byteOffset, n, rankOfCode.byteOffset, nAreas, w.i32('sort-counts', nDistinct * nAreas).byteOffset,
        nDistinct, sortedDistinct.view.byteOffset, areas.byteOffset, outDist.byteOffset, outArea.byteOffset);
      heap.unhold(sortedDistinct);
    } else {
      // many distinct distances (surfaces far apart): sort integer keys natively instead
      const keys = w.f64('sort-keys', n);
      for (let x = 0; x < n; x++) keys[x] = rank[x] * nAreas + rankOfCode[codes[x]];
      keys.sort();
      for (let x = 0; x < n; x++) {
        const r = keys[x] % nAreas;
        outDist[x] = distinct[(keys[x] - r) / nAreas];
        outArea[x] = distinctAreas[r];
      }
    }
    if (work) return [outDist, outArea];
    squaredDist.set(outDist);
    return [squaredDist, outArea.slice()];
  } finally {
    heap.unhold(c);
    heap.unhold(d);
    if (!work) w.release();
  }
}

/** Area-weighted P-th percentile of sorted directed distances (the reference's compute_robust_hausdorff, one side). */
export function percentileDistance(dist: Float64Array, area: Float64Array, percent: number, heap: KernelHeap = threadHeap()): number {
  if (dist.length === 0) return Infinity;
  const total = pairwiseSum(area, 0, area.length, heap);
  const a = heap.hold(area);
  try {
    return dist[heap.kernels.percentileIndex(a.view.byteOffset, dist.length, total, percent / 100)];
  } finally {
    heap.unhold(a);
  }
}

/** Area within tolerance: sorted distances make `d <= tau` a prefix, summed as numpy sums the masked array. */
function areaWithin(dist: Float64Array, area: Float64Array, tauMm: number, heap: KernelHeap): number {
  const d = heap.hold(dist);
  try {
    return pairwiseSum(area, 0, heap.kernels.countAtMost(d.view.byteOffset, dist.length, tauMm), heap);
  } finally {
    heap.unhold(d);
  }
}

/** Sum of d * a in sorted order (numpy's sum of the product array); `inPlace` writes the products over `dist`. */
function weightedDistanceSum(dist: Float64Array, area: Float64Array, inPlace: boolean, heap: KernelHeap): number {
  const d = heap.hold(dist), a = heap.hold(area);
  const prod = inPlace ? d.view : heap.f64(heap.alloc(dist.length * 8), dist.length);
  try {
    heap.kernels.multiplyInto(prod.byteOffset, d.view.byteOffset, a.view.byteOffset, dist.length);
    return pairwiseSum(prod, 0, prod.length, heap);
  } finally {
    if (!inPlace) heap.release(prod.byteOffset, prod.byteLength);
    heap.unhold(d);
    heap.unhold(a);
  }
}

/**
 * With `work`, the distances are taken to live in that thread's buffers (labelSurfaceDistances with the same `work`)
 * and are overwritten by the last step (ASSD's products): first-touched memory is what a fresh thread pays most for.
 */
export function scoreSurfaces(s: SurfaceDistances, tauMm: number, hdPercentile = 95, work?: WorkBuffers): SurfaceScores {
  const heap = work?.heap ?? threadHeap();
  const totalGt = pairwiseSum(s.areaGtMm2, 0, s.areaGtMm2.length, heap);
  const totalPred = pairwiseSum(s.areaPredMm2, 0, s.areaPredMm2.length, heap);
  const nsd = (areaWithin(s.distGtToPredMm, s.areaGtMm2, tauMm, heap) + areaWithin(s.distPredToGtMm, s.areaPredMm2, tauMm, heap)) / (totalGt + totalPred);
  const hd95 = Math.max(percentileDistance(s.distGtToPredMm, s.areaGtMm2, hdPercentile, heap), percentileDistance(s.distPredToGtMm, s.areaPredMm2, hdPercentile, heap));
  const last = (d: Float64Array) => (d.length ? d[d.length - 1] : Infinity);
  const hd = Math.max(last(s.distGtToPredMm), last(s.distPredToGtMm));
  // last: with `work` it overwrites the distances
  const assd = (weightedDistanceSum(s.distGtToPredMm, s.areaGtMm2, !!work, heap) + weightedDistanceSum(s.distPredToGtMm, s.areaPredMm2, !!work, heap)) / (totalGt + totalPred);
  return { nsd, hd95, hd, assd, surface_gt_mm2: totalGt, surface_pred_mm2: totalPred };
}
