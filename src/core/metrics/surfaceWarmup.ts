/**
 * A worker's warm-up: the metrics code run on a small synthetic case before the first real one.
 *
 * Why: the voxel loops are WebAssembly (surfaceKernels.wat), compiled before they run, but V8 first runs them with its
 * baseline compiler and moves a function to its optimizing one between calls; the JavaScript around them (the
 * distance search's fallback, the keyed sort of far-apart surfaces) is compiled while it runs. The pool's workers run
 * this as they start, while the main thread reads the case's NIfTI files or runs the model, so the first real case
 * finds optimized code (and, see makeBuffersReady, mapped buffers).
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

/** Rounds of the warm-up; a worker runs them a step per turn of its event loop (surfaceWorker.ts), until its first real task. */
export const WARMUP_ROUNDS = 20;

let cached: { gt: Uint8Array; pred: Uint8Array } | undefined;

/** Ellipsoids (centre, squared radius, x2 stretch) painted in order, later ones over earlier ones. */
const SHAPES: Array<{ map: 'gt' | 'pred'; label: number; c: [number, number, number]; r2: number; zScale: number }> = [
  { map: 'gt', label: 1, c: [24, 26, 26], r2: 22 ** 2, zScale: 1 },
  { map: 'gt', label: 2, c: [52, 46, 44], r2: 40, zScale: 1.5 },
  { map: 'pred', label: 1, c: [25, 25, 28], r2: 21 ** 2, zScale: 1 },
  { map: 'pred', label: 2, c: [53, 45, 43], r2: 50, zScale: 1.5 },
  { map: 'pred', label: 1, c: [58, 6, 50], r2: 6, zScale: 1 },
];

function warmupCase(): { gt: Uint8Array; pred: Uint8Array } {
  if (cached) return cached;
  const [n0, n1, n2] = DIMS;
  const maps = { gt: new Uint8Array(n0 * n1 * n2), pred: new Uint8Array(n0 * n1 * n2) };
  // row by row, only over each shape's extent: this runs before anything is compiled, so it must be cheap
  for (const { map, label, c, r2, zScale } of SHAPES) {
    const out = maps[map];
    const reach = Math.ceil(Math.sqrt(r2));
    for (let k = 0; k < n2; k++) {
      const dk2 = ((k - c[2]) * zScale) ** 2;
      if (dk2 >= r2) continue;
      for (let j = Math.max(0, c[1] - reach); j <= Math.min(n1 - 1, c[1] + reach); j++) {
        const rest = r2 - dk2 - (j - c[1]) ** 2;
        if (rest <= 0) continue;
        const row = n0 * (j + n1 * k);
        for (let i = Math.max(0, c[0] - reach); i <= Math.min(n0 - 1, c[0] + reach); i++) if ((i - c[0]) ** 2 < rest) out[row + i] = label;
      }
    }
  }
  cached = maps;
  return cached;
}

/**
 * The warm-up as small steps (the case, then per round: the scan, each organ's surface task, and the distance
 * search's fallback, the full passes a far-apart surface ends in, on organ 2's surfels), so that a worker can run one
 * step per turn of its event loop. Returns organ 1's NSD and whether the fallback's distances equal the search's.
 */
export function* warmUpSteps(rounds = WARMUP_ROUNDS): Generator<void, { nsd: number; fallbackAgrees: boolean }> {
  const { gt, pred } = warmupCase();
  const work = threadWorkBuffers();
  let nsd = NaN;
  let fallbackAgrees = true;
  for (let r = 0; r < rounds; r++) {
    yield;
    const scan = scanLabels(gt, pred, DIMS);
    // the small organ first: the large one's first run, before anything is compiled, is the longest step
    for (const label of [2, 1]) {
      yield;
      const s = runTask({ kind: 'surface', gt, pred, dims: DIMS, label, box: scan.boxes.get(label)!, spacingMm: SPACING, toleranceMm: 1, hdPercentile: 95 });
      if (label === 1) nsd = s.nsd;
    }
    yield;
    // on the small organ: the fallback's passes run over the whole box, uncompiled the first time
    const box = scan.boxes.get(2)!;
    const g = surfelsOfLabel(gt, DIMS, 2, box, work, 'surfels-gt');
    const p = surfelsOfLabel(pred, DIMS, 2, box, work, 'surfels-pred');
    const searched = squaredDistanceAtMm2(p.index, g.index, g.dims, SPACING, work, 'distance-gt');
    const full = squaredDistanceAtMm2(p.index, g.index, g.dims, SPACING, work, 'distance-pred', 0);
    for (let q = 0; q < searched.length; q++) if (searched[q] !== full[q]) fallbackAgrees = false;
  }
  return { nsd, fallbackAgrees };
}

/**
 * The size of organ a worker's buffers are made ready for, after its warm-up: a whole-body organ at 1.5 mm (the lungs
 * of a 320 x 320 x 1000 scan: a box of ~1.9 M voxel corners, ~110 k surfels a side). Only a worker left idle through
 * its whole warm-up gets here (the main thread is reading a large case or running a model), so small jobs never
 * hold this memory (~9 MB touched a worker).
 */
export const READY_FOR = { corners: 2_000_000, surfels: 150_000 };

/**
 * Touches the thread's largest buffers at the sizes of `READY_FOR` (the slots the surface tasks use), so that the
 * first whole-body organ finds them mapped: on the benchmark's VM, first-touch faults were most of what a fresh
 * worker's first case cost over a warm one's.
 */
export function makeBuffersReady(work = threadWorkBuffers(), { corners, surfels } = READY_FOR): void {
  const offsets = work.f64('row-offsets', corners);
  new Uint8Array(offsets.buffer, offsets.byteOffset, corners).fill(0);
  for (const side of ['gt', 'pred']) {
    work.i32Capacity(`surfels-${side}-index`, corners).fill(0, 0, surfels);
    work.u8Capacity(`surfels-${side}-code`, corners).fill(0, 0, surfels);
    work.f64(`distance-${side}`, surfels).fill(0);
    work.f64(`sorted-${side}-area`, surfels).fill(0);
  }
  work.i32('distinct-rank', surfels).fill(0);
  // the counting sort's table: distinct distances x distinct areas, a few thousand on whole-body organs
  work.i32('sort-counts', 65536).fill(0);
}

/** All the steps at once. */
export function warmUpSurfaceMetrics(rounds = WARMUP_ROUNDS): { nsd: number; fallbackAgrees: boolean } {
  const steps = warmUpSteps(rounds);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}
