/**
 * A seeded fuzzer of the NIfTI reader: mutated headers (random bytes and hostile values in the fields the reader
 * sizes reads and allocations from), truncations, and corrupted gzip streams of a valid 8x8x8 int16 volume.
 * Shared by niftiFuzz.test.ts (which asserts on it) and badInput.test.ts (whose reliability summary counts it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'fflate';
import { axisAlignedAffine } from '../../src/core/geometry/affine';
import { readImage, readLabels } from '../../src/core/nifti/read';
import { encodeNifti } from '../../src/core/nifti/write';
import { mulberry32 } from './random';

export interface FuzzOutcome {
  tried: number;
  /** Reads that returned a volume of the declared size, inside the limit. */
  values: number;
  /** Reads that threw an Error whose message starts with the file's path. */
  namedErrors: number;
  /** Anything else: a non-Error thrown, an Error not naming the file, a volume of the wrong size or over the limit. */
  crashes: string[];
  /** Errors refused by the memory limit, before decompressing or allocating the voxels. */
  limitRefusals: number;
  slowestMs: number;
  /** Largest growth of process.memoryUsage().arrayBuffers seen after a read (sampled, not a true peak). */
  maxArrayBufferGrowth: number;
}

/** A seeded PRNG, so every run mutates the same way. */
const rng = mulberry32;

export const FUZZ_LIMIT_MB = 1;

export function runNiftiFuzz(seed: number, iterations: number): FuzzOutcome {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-fuzz-'));
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const data = new Int16Array(512).map((_, n) => (n * 37) % 200);
  const good = encodeNifti({ dims: [8, 8, 8], affine: axisAlignedAffine([1.5, 1.5, 2], [-3, 4, 5]), data });
  // fields the reader trusts to size things: dim[0..7], datatype, bitpix, pixdim, vox_offset, scl, q/sform codes
  const fields: Array<[number, 'i16' | 'f32']> = [
    [0, 'i16'], [40, 'i16'], [42, 'i16'], [44, 'i16'], [46, 'i16'], [48, 'i16'], [50, 'i16'], [70, 'i16'], [72, 'i16'],
    [76, 'f32'], [80, 'f32'], [84, 'f32'], [88, 'f32'], [108, 'f32'], [112, 'f32'], [116, 'f32'], [252, 'i16'], [254, 'i16'],
    [280, 'f32'], [284, 'f32'], [300, 'f32'], [320, 'f32'],
  ];
  const hostileI16 = [0, -1, 1, 2, 3, 4, 7, 8, 16, 64, 128, 255, 256, 511, 1024, 2047, 32767, -32768];
  const hostileF32 = [0, -0, -1, 1, 0.5, 348, 351, 352, 353, 1e6, 1e30, -1e30, NaN, Infinity, -Infinity, 2 ** 31, 1.5];
  const out: FuzzOutcome = { tried: 0, values: 0, namedErrors: 0, crashes: [], limitRefusals: 0, slowestMs: 0, maxArrayBufferGrowth: 0 };
  const limitBytes = FUZZ_LIMIT_MB * 1048576;
  for (let it = 0; it < iterations; it++) {
    let bytes = Uint8Array.from(good);
    const view = new DataView(bytes.buffer);
    const kind = it % 4;
    if (kind === 0 || kind === 3) {
      for (let m = 1 + int(3); m > 0; m--) {
        const [off, t] = fields[int(fields.length)];
        if (t === 'i16') view.setInt16(off, hostileI16[int(hostileI16.length)], true);
        else view.setFloat32(off, hostileF32[int(hostileF32.length)], true);
      }
    } else if (kind === 1) {
      for (let m = 1 + int(8); m > 0; m--) bytes[int(352)] = int(256);
    } else {
      bytes = bytes.subarray(0, int(bytes.length));
    }
    let gz = it % 3 === 0;
    let fileBytes = gz ? gzipSync(bytes) : bytes;
    if (gz && kind === 3) {
      // damage the compressed stream itself: a cut or flipped bytes
      if (r() < 0.5) fileBytes = fileBytes.subarray(0, int(fileBytes.length));
      else for (let m = 1 + int(4); m > 0; m--) fileBytes[10 + int(Math.max(1, fileBytes.length - 10))] ^= 1 << int(8);
    }
    if (fileBytes.length < 2) gz = false;
    const file = path.join(dir, `fuzz-${it}.nii${gz ? '.gz' : ''}`);
    fs.writeFileSync(file, fileBytes);
    const before = process.memoryUsage().arrayBuffers;
    for (const read of [readImage, readLabels]) {
      out.tried++;
      const t0 = performance.now();
      try {
        const vol = read(file, { maxVolumeMB: FUZZ_LIMIT_MB });
        const n = vol.dims[0] * vol.dims[1] * vol.dims[2];
        if (vol.data.length !== n || n * 4 > limitBytes) out.crashes.push(`${file}: volume ${vol.dims.join('x')} with ${vol.data.length} voxels`);
        else out.values++;
      } catch (e) {
        if (e instanceof Error && e.message.startsWith(`${file}: `)) {
          out.namedErrors++;
          if (/over the (volume )?limit/.test(e.message)) out.limitRefusals++;
        } else {
          out.crashes.push(`${file}: ${e instanceof Error ? `${e.name}: ${e.message}` : `non-Error thrown: ${String(e)}`}`);
        }
      }
      out.slowestMs = Math.max(out.slowestMs, performance.now() - t0);
    }
    out.maxArrayBufferGrowth = Math.max(out.maxArrayBufferGrowth, process.memoryUsage().arrayBuffers - before);
    fs.rmSync(file);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}
