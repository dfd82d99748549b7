/**
 * Worker threads for one case's metrics: the label scan is split into slabs and each organ is independent, so the
 * case uses all cores. Label maps live in the pool's kernel heap (a shared WebAssembly memory, kernelHeap.ts) that
 * every worker runs its kernels on, never copied per task. With one thread, or where the worker bundle is not found,
 * tasks run inline on the calling thread with the same code, on the same heap.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { KernelHeap } from './kernelHeap';
import type { MapScan } from './labelScan';
import { runTask, toWorker, type LabelData, type MetricsTask, type TaskResult } from './surfaceTask';

const WORKER_FILE = 'surfaceWorker.js';

/** dist/surfaceWorker.js next to the running bundle, or in the package's dist/ when running from out/ (tests, bench). */
export function findWorkerBundle(from = __dirname): string | undefined {
  let dir = from;
  for (let up = 0; up < 6; up++) {
    for (const candidate of [path.join(dir, WORKER_FILE), path.join(dir, 'dist', WORKER_FILE)]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

interface Pending { resolve: (r: unknown) => void; reject: (e: Error) => void }

export class SurfacePool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ id: number; task: MetricsTask }> = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** The memory the label maps and every thread's work buffers live in; the workers share it. */
  readonly heap = new KernelHeap();
  private readonly scans = new WeakMap<LabelData, MapScan>();

  /**
   * `threads` defaults to the cores available; 1 (or no worker bundle) means inline. `warmUp: false` starts workers
   * without the warm-up (surfaceWarmup.ts): for a caller whose first tasks come at once (the metrics command hands
   * them its files to inflate), on a machine with few cores the warm-up would only take their time.
   */
  constructor(threads = os.availableParallelism(), workerFile = findWorkerBundle(), { warmUp = true }: { warmUp?: boolean } = {}) {
    if (threads <= 1 || !workerFile) return;
    for (let t = 0; t < threads; t++) {
      const w = new Worker(workerFile, { workerData: { warmUp, memory: this.heap.memory } });
      w.unref();
      w.on('message', (m: { id: number; result?: unknown; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (p) m.error !== undefined ? p.reject(new Error(m.error)) : p.resolve(m.result);
        this.idle.push(w);
        this.pump();
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Threads in use (0 = inline). */
  get threads(): number {
    return this.workers.length;
  }

  run<T extends MetricsTask>(task: T): Promise<TaskResult<T>> {
    if (this.workers.length === 0) {
      try {
        return Promise.resolve(runTask(task, this.heap));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const id = this.nextId++;
    return new Promise<TaskResult<T>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.queue.push({ id, task });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const msg = this.queue.shift()!;
      w.postMessage({ id: msg.id, task: toWorker(msg.task, this.heap) });
    }
  }

  /**
   * The label map in the pool's heap, where the kernels (and the workers) can read it: itself when it is there
   * (readLabelsOnPool reads into it), else a copy (one memcpy, instead of one copy per task), which `unshare` gives
   * back.
   */
  share(data: LabelData): LabelData {
    return this.heap.hold(data).view;
  }

  /** Releases `shared` when `share` made it a copy of `data`. */
  unshare(data: LabelData, shared: LabelData): void {
    if (shared !== data) this.heap.release(shared.byteOffset, shared.byteLength);
  }

  /** The scan an inflating worker made of `data` as it wrote it (readLabelsOnPool), if any. */
  scanOf(data: LabelData): MapScan | undefined {
    return this.scans.get(data);
  }

  recordScan(data: LabelData, scan: MapScan): void {
    this.scans.set(data, scan);
  }

  /** A label map of `length` voxels allocated in the pool's heap (the voxels of a file being read go there). */
  allocateLabels(length: number, bytesPerVoxel: 1 | 2 = 1): LabelData {
    return this.heap.labels(length, bytesPerVoxel);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }
}
