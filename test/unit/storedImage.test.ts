/**
 * Images in their stored type through preprocessing and the sliding window (an int16 CT stays int16, normalized per
 * window), and the memory estimate from the header and the card before any voxel is read, with its refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { axisAlignedAffine, type GridDims } from '../../src/core/geometry/affine';
import type { StoredImageVolume } from '../../src/core/geometry/volume';
import { readImage, readImageHeader, readImageStored } from '../../src/core/nifti/read';
import { encodeNiftiHeader } from '../../src/core/nifti/write';
import { clipBounds, normalize } from '../../src/core/model/preprocess/normalize';
import { maskedValues, maskOf, meanStd, percentiles, percentilesOfIntegers } from '../../src/core/model/preprocess/intensityStats';
import { checkPredictMemory, loadModel, outputChannels, predictClasses } from '../../src/core/model/predict';
import { estimatePredictMemory, MemoryLimitError } from '../../src/core/model/memoryEstimate';
import { evaluateRun } from '../../src/core/evaluate/evaluateRun';
import { readRun } from '../../src/core/runstore/runStore';
import { realDataDir, repoRoot } from '../helpers/realData';
import { baseCard, withCard } from '../helpers/cards';
import { lcg } from '../helpers/random';
import { phantomDataset } from '../helpers/phantomDataset';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-stored-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const INT16_CT = path.join(realDataDir(), 'ct-abdomen', 'example_ct_sm.nii.gz');
const FLOAT_CT = path.join(realDataDir(), 'sts-petctmr', 'STS_002', 'CT_image.nii.gz');

test('an int16 CT without scaling is read in its stored type, with readImage\'s values; a float32 file stays float32', () => {
  const stored = readImageStored(INT16_CT);
  const float = readImage(INT16_CT);
  assert.ok(stored.data instanceof Int16Array, stored.data.constructor.name);
  assert.deepEqual(stored.dims, float.dims);
  assert.deepEqual(stored.affine, float.affine);
  assert.deepEqual(Float32Array.from(stored.data), float.data);
  assert.ok(readImageStored(FLOAT_CT).data instanceof Float32Array);
  const header = readImageHeader(INT16_CT);
  assert.deepEqual(header.dims, float.dims);
  assert.equal(header.bytesPerVoxel, 2);
  assert.equal(header.keepsStoredType, true);
  assert.equal(readImageHeader(FLOAT_CT).keepsStoredType, false);
});

test('statistics of stored integers equal those of their float32 copy: percentiles (histogram), masks, mean/std, every normalized voxel', () => {
  const ct = readImageStored(INT16_CT).data as Int16Array;
  const f = Float32Array.from(ct);
  const qs = [0, 0.5, 1, 5, 25, 50, 75, 95, 99, 99.5, 100];
  for (const mask of [null, maskOf(f, { above: -500 }), maskOf(f, 'nonzero')]) {
    assert.deepEqual(percentilesOfIntegers(ct, mask, qs), percentiles(maskedValues(f, mask), qs));
    assert.deepEqual(meanStd(ct, mask), meanStd(f, mask));
  }
  // 8-bit and unsigned 16-bit, with long runs of equal values
  const rand = lcg(5, 'mod31');
  const u8 = Uint8Array.from({ length: 5001 }, () => (rand() < 0.5 ? 0 : Math.floor(rand() * 256)));
  const i8 = Int8Array.from({ length: 999 }, () => Math.floor(rand() * 256) - 128);
  const u16 = Uint16Array.from({ length: 3000 }, () => (rand() < 0.3 ? 65535 : Math.floor(rand() * 65536)));
  for (const x of [u8, i8, u16]) assert.deepEqual(percentilesOfIntegers(x, null, qs), percentiles(Float32Array.from(x), qs), x.constructor.name);
  const norms = [
    { method: 'clip-zscore' as const, lowerPercentile: 0.5, upperPercentile: 99.5, mask: { above: -500 } },
    { method: 'clip-zscore' as const, lower: -1000, upper: 1000, mean: 40, std: 300 },
    { method: 'zscore' as const, mask: 'nonzero' as const },
    { method: 'minmax' as const },
  ];
  for (const n of norms) {
    assert.deepEqual(clipBounds(ct, maskOf(ct, n.mask), n), clipBounds(f, maskOf(f, n.mask), n), n.method);
    assert.deepEqual(normalize(ct, n), normalize(f, n), `${n.method}: every voxel`);
  }
});

const pointwise = (x: number): number[] => {
  const h = [Math.tanh(x), Math.tanh(-x + 0.5), Math.tanh(0.5 * x - 0.25), Math.tanh(2 * x + 1)];
  return [-h[0] + h[1], h[2] - 0.3 * h[3] + 0.9, h[0] - h[1] + 0.5 * h[2] + 0.2 * h[3] - 0.4];
};

test('predictClasses on the stored int16 image equals the float32 image voxel for voxel, both orders, with the band along the longest axis', async () => {
  // the real int16 CT (122 x 101 x 30: i longest, so (k, j, i) order sweeps tensor axis 2) and a synthetic one whose
  // k is longest (so (i, j, k) order sweeps tensor axis 2, read through strides)
  const real = readImageStored(INT16_CT);
  const rand = lcg(3, 'mod31');
  const dims: GridDims = [9, 7, 23];
  const synth: StoredImageVolume = { dims, affine: axisAlignedAffine([1, 1.5, 2], [3, -4, 5]), data: Int16Array.from({ length: 9 * 7 * 23 }, () => Math.round(rand() * 2000 - 1000)) };
  const norm = { ct: { method: 'clip-zscore', lowerPercentile: 0.5, upperPercentile: 99.5, mask: { above: -500 } } };
  for (const [img, patch] of [[real, [16, 24, 24]], [synth, [6, 6, 6]]] as const) {
    const asFloat = { ...img, data: Float32Array.from(img.data) };
    const byHand = Uint8Array.from(normalize(asFloat.data, norm.ct as Parameters<typeof normalize>[1]), (x) => { const l = pointwise(x); return l.indexOf(Math.max(...l)); });
    for (const card of [{ spatialOrder: 'kji', patchSize: patch }, { spatialOrder: 'ijk', patchSize: [...patch].reverse() }, { spatialOrder: 'ijk', patchSize: null }]) {
      const label = `${img.dims} ${JSON.stringify(card)}`;
      const model = await loadModel(withCard('pointwise.onnx', { ...baseCard(), ...card, normalization: norm }), { threads: 1 });
      try {
        const a = await predictClasses(model, img, 'CT');
        const b = await predictClasses(model, asFloat, 'CT');
        assert.deepEqual(a.data, b.data, `${label}: stored and float32`);
        // a pointwise network: the classes are those of each voxel, whatever the order and the sweep
        assert.deepEqual(a.data, byHand, `${label}: by hand`);
      } finally {
        await model.close();
      }
    }
  }
  // a window-dependent network: stored and float32 still agree voxel for voxel
  const model = await loadModel(withCard('conv3-batch.onnx', { ...baseCard(), spatialOrder: 'ijk', patchSize: [24, 24, 16], labels: { '1': 'liver' }, normalization: norm }), { threads: 1 });
  try {
    const a = await predictClasses(model, real, 'CT');
    assert.deepEqual(a.data, (await predictClasses(model, { ...real, data: Float32Array.from(real.data) }, 'CT')).data);
    assert.ok(new Set(a.data).size > 1);
  } finally {
    await model.close();
  }
});

/** An image file holding only a header (no voxels): what the estimate reads, and all it reads. */
function headerOnly(name: string, dims: GridDims, kind: string, spacing = 1.5): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, encodeNiftiHeader({ dims, affine: axisAlignedAffine([spacing, spacing, spacing], [0, 0, 0]) }, kind));
  return file;
}

test('memory estimate from the header and the card: the band along the longest axis in both orders, float16 half of it, refusal naming the file and the ways out', async () => {
  const ct = headerOnly('ct.nii', [320, 320, 1000], 'Int16Array');
  assert.throws(() => readImage(ct), /truncated/, 'the file holds no voxels: only the header is read');
  const card = { orientation: null, spacing: [1.5, 1.5, 1.5] as [number, number, number], patchSize: [96, 96, 96] as [number, number, number], pad: undefined };
  const band32 = 14 * 96 * 320 * 320 * 4;
  const header = readImageHeader(ct);
  for (const spatialOrder of ['ijk', 'kji'] as const) {
    const e = estimatePredictMemory(header, { ...card, spatialOrder }, { channels: 14 });
    assert.equal(e.bandBytes, band32, spatialOrder);
    assert.equal(e.items[0].bytes, 320 * 320 * 1000 * 2, 'the image as stored: int16');
    assert.ok(!e.items.some((i) => /resampled/.test(i.what)), 'the card spacing is the image\'s: no resampled copy');
    assert.ok(e.totalBytes < 1.5 * 2 ** 30, `${spatialOrder}: ${e.totalBytes}`);
    assert.equal(estimatePredictMemory(header, { ...card, spatialOrder }, { channels: 14, bandDtype: 'float16' }).bandBytes, band32 / 2);
  }
  // resampling to 3 mm: a float32 grid of 160 x 160 x 500, a band over its short axes
  const coarse = estimatePredictMemory(header, { ...card, spacing: [3, 3, 3], spatialOrder: 'ijk' }, { channels: 14 });
  assert.equal(coarse.items.find((i) => /resampled/.test(i.what))!.bytes, 160 * 160 * 500 * 4);
  assert.equal(coarse.bandBytes, 14 * 96 * 160 * 160 * 4);
  // TotalSegmentator-sized: 118 channels need 8.4x the band
  assert.equal(estimatePredictMemory(header, { ...card, spatialOrder: 'ijk' }, { channels: 118 }).bandBytes, 118 * 96 * 320 * 320 * 4);

  const model = await loadModel(withCard('pointwise.onnx', { ...baseCard(), spatialOrder: 'ijk', spacing: [1.5, 1.5, 1.5], patchSize: [96, 96, 96] }), { threads: 1 });
  try {
    const channels = outputChannels(model);
    assert.equal(channels, 3);
    const e = checkPredictMemory(model, ct, { maxMemoryGB: 4 });
    assert.equal(e.bandBytes, 3 * 96 * 320 * 320 * 4);
    assert.throws(() => checkPredictMemory(model, ct, { maxMemoryGB: 0.5 }), (err: Error) => {
      assert.ok(err instanceof MemoryLimitError);
      assert.equal(err.file, ct);
      assert.match(err.message, new RegExp(`^${ct.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: predicting on this image needs about \\d+\\.\\d\\d GB, over the limit of 0\\.50 GB`));
      assert.match(err.message, /blending band \(3 classes x 96 slabs x 320 x 320 x 4 bytes, float32\) 0\.11 GB/);
      assert.match(err.message, /--band-dtype float16/);
      assert.match(err.message, /--max-memory-gb/);
      return true;
    });
    assert.throws(() => checkPredictMemory(model, ct, { maxMemoryGB: 0 }), /positive number of GB/);
  } finally {
    await model.close();
  }
});

test('evaluate: a case over the memory limit is a case error naming its image and the figures; the run goes on', async () => {
  const data = await phantomDataset('umd-mem-', 1, 7);
  const model = path.join(repoRoot(), 'models', 'umd-mini-ct-only.onnx');
  const res = await evaluateRun({ modelPath: model, datasetRoot: data, runDir: fs.mkdtempSync(path.join(tmp, 'run-')), maxMemoryGB: 0.01 });
  const cases = readRun(res.runDir).cases;
  assert.ok(cases.length >= 2, 'every image of the subject has its record');
  for (const c of cases) {
    assert.equal(c.status, 'error');
    const message = (c as { error?: string }).error ?? JSON.stringify(c);
    assert.match(message, /\.nii(\.gz)?: predicting on this image needs about [\d.]+ GB, over the limit of 0\.01 GB/);
    assert.match(message, /Ways out/);
  }
  assert.equal(res.cancelled, false);
  assert.equal(res.manifest.counts?.errors ?? cases.length, cases.length);
});
