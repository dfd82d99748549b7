/** Worker-thread entry (bundled to dist/surfaceWorker.js): runs the metrics tasks posted by SurfacePool. */
import { parentPort } from 'node:worker_threads';
import { runTask, type MetricsTask } from './surfaceTask';
import { warmUpSurfaceMetrics } from './surfaceWarmup';

// Compile the metrics code before the first real case (see surfaceWarmup); tasks posted meanwhile wait in the port.
// Only a matter of speed: a warm-up that failed would leave the same code to compile on the first case.
try {
  warmUpSurfaceMetrics();
} catch {
  // the tasks report any real error themselves
}

parentPort?.on('message', (msg: { id: number; task: MetricsTask }) => {
  try {
    parentPort!.postMessage({ id: msg.id, result: runTask(msg.task) });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
