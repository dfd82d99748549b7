/** Worker-thread entry (bundled to dist/surfaceWorker.js): runs surface tasks posted by SurfacePool. */
import { parentPort } from 'node:worker_threads';
import { runSurfaceTask, type SurfaceTask } from './surfaceTask';

parentPort?.on('message', (msg: { id: number; task: SurfaceTask }) => {
  try {
    parentPort!.postMessage({ id: msg.id, scores: runSurfaceTask(msg.task) });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
