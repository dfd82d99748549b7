/**
 * The work units of one case's metrics, self-contained so that the same function runs in a worker thread or inline
 * (a score does not depend on where it was computed):
 *   scan     counts and boxes of a slab of x2-planes of both label maps
 *   surface  one organ: the surfels of both maps inside its box (plus one background voxel), then its surface scores
 *   inflate  a gzipped label map into the heap, scanned as it is written (readLabelsOnPool: the two maps of a case
 *            inflate on two threads)
 * Label maps live in the pool's kernel heap (kernelHeap.ts), a WebAssembly memory every worker shares: they travel
 * to a worker as their address in it (toWorker / fromPool), so nothing is copied per task.
 */
import type { Dims3, SpacingMm } from './edt';
import { countBoth, MapScanner, scanLabels, type LabelScan, type MapScan, type VoxelBox } from './labelScan';
import { labelSurfaceDistances, scoreSurfaces, type SurfaceScores } from './surface';
import { inflateIntoSync } from '../nifti/inflateInto';
import { threadHeap, type KernelHeap, type LabelData } from './kernelHeap';
import { threadWorkBuffers } from './workBuffers';

export type { LabelData };

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
  /** Count the label's voxels in both maps too (`overlap` in the result): maps scanned one at a time. */
  countOverlap?: boolean;
}

/** A surface task's scores, with the organ's voxels in both maps when asked (`countOverlap`). */
export type SurfaceResult = SurfaceScores & { overlap?: number };

export interface InflateTask {
  kind: 'inflate';
  /** The gzip stream. */
  input: Uint8Array;
  /** Decompressed bytes before `out`'s first byte (dropped). */
  skip: number;
  /** A view of a SharedArrayBuffer when run on a worker. */
  out: Uint8Array;
  /** The map's grid, to scan it plane by plane as it is inflated (MapScanner); `out` must then be in the heap. */
  scanDims?: Dims3;
}

/** What an inflate task returns: the decompressed length up to its bound (inflateIntoSync), and the map's scan. */
export interface Inflated {
  length: number;
  scan?: MapScan;
}

export type MetricsTask = ScanTask | SurfaceTask | InflateTask;
export type TaskResult<T extends MetricsTask> = T extends ScanTask ? LabelScan : T extends InflateTask ? Inflated : SurfaceResult;

/** A label map as a worker receives it: where it is in the pool's heap. */
interface MapAddress { at: number; length: number; bytesPerVoxel: 1 | 2 }

/** The task as posted to a worker: its label maps (views of `heap`, the pool's) replaced by their addresses. */
export function toWorker(t: MetricsTask, heap: KernelHeap): unknown {
  if (t.kind === 'inflate') {
    // its output as an address when it is in the heap (the worker scans it there), else as it is (shared memory)
    const at = heap.addressOf(t.out);
    return at === undefined ? { ...t, scanDims: undefined } : { ...t, out: { at, length: t.out.length, bytesPerVoxel: 1 } };
  }
  const address = (m: LabelData): MapAddress => {
    const at = heap.addressOf(m);
    if (at === undefined) throw new Error('a label map posted to a metrics worker is not in the pool\'s memory');
    return { at, length: m.length, bytesPerVoxel: m instanceof Uint16Array ? 2 : 1 };
  };
  return { ...t, gt: address(t.gt), pred: address(t.pred) };
}

/** The task a worker received, its label maps views of its own heap (the pool's memory) again. */
export function fromPool(t: unknown, heap: KernelHeap): MetricsTask {
  const task = t as MetricsTask;
  if (task.kind === 'inflate') {
    const out = task.out as unknown as MapAddress | Uint8Array;
    return out instanceof Uint8Array ? task : { ...task, out: heap.u8(out.at, out.length) };
  }
  const sent = t as { gt: MapAddress; pred: MapAddress };
  const view = (m: MapAddress): LabelData => (m.bytesPerVoxel === 2 ? heap.u16(m.at, m.length) : heap.u8(m.at, m.length));
  return { ...task, gt: view(sent.gt), pred: view(sent.pred) };
}

/** Runs a task on this thread, its label maps in `heap` (maps elsewhere are copied in: tests, the warm-up). */
export function runTask<T extends MetricsTask>(t: T, heap: KernelHeap = threadHeap()): TaskResult<T> {
  if (t.kind === 'inflate') return inflate(t, heap) as TaskResult<T>;
  if (t.kind === 'scan') {
    const plane = t.dims[0] * t.dims[1];
    const part = scanLabels(t.gt.subarray(t.k0 * plane, t.k1 * plane), t.pred.subarray(t.k0 * plane, t.k1 * plane), [t.dims[0], t.dims[1], t.k1 - t.k0], heap);
    for (const b of part.boxes.values()) { b.lo[2] += t.k0; b.hi[2] += t.k0; }
    return part as TaskResult<T>;
  }
  // the thread's buffers: the largest organ touches them first, every later organ and case reuses them
  const work = threadWorkBuffers(heap);
  const distances = labelSurfaceDistances(t.gt, t.pred, t.dims, t.label, t.box, t.spacingMm, work, t.areaMm2ByCode);
  const scores: SurfaceResult = scoreSurfaces(distances, t.toleranceMm, t.hdPercentile, work);
  if (t.countOverlap) scores.overlap = countBoth(t.gt, t.pred, t.dims, t.label, t.box, heap);
  return scores as TaskResult<T>;
}

/**
 * Inflates the map, scanning its planes as they are written when asked (and when `out` is in the heap): through a
 * ring of whole planes (~1 MiB), each scanned while in the cache, then copied into the map without its background
 * (the map's fresh pages are zero: only pages holding labels are ever touched, a fraction of a whole-body volume).
 */
function inflate(t: InflateTask, heap: KernelHeap): Inflated {
  const mapAt = heap.addressOf(t.out);
  if (!t.scanDims || mapAt === undefined) return { length: inflateIntoSync(t.input, t.out, t.skip) };
  const dims = t.scanDims;
  const planeBytes = dims[0] * dims[1];
  const ringBytes = planeBytes * Math.max(1, Math.floor(RING_BYTES / planeBytes));
  const ringAt = heap.alloc(ringBytes);
  const scanner = new MapScanner(heap, dims);
  let length: number;
  try {
    length = inflateIntoSync(t.input, t.out, t.skip, {
      through: {
        ring: heap.u8(ringAt, ringBytes),
        flush: (bytes, at) => {
          // whole planes (scanned and copied in one pass), but for a short stream's last piece (an error the reader
          // reports): copied as it is
          if (bytes % planeBytes === 0 && at % planeBytes === 0) scanner.scan(ringAt, at / planeBytes, bytes / planeBytes, mapAt);
          else t.out.set(heap.u8(ringAt, bytes), at);
        },
      },
    });
  } catch (e) {
    scanner.discard();
    throw e;
  } finally {
    heap.release(ringAt, ringBytes);
  }
  // a short stream is an error the reader reports (readLabelsOnPool); its scan is of no use
  const scan = scanner.finish();
  return length - t.skip >= t.out.length ? { length, scan } : { length };
}

/** The inflate's ring: planes enough for about a megabyte, which stays in a core's cache until scanned and copied. */
const RING_BYTES = 1 << 20;
