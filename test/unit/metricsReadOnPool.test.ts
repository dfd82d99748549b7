/**
 * readLabelsOnPool, the metrics command's reader (header on the calling thread, the voxels of a gzipped uint8 map
 * inflated by a real worker of the metrics pool straight into shared memory), against readLabels on files the
 * project's writer makes: the same volumes, the same errors word for word, the same bound on what a gzip stream may
 * inflate to. And inflateIntoSync, the worker's inflate, against zlib's public API on every cut of a stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { gzipSync } from 'fflate';
import { axisAlignedAffine } from '../../src/core/geometry/affine';
import type { LabelVolume } from '../../src/core/geometry/volume';
import { caseMetrics } from '../../src/core/metrics/caseMetrics';
import { makeProtocol } from '../../src/core/metrics/protocol';
import { readLabelsOnPool } from '../../src/core/metrics/readLabelsOnPool';
import { findWorkerBundle, SurfacePool } from '../../src/core/metrics/surfacePool';
import { inflateIntoSync } from '../../src/core/nifti/inflateInto';
import { readLabels } from '../../src/core/nifti/read';
import { encodeNifti, writeNifti } from '../../src/core/nifti/write';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-read-pool-'));
const dims = [7, 6, 5] as const;
const affine = axisAlignedAffine([1.5, 1.2, 3], [-10, 4, 2]);
const n = dims[0] * dims[1] * dims[2];
const pool = new SurfacePool(2);

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
  const onPool = await outcome(() => readLabelsOnPool(pool, file, limits));
  assert.deepEqual(onPool, sync, file);
  return onPool;
};

test('the pool has workers, so gzipped uint8 maps are inflated on them', () => {
  assert.ok(findWorkerBundle(), 'dist/surfaceWorker.js is built');
  assert.equal(pool.threads, 2);
});

test('uint8, uint16 and float32 label maps, .nii and .nii.gz: the same volume as readLabels, in shared memory', async () => {
  const labels = Array.from({ length: n }, (_, v) => (v * 7) % 13);
  for (const data of [Uint8Array.from(labels), Uint16Array.from(labels, (l) => l * 300), Float32Array.from(labels)]) {
    for (const ext of ['.nii', '.nii.gz']) {
      const f = path.join(tmp, `labels-${data.constructor.name}${ext}`);
      writeNifti(f, { dims, affine, data });
      const got = await sameAsSync(f) as { data: number[]; shared: boolean };
      assert.deepEqual(got.data, Array.from(data, Number), f);
      assert.equal(got.shared, true, f);
    }
  }
  // the inflated map is in the pool's heap, the WebAssembly memory the worker wrote into and the kernels read
  const v = await readLabelsOnPool(pool, path.join(tmp, 'labels-Uint8Array.nii.gz'));
  assert.ok(v.data.buffer instanceof SharedArrayBuffer && v.data.length === n);
  assert.ok(pool.heap.addressOf(v.data) !== undefined, 'a view of the pool heap');
  assert.equal(pool.share(v.data), v.data, 'shared without a copy');
});

test('the bound: an over-limit file is refused, a stream holding more than declared is cut', async () => {
  const big = path.join(tmp, 'big.nii.gz');
  writeNifti(big, { dims: [128, 128, 80], affine, data: new Uint8Array(128 * 128 * 80) });
  assert.match((await sameAsSync(big, { maxVolumeMB: 1 }) as { message: string }).message, /needs 5\.00 MB in memory, over the limit of 1\.00 MB/);
  // a header declaring 7x6x5 voxels followed by 64 MB of zeros: only what is declared comes out
  const bomb = new Uint8Array(352 + 64 * 1048576);
  bomb.set(encodeNifti({ dims, affine, data: new Uint8Array(n) }));
  bomb.fill(3, 352, 352 + n);
  const f = path.join(tmp, 'bomb.nii.gz');
  fs.writeFileSync(f, gzipSync(bomb, { level: 9 }));
  const v = await readLabelsOnPool(pool, f, { maxVolumeMB: 1 });
  assert.deepEqual(Array.from(v.data), new Array(n).fill(3));
  await sameAsSync(f, { maxVolumeMB: 1 });
});

test('truncated and corrupt gzip streams, small and large: the same errors as readLabels', async () => {
  for (const size of [40, 160]) {
    const good = gzipSync(encodeNifti({ dims: [size, size, 40], affine, data: Uint8Array.from({ length: size * size * 40 }, (_, v) => (v * 31) % 7) }));
    const variants: Array<[string, Uint8Array]> = [
      ['cut-head', good.subarray(0, 60)], ['cut-early', good.subarray(0, 200)], ['cut-body', good.subarray(0, good.length - 200)],
      ['cut-trailer', good.subarray(0, good.length - 3)], ['whole', good],
    ];
    const flipped = Uint8Array.from(good);
    flipped[Math.floor(good.length / 2)] ^= 0x55;
    const crc = Uint8Array.from(good);
    crc[crc.length - 6] ^= 1;
    variants.push(['flipped', flipped], ['bad-crc', crc]);
    for (const [name, bytes] of variants) {
      const f = path.join(tmp, `gz-${size}-${name}.nii.gz`);
      fs.writeFileSync(f, bytes);
      const got = await sameAsSync(f) as { message?: string };
      if (name === 'whole') assert.equal(got.message, undefined);
      else assert.ok(got.message?.startsWith(`${f}: `), `${size} ${name}`);
    }
  }
});

test('seeded header mutations and truncations: readLabelsOnPool and readLabels agree on every file', async () => {
  const good = encodeNifti({ dims, affine, data: Uint8Array.from({ length: n }, (_, v) => v % 5) });
  let seed = 20261202;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const fields = [0, 40, 42, 44, 46, 70, 72, 108, 112, 116, 252, 254, 76, 80, 84, 88];
  for (let it = 0; it < 120; it++) {
    let bytes = Uint8Array.from(good);
    if (it % 3 === 2) bytes = bytes.subarray(0, Math.floor(next() * bytes.length));
    else for (let m = 0; m < 1 + Math.floor(next() * 3); m++) bytes[fields[Math.floor(next() * fields.length)] + Math.floor(next() * 2)] = Math.floor(next() * 256);
    const f = path.join(tmp, `mut-${it}.nii.gz`);
    fs.writeFileSync(f, gzipSync(bytes));
    await sameAsSync(f, { maxVolumeMB: 1 });
    fs.rmSync(f);
  }
});

test('inflateIntoSync straight into the buffer, through a ring and through the public API: the same bytes and lengths; cuts at the bound', () => {
  // two gzip members, so that the second begins after the first's trailer
  const raw = Uint8Array.from({ length: 300_000 }, (_, v) => ((v >> 9) * 7) % 11);
  const stream = Buffer.concat([zlib.gzipSync(raw.subarray(0, 120_000)), zlib.gzipSync(raw.subarray(120_000))]);
  const whole = zlib.gunzipSync(stream);
  assert.equal(whole.length, raw.length);
  assert.ok(stream.length > 1000);
  // with `ring`, the bytes come through a ring of that many bytes (flushes checked to tile `out` in order)
  const result = (input: Uint8Array, skip: number, size: number, direct: boolean, ring = 0) => {
    const out = new Uint8Array(new SharedArrayBuffer(size));
    let next = 0;
    const through = ring > 0 ? {
      ring: new Uint8Array(ring),
      flush(bytes: number, at: number) {
        assert.equal(at, next, 'flushes follow each other');
        assert.ok(bytes > 0 && bytes <= ring);
        out.set(this.ring.subarray(0, bytes), at);
        next = at + bytes;
      },
    } : undefined;
    try {
      return { length: inflateIntoSync(input, out, skip, { direct, through }), bytes: Buffer.from(out.buffer) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  for (const skip of [0, 1, 352, 544, 5000]) {
    for (const size of [0, 1, 1000, raw.length - skip - 1, raw.length - skip, raw.length]) {
      const expected = { length: Math.min(whole.length, skip + size), bytes: Buffer.concat([whole.subarray(skip, skip + size), Buffer.alloc(Math.max(0, skip + size - whole.length))]) };
      const at = `skip ${skip}, size ${size}`;
      assert.deepEqual(result(stream, skip, size, true), expected, at);
      assert.deepEqual(result(stream, skip, size, false), expected, at);
      for (const ring of [1, 7000, 1 << 20]) {
        assert.deepEqual(result(stream, skip, size, true, ring), expected, `${at}, ring ${ring}`);
        assert.deepEqual(result(stream, skip, size, false, ring), expected, `${at}, ring ${ring}, public API`);
      }
      // a stream cut short: zlib's error, unless the bound comes first (then the bytes up to it, the rest unread)
      for (const cut of [0, 1, 10, 200, 1000, stream.length - 9, stream.length - 1].filter((c) => c < stream.length)) {
        const got = result(stream.subarray(0, cut), skip, size, true);
        if ('error' in got) assert.equal(got.error, 'unexpected end of file', `${at}, cut ${cut}`);
        else assert.deepEqual(got, { length: skip + size, bytes: expected.bytes }, `${at}, cut ${cut}`);
        assert.deepEqual(result(stream.subarray(0, cut), skip, size, true, 7000), got, `${at}, cut ${cut}, ring`);
      }
    }
  }
});

test.after(async () => {
  await pool.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('maps scanned as they inflate (1 MiB at a time) score exactly as the joint scan of copies of them, inline and on workers', async () => {
  // 96 x 80 x 60 (~450 KB a map: several progress stretches, a plane cut by each): organs as boxes, a false positive
  // (label 4 only predicted), a miss (label 5 only in the ground truth), label 200 at the volume border
  const d = [96, 80, 60] as const;
  const gtMap = new Uint8Array(d[0] * d[1] * d[2]), predMap = new Uint8Array(d[0] * d[1] * d[2]);
  const paint = (m: Uint8Array, l: number, lo: number[], hi: number[]) => {
    for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) m[i + d[0] * (j + d[1] * k)] = l;
  };
  paint(gtMap, 1, [10, 10, 5], [40, 30, 30]); paint(predMap, 1, [12, 9, 7], [41, 33, 29]);
  paint(gtMap, 2, [50, 40, 20], [70, 60, 50]); paint(predMap, 2, [49, 43, 22], [66, 59, 55]);
  paint(predMap, 4, [80, 5, 2], [90, 15, 8]);
  paint(gtMap, 5, [5, 60, 40], [20, 75, 55]);
  paint(gtMap, 200, [0, 0, 0], [95, 3, 2]); paint(predMap, 200, [0, 0, 0], [95, 4, 1]);
  const grid = { dims: [...d] as unknown as LabelVolume['dims'], affine: axisAlignedAffine([0.8, 1.1, 2.5], [0, 0, 0]) };
  const gtFile = path.join(tmp, 'scan-gt.nii.gz'), predFile = path.join(tmp, 'scan-pred.nii.gz');
  writeNifti(gtFile, { ...grid, data: gtMap });
  writeNifti(predFile, { ...grid, data: predMap });
  const protocol = makeProtocol('umd');
  const labels = [1, 2, 4, 5, 200, 9].map((id) => ({ id }));
  // the grid as read (the file's affine is float32), scored from plain copies of the maps: the joint scan
  const read = readLabels(gtFile);
  const joint = await caseMetrics(read, gtMap, predMap, labels, protocol);
  for (const threads of [1, 2]) {
    const p = new SurfacePool(threads);
    try {
      const [g, pr] = await Promise.all([readLabelsOnPool(p, gtFile), readLabelsOnPool(p, predFile)]);
      const scan = p.scanOf(g.data);
      assert.ok(scan !== undefined && p.scanOf(pr.data) !== undefined, `${threads} thread(s): both maps scanned as they were inflated`);
      assert.equal(scan.voxels.get(1), 31 * 21 * 26);
      assert.deepEqual(scan.boxes.get(200), { lo: [0, 0, 0], hi: [95, 3, 2] });
      assert.equal(scan.voxels.has(4), false);
      const byMap = await caseMetrics(g, g.data, pr.data, labels, protocol, p);
      assert.deepEqual(byMap, joint, `${threads} thread(s)`);
    } finally {
      await p.close();
    }
  }
  assert.equal(joint.get(4)!.status, 'false-positive');
  assert.equal(joint.get(5)!.status, 'missed');
  assert.equal(joint.get(9)!.status, 'both-empty');
  const dice = joint.get(1)!.dice ?? NaN;
  assert.ok(dice > 0.8 && dice < 1, `dice ${dice}`);
});
