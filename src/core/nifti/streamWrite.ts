/**
 * Writing a NIfTI-1 file slab by slab (the slowest storage axis last), for volumes that are produced a slab at a
 * time and must never be held whole: per-organ probabilities of a whole-body sliding window. `.nii.gz` goes
 * through fflate's streaming gzip (mtime 0, deterministic like writeNifti); the file appears atomically at close.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Gzip } from 'fflate';
import type { Affine } from '../geometry/affine';
import { encodeNiftiHeader } from './write';

export interface NiftiSlabWriter {
  /** Appends the next slab: dims[0] * dims[1] float32 values, axis 0 fastest. */
  writeSlab(values: Float32Array): void;
  /** Checks that every slab arrived, then renames the file into place. */
  close(): void;
  /** Removes the partial file (on error or cancellation). */
  abort(): void;
}

export function openNiftiSlabWriter(file: string, grid: { dims: readonly [number, number, number]; affine: Affine }, description?: string): NiftiSlabWriter {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  const gz = file.endsWith('.gz');
  const gzip = gz ? new Gzip({ level: 6, mtime: 0 }, (chunk) => { fs.writeSync(fd, chunk); }) : null;
  const put = (bytes: Uint8Array, final = false): void => {
    if (gzip) gzip.push(bytes, final);
    else fs.writeSync(fd, bytes);
  };
  const slabValues = grid.dims[0] * grid.dims[1];
  let slabs = 0;
  let open = true;
  put(encodeNiftiHeader({ dims: [...grid.dims] as [number, number, number], affine: grid.affine }, 'Float32Array', description));
  return {
    writeSlab(values) {
      if (values.length !== slabValues) throw new Error(`${file}: slab of ${values.length} values, expected ${slabValues}`);
      if (slabs >= grid.dims[2]) throw new Error(`${file}: more than ${grid.dims[2]} slabs`);
      // copied: fflate may keep a reference to the pushed chunk, and the caller reuses its buffer
      put(new Uint8Array(values.slice().buffer));
      slabs++;
    },
    close() {
      if (!open) return;
      if (slabs !== grid.dims[2]) {
        this.abort();
        throw new Error(`${file}: ${slabs} of ${grid.dims[2]} slabs written`);
      }
      put(new Uint8Array(0), true);
      fs.closeSync(fd);
      open = false;
      fs.renameSync(tmp, file);
    },
    abort() {
      if (!open) return;
      open = false;
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    },
  };
}
