/**
 * readLabelsAsync, the metrics command's reader (files inflated on libuv's thread pool, in parallel, uint8 maps
 * straight into shared memory), against readLabels on files the project's writer makes: the same volumes, the same
 * errors word for word, the same bound on what a gzip stream may inflate to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'fflate';
import { axisAlignedAffine } from '../../src/core/geometry/affine';
import type { LabelVolume } from '../../src/core/geometry/volume';
import { readImage, readLabels, readLabelsAsync } from '../../src/core/nifti/read';
import { encodeNifti, writeNifti } from '../../src/core/nifti/write';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-nifti-async-'));
const dims = [7, 6, 5] as const;
const affine = axisAlignedAffine([1.5, 1.2, 3], [-10, 4, 2]);
const n = dims[0] * dims[1] * dims[2];

/** What a read gives: the volume, or the error's class and message. */
async function outcome(read: () => LabelVolume | Promise<LabelVolume>): Promise<unknown> {
  try {
    const v = await read();
    return { dims: v.dims, affine: v.affine, kind: v.data.constructor.name, shared: v.data.buffer instanceof SharedArrayBuffer, data: Array.from(v.data) };
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message };
  }
}

const sameAsSync = async (file: string, limits?: { maxVolumeMB: number }): Promise<unknown> => {
  const sync = await outcome(() => readLabels(file, limits));
  const async = await outcome(() => readLabelsAsync(file, limits));
  assert.deepEqual(async, sync, file);
  return async;
};

test('uint8, uint16, int16 and float32 label maps, .nii and .nii.gz: the same volume as readLabels, in shared memory', async () => {
  const labels = Array.from({ length: n }, (_, v) => (v * 7) % 13);
  const kinds = [Uint8Array.from(labels), Uint16Array.from(labels, (l) => l * 300), Int16Array.from(labels), Float32Array.from(labels)];
  for (const data of kinds) {
    for (const ext of ['.nii', '.nii.gz']) {
      const f = path.join(tmp, `labels-${data.constructor.name}${ext}`);
      writeNifti(f, { dims, affine, data });
      const got = await sameAsSync(f) as { kind: string; shared: boolean; data: number[] };
      assert.deepEqual(got.data, Array.from(data, Number), f);
      assert.equal(got.shared, true, f);
      assert.equal(got.kind, data instanceof Uint16Array ? 'Uint16Array' : 'Uint8Array', f);
    }
  }
  // a gzipped uint8 map is inflated into the buffer it is returned in: a whole SharedArrayBuffer of its own
  const v = await readLabelsAsync(path.join(tmp, 'labels-Uint8Array.nii.gz'));
  assert.ok(v.data.buffer instanceof SharedArrayBuffer && v.data.byteOffset === 0 && v.data.buffer.byteLength === n);
});

test('values the stored type can get wrong are refused with the same message: fractions, negatives, NaN, too large', async () => {
  const cases: Array<[string, Float32Array | Int16Array | Int32Array, RegExp]> = [
    ['fraction', Float32Array.from({ length: n }, (_, v) => (v === 17 ? 2.5 : 1)), /label map holds 2\.5 at voxel 17: labels must be integers 0\.\.65535/],
    ['negative', Int16Array.from({ length: n }, (_, v) => (v === 3 ? -4 : 0)), /label map holds -4 at voxel 3/],
    ['nan', Float32Array.from({ length: n }, (_, v) => (v === 9 ? NaN : 0)), /label map holds NaN at voxel 9/],
    ['too-large', Int32Array.from({ length: n }, (_, v) => (v === 5 ? 70000 : 0)), /label map holds 70000 at voxel 5/],
  ];
  for (const [name, data, re] of cases) {
    for (const ext of ['.nii', '.nii.gz']) {
      const f = path.join(tmp, `bad-${name}${ext}`);
      writeNifti(f, { dims, affine, data });
      const got = await sameAsSync(f) as { error: string; message: string };
      assert.equal(got.error, 'NiftiError', f);
      assert.match(got.message, re);
      assert.ok(got.message.startsWith(`${f}: `));
    }
  }
  await assert.rejects(readLabelsAsync(path.join(tmp, 'absent.nii.gz')), /absent\.nii\.gz: cannot read file \(ENOENT\)/);
});

test('a uint8 map with scl_slope set is scaled and checked as before', async () => {
  const bytes = encodeNifti({ dims, affine, data: Uint8Array.from({ length: n }, (_, v) => v % 3) });
  new DataView(bytes.buffer).setFloat32(112, 2, true);
  for (const [name, file] of [['scaled.nii', bytes], ['scaled.nii.gz', gzipSync(bytes)]] as const) {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, file);
    const got = await sameAsSync(f) as { data: number[] };
    assert.deepEqual(got.data, Array.from({ length: n }, (_, v) => 2 * (v % 3)));
  }
});

test('misaligned vox_offset: int16 voxels starting at an odd byte read the same', () => {
  const data = Int16Array.from({ length: n }, (_, v) => v % 11);
  const good = encodeNifti({ dims, affine, data });
  const odd = new Uint8Array(good.length + 1);
  odd.set(good.subarray(0, 352));
  odd.set(good.subarray(352), 353);
  new DataView(odd.buffer).setFloat32(108, 353, true);
  const f = path.join(tmp, 'odd-offset.nii');
  fs.writeFileSync(f, odd);
  assert.deepEqual(Array.from(readLabels(f).data), Array.from(data, Number));
  assert.deepEqual(Array.from(readImage(f).data), Array.from(data, Number));
});

test('the bound: an over-limit file is refused before inflating, a stream holding more than declared is cut', async () => {
  const big = path.join(tmp, 'big.nii.gz');
  writeNifti(big, { dims: [128, 128, 80], affine, data: new Uint8Array(128 * 128 * 80) });
  const refused = await sameAsSync(big, { maxVolumeMB: 1 }) as { message: string };
  assert.match(refused.message, /volume of 128x128x80 uint8 voxels needs 5\.00 MB in memory, over the limit of 1\.00 MB/);
  // a header declaring 7x6x5 voxels followed by 64 MB of zeros (a gzip bomb of ~64 KB): only what is declared comes out
  const header = encodeNifti({ dims, affine, data: new Uint8Array(n) });
  const bomb = new Uint8Array(352 + 64 * 1048576);
  bomb.set(header);
  bomb.fill(3, 352, 352 + n);
  const f = path.join(tmp, 'bomb.nii.gz');
  fs.writeFileSync(f, gzipSync(bomb, { level: 9 }));
  const before = process.memoryUsage().arrayBuffers;
  const v = await readLabelsAsync(f, { maxVolumeMB: 1 });
  assert.deepEqual(Array.from(v.data), new Array(n).fill(3));
  assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1048576, 'inflated far past the declared size');
  await sameAsSync(f, { maxVolumeMB: 1 });
});

test('truncated and corrupt gzip streams: the same errors as readLabels', async () => {
  const good = gzipSync(encodeNifti({ dims: [40, 40, 40], affine, data: Uint8Array.from({ length: 64000 }, (_, v) => (v * 31) % 7) }));
  const variants: Array<[string, Uint8Array]> = [['cut-head', good.subarray(0, 60)], ['cut-early', good.subarray(0, 200)], ['cut-body', good.subarray(0, good.length - 200)], ['cut-trailer', good.subarray(0, good.length - 3)]];
  const flipped = Uint8Array.from(good);
  flipped[Math.floor(good.length / 2)] ^= 0x55;
  variants.push(['flipped', flipped]);
  const crc = Uint8Array.from(good);
  crc[crc.length - 6] ^= 1;
  variants.push(['bad-crc', crc]);
  for (const [name, bytes] of variants) {
    const f = path.join(tmp, `gz-${name}.nii.gz`);
    fs.writeFileSync(f, bytes);
    const got = await sameAsSync(f) as { message?: string };
    assert.ok(got.message?.startsWith(`${f}: `), name);
  }
});

test('seeded header mutations and truncations: readLabelsAsync and readLabels agree on every file', async () => {
  const good = encodeNifti({ dims, affine, data: Uint8Array.from({ length: n }, (_, v) => v % 5) });
  let seed = 20261202;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const fields = [0, 40, 42, 44, 46, 70, 72, 108, 112, 116, 252, 254, 76, 80, 84, 88];
  for (let it = 0; it < 200; it++) {
    let bytes = Uint8Array.from(good);
    if (it % 3 === 2) bytes = bytes.subarray(0, Math.floor(next() * bytes.length));
    else for (let m = 0; m < 1 + Math.floor(next() * 3); m++) bytes[fields[Math.floor(next() * fields.length)] + Math.floor(next() * 2)] = Math.floor(next() * 256);
    const gz = it % 2 === 0;
    const f = path.join(tmp, `mut-${it}.nii${gz ? '.gz' : ''}`);
    fs.writeFileSync(f, gz ? gzipSync(bytes) : bytes);
    await sameAsSync(f, { maxVolumeMB: 1 });
    fs.rmSync(f);
  }
});

test('parallel reads of several files give the voxels of one read after the other', async () => {
  const files = Array.from({ length: 6 }, (_, s) => {
    const f = path.join(tmp, `par-${s}.nii${s % 2 ? '' : '.gz'}`);
    const big = [64, 48, 40] as const;
    const data = s % 3 === 2 ? Uint16Array.from({ length: 64 * 48 * 40 }, (_, v) => (v * (s + 3)) % 1000) : Uint8Array.from({ length: 64 * 48 * 40 }, (_, v) => (v * (s + 3)) % 17);
    writeNifti(f, { dims: big, affine, data });
    return f;
  });
  const together = await Promise.all(files.map((f) => readLabelsAsync(f)));
  files.forEach((f, s) => {
    const one = readLabels(f);
    assert.deepEqual(together[s].dims, one.dims);
    assert.deepEqual(together[s].affine, one.affine);
    assert.equal(together[s].data.constructor, one.data.constructor);
    assert.ok(Buffer.from(together[s].data.buffer, together[s].data.byteOffset, together[s].data.byteLength).equals(Buffer.from(one.data.buffer, one.data.byteOffset, one.data.byteLength)), f);
  });
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
