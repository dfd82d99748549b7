/** Worker-thread entry (bundled to dist/surfaceWorker.js): runs the metrics tasks posted by SurfacePool. */
import { parentPort } from 'node:worker_threads';
import { runTask, type MetricsTask } from './surfaceTask';
import { WARMUP_ROUNDS, warmUpSurfaceMetrics } from './surfaceWarmup';

// Compile the metrics code before the first real case (see surfaceWarmup), one round per turn of the event loop so
// that a task arriving meanwhile waits at most one round: the warm-up stops at the first real task (which then
// compiles what is left itself). Only a matter of speed: a round that failed stops the warm-up, nothing else.
let realWork = false;
let rounds = 0;
const warmUpRound = (): void => {
  if (realWork || rounds++ >= WARMUP_ROUNDS) return;
  try {
    warmUpSurfaceMetrics(1);
  } catch {
    return;
  }
  setImmediate(warmUpRound);
};
setImmediate(warmUpRound);

parentPort?.on('message', (msg: { id: number; task: MetricsTask }) => {
  realWork = true;
  try {
    parentPort!.postMessage({ id: msg.id, result: runTask(msg.task) });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
