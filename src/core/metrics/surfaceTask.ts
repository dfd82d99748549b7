/**
 * The work units of one case's metrics, self-contained so that the same function runs in a worker thread or inline
 * (a score does not depend on where it was computed):
 *   scan     counts and boxes of a slab of x2-planes of both label maps
 *   surface  one organ: the surfels of both maps inside its box (plus one background voxel), then its surface scores
 *   inflate  a gzipped label map straight into its shared memory (readLabelsOnPool: the two maps of a case inflate
 *            on two threads, each faulting in its own buffer's pages)
 * Label maps travel as views of SharedArrayBuffers when workers are used, so nothing is copied per task.
 */
import type { Dims3, SpacingMm } from './edt';
import { scanLabels, type LabelScan, type VoxelBox } from './labelScan';
import { labelSurfaceDistances, scoreSurfaces, type SurfaceScores } from './surface';
import { inflateIntoSync } from '../nifti/inflateInto';
import { threadWorkBuffers } from './workBuffers';

export type LabelData = Uint8Array | Uint16Array;

export interface ScanTask {
  kind: 'scan';
  gt: LabelData;
  pred: LabelData;
  dims: Dims3;
  /** The slab: x2-planes [k0, k1). */
  k0: number;
  k1: number;
}

export interface SurfaceTask {
  kind: 'surface';
  gt: LabelData;
  pred: LabelData;
  dims: Dims3;
  label: number;
  box: VoxelBox;
  spacingMm: SpacingMm;
  toleranceMm: number;
  hdPercentile: number;
  /** surfelAreaTable(spacingMm), when the caller computed it once for the case's organs. */
  areaMm2ByCode?: Float64Array;
}

export interface InflateTask {
  kind: 'inflate';
  /** The gzip stream. */
  input: Uint8Array;
  /** Decompressed bytes before `out`'s first byte (dropped). */
  skip: number;
  /** A view of a SharedArrayBuffer when run on a worker. */
  out: Uint8Array;
}

export type MetricsTask = ScanTask | SurfaceTask | InflateTask;
/** An inflate task returns the decompressed length up to its bound (inflateIntoSync). */
export type TaskResult<T extends MetricsTask> = T extends ScanTask ? LabelScan : T extends InflateTask ? number : SurfaceScores;

export function runTask<T extends MetricsTask>(t: T): TaskResult<T> {
  if (t.kind === 'inflate') return inflateIntoSync(t.input, t.out, t.skip) as TaskResult<T>;
  if (t.kind === 'scan') {
    const plane = t.dims[0] * t.dims[1];
    const part = scanLabels(t.gt.subarray(t.k0 * plane, t.k1 * plane), t.pred.subarray(t.k0 * plane, t.k1 * plane), [t.dims[0], t.dims[1], t.k1 - t.k0]);
    for (const b of part.boxes.values()) { b.lo[2] += t.k0; b.hi[2] += t.k0; }
    return part as TaskResult<T>;
  }
  // the thread's buffers: the largest organ touches them first, every later organ and case reuses them
  const work = threadWorkBuffers();
  const distances = labelSurfaceDistances(t.gt, t.pred, t.dims, t.label, t.box, t.spacingMm, work, t.areaMm2ByCode);
  return scoreSurfaces(distances, t.toleranceMm, t.hdPercentile, work) as TaskResult<T>;
}
