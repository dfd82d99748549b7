/**
 * A worker's warm-up: the metrics code run on a small synthetic case before the first real one.
 *
 * Why: JavaScript is compiled while it runs. On its first whole-body case a fresh thread spends about as long
 * compiling, and deoptimizing at branches it had not yet seen (the distance search's fallback, the counting sort's
 * alternative, a surfel list that grows), as computing; measured, a fresh thread's first case took ~1.6x a warm one's.
 * The pool's workers run this as they start, while the main thread reads the case's NIfTI files or runs the model,
 * so the first real case finds compiled code.
 *
 * The case exercises every branch the real ones take: a uint8 scan over whole 32-bit words, partial and uniform
 * words; two organs at anisotropic spacing; a prediction shifted by a voxel and a far false-positive blob (the keyed
 * sort of many distinct distances); more than 8192 surfels in a mask (numpy's chunked summation); and the distance
 * search's fallback, called directly with no budget.
 */
import { squaredDistanceAtMm2, type Dims3, type SpacingMm } from './edt';
import { scanLabels } from './labelScan';
import { surfelsOfLabel } from './surfels';
import { runTask } from './surfaceTask';
import { threadWorkBuffers } from './workBuffers';

const DIMS: Dims3 = [64, 60, 56];
const SPACING: SpacingMm = [0.8, 1.1, 2.5];

/** Rounds a worker runs, one per turn of its event loop (surfaceWorker.ts), until its first real task arrives. */
export const WARMUP_ROUNDS = 20;

let cached: { gt: Uint8Array; pred: Uint8Array } | undefined;

function warmupCase(): { gt: Uint8Array; pred: Uint8Array } {
  if (cached) return cached;
  const [n0, n1, n2] = DIMS;
  const gt = new Uint8Array(n0 * n1 * n2), pred = new Uint8Array(n0 * n1 * n2);
  for (let k = 0, v = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      for (let i = 0; i < n0; i++, v++) {
        if ((i - 24) ** 2 + (j - 26) ** 2 + (k - 26) ** 2 < 22 ** 2) gt[v] = 1;
        if ((i - 25) ** 2 + (j - 25) ** 2 + (k - 28) ** 2 < 21 ** 2) pred[v] = 1;
        if ((i - 52) ** 2 + (j - 46) ** 2 + ((k - 44) * 1.5) ** 2 < 40) gt[v] = 2;
        if ((i - 53) ** 2 + (j - 45) ** 2 + ((k - 43) * 1.5) ** 2 < 50) pred[v] = 2;
        if ((i - 58) ** 2 + (j - 6) ** 2 + (k - 50) ** 2 < 6) pred[v] = 1;
      }
    }
  }
  cached = { gt, pred };
  return cached;
}

/**
 * Runs the scan and both organs' surface tasks `rounds` times, and the distance search's fallback (the full passes a
 * far-apart surface ends in) on organ 1's surfels. Returns organ 1's NSD and whether the fallback's distances equal
 * the search's (for tests).
 */
export function warmUpSurfaceMetrics(rounds = WARMUP_ROUNDS): { nsd: number; fallbackAgrees: boolean } {
  const { gt, pred } = warmupCase();
  const work = threadWorkBuffers();
  let nsd = NaN;
  let fallbackAgrees = true;
  for (let r = 0; r < rounds; r++) {
    const scan = scanLabels(gt, pred, DIMS);
    for (const label of [1, 2]) {
      const s = runTask({ kind: 'surface', gt, pred, dims: DIMS, label, box: scan.boxes.get(label)!, spacingMm: SPACING, toleranceMm: 1, hdPercentile: 95 });
      if (label === 1) nsd = s.nsd;
    }
    const box = scan.boxes.get(1)!;
    const g = surfelsOfLabel(gt, DIMS, 1, box, work, 'surfels-gt');
    const p = surfelsOfLabel(pred, DIMS, 1, box, work, 'surfels-pred');
    const searched = squaredDistanceAtMm2(p.index, g.index, g.dims, SPACING, work, 'distance-gt');
    const full = squaredDistanceAtMm2(p.index, g.index, g.dims, SPACING, work, 'distance-pred', 0);
    for (let q = 0; q < searched.length; q++) if (searched[q] !== full[q]) fallbackAgrees = false;
  }
  return { nsd, fallbackAgrees };
}
