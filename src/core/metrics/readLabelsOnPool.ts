/**
 * A label map read for the metrics: the file and its header on the calling thread, the voxels inflated by one of
 * the pool's workers straight into the shared memory the metrics then read (`inflate` tasks, surfaceTask.ts). Two
 * maps read together inflate on two workers at once, each faulting in its own buffer's fresh pages: on the 2-core
 * benchmark VM those first touches cost as much as the inflate itself, and done on the main thread, one map after
 * the other, they were most of the reading.
 *
 * Same volume, same checks and same errors as readLabels. Without workers (one thread, or no worker bundle), and for
 * what is not a gzipped uint8 map, readLabelsAsync (libuv's thread pool) reads the file.
 */
import type { LabelVolume } from '../geometry/volume';
import { readLabelsAsync, readLabelsDeferred, type ReadLimits } from '../nifti/read';
import type { SurfacePool } from './surfacePool';

export async function readLabelsOnPool(pool: SurfacePool, file: string, limits?: ReadLimits): Promise<LabelVolume> {
  if (pool.threads === 0) return readLabelsAsync(file, limits);
  const read = await readLabelsDeferred(file, limits);
  if ('volume' in read) return read.volume;
  const { input, skip, out, complete, failed } = read.pending;
  let length: number;
  try {
    length = await pool.run({ kind: 'inflate', input, skip, out });
  } catch (e) {
    throw failed(e);
  }
  return complete(length);
}
