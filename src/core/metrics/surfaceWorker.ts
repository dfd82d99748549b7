/** Worker-thread entry (bundled to dist/surfaceWorker.js): runs the metrics tasks posted by SurfacePool. */
import { parentPort, workerData } from 'node:worker_threads';
import { KernelHeap, useThreadHeap } from './kernelHeap';
import { fromPool, runTask } from './surfaceTask';
import { makeBuffersReady, warmUpSteps } from './surfaceWarmup';

// Compile the metrics code before the first real case (see surfaceWarmup), one small step per turn of the event loop
// so that a task arriving meanwhile waits one step at most: the warm-up stops at the first real task (which then
// compiles what is left itself). A worker still idle at the end makes its buffers ready for a whole-body organ (a
// large case is being read or inferred). Only a matter of speed: a step that failed stops the warm-up, nothing else.
// The pool may start a worker without it (SurfacePool's `warmUp`).
const data = workerData as { warmUp?: boolean; memory?: WebAssembly.Memory } | null;
// the pool's memory: its label maps are there, and this thread's buffers go there
const heap = new KernelHeap(data?.memory);
useThreadHeap(heap);
let realWork = data?.warmUp === false;
const steps = warmUpSteps();
const warmUpStep = (): void => {
  if (realWork) return;
  try {
    if (steps.next().done) {
      makeBuffersReady();
      return;
    }
  } catch {
    return;
  }
  setImmediate(warmUpStep);
};
setImmediate(warmUpStep);

parentPort?.on('message', (msg: { id: number; task: unknown }) => {
  realWork = true;
  try {
    parentPort!.postMessage({ id: msg.id, result: runTask(fromPool(msg.task, heap), heap) });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
