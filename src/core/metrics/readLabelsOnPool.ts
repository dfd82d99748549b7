/**
 * A label map read for the metrics: the file and its header on the calling thread, the voxels inflated by one of
 * the pool's workers into the pool's heap (kernelHeap.ts), the shared memory the metrics then read (`inflate` tasks,
 * surfaceTask.ts). Two maps read together inflate on two workers at once; each worker scans its map a ring of planes
 * at a time as it inflates it (the metrics then need no pass of their own) and writes only the parts holding labels
 * (the map's fresh pages read as zero, and on the 2-core benchmark VM first touches cost as much as inflating).
 *
 * Same volume, same checks and same errors as readLabels. Without workers (one thread, or no worker bundle) the
 * calling thread inflates, into the same heap; what is not a gzipped uint8 map is read as readLabelsAsync reads it
 * (and copied into the heap when scored).
 */
import type { LabelVolume } from '../geometry/volume';
import { readLabelsDeferred, type ReadLimits } from '../nifti/read';
import type { SurfacePool } from './surfacePool';
import type { Inflated } from './surfaceTask';

export async function readLabelsOnPool(pool: SurfacePool, file: string, limits?: ReadLimits): Promise<LabelVolume> {
  // the voxels go straight into the pool's heap, where the kernels read them
  const read = await readLabelsDeferred(file, limits, (bytes) => pool.allocateLabels(bytes) as Uint8Array);
  if ('volume' in read) return read.volume;
  const { input, skip, out, dims, complete, failed } = read.pending;
  // a file that fails gives its block back (a run goes on with the other cases)
  const giveBack = () => pool.heap.release(out.byteOffset, out.byteLength);
  let inflated: Inflated;
  try {
    // the worker scans the planes as it writes them (MapScanner): the metrics then need no pass of their own
    inflated = await pool.run({ kind: 'inflate', input, skip, out, scanDims: [dims[0], dims[1], dims[2]] });
  } catch (e) {
    giveBack();
    throw failed(e);
  }
  try {
    const volume = complete(inflated.length);
    if (inflated.scan) pool.recordScan(volume.data, inflated.scan);
    return volume;
  } catch (e) {
    giveBack();
    throw e;
  }
}
