/**
 * Model layer: card validation, session checks, normalization, MONAI-equivalent sliding window, and
 * predictClasses end to end on the tiny fixtures of test/fixtures/models (see make_models.py there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { axisAlignedAffine, voxelToWorld, worldToVoxel, type GridDims } from '../../src/core/geometry/affine';
import { readImage } from '../../src/core/nifti/read';
import type { ImageVolume } from '../../src/core/geometry/volume';
import { createBand, type BandGeometry, type BlendBand } from '../../src/core/model/inference/blendBand';
import { halfTable, toHalf } from '../../src/core/model/inference/float16';
import { normalizer } from '../../src/core/model/preprocess/normalize';
import {
  CardError, gaussianImportanceMap, loadModel, normalize, normalizationFor, predictClasses, scanInterval,
  slidingWindowLogits, slidingWindowClasses, validateCard, wholeVolumeLogits, windowStarts, argmaxChannels, mirrorCombinations, ttaMirrors, type ModelCard,
} from '../../src/core/model';
import type { RunPatch, Shape3 } from '../../src/core/model/inference';
import { repoRoot } from '../helpers/realData';
import { baseCard, withCard } from '../helpers/cards';
import { lcg } from '../helpers/random';

const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'models');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-model-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));



/** Deterministic pseudo-random values in [-3, 3] (all three fixture classes occur there). */
function noise(n: number, seed = 1): Float32Array {
  const rand = lcg(seed, 'mod31');
  return Float32Array.from({ length: n }, () => rand() * 6 - 3);
}

// ---- card -----------------------------------------------------------------------------------------------

test('a valid card passes; unknown keys (top level and nested) are warnings, "$" keys are silent', () => {
  const raw = { ...baseCard(), $schema: 'x', extra: 1, inputs: { image: 'image', mask: 'm' }, normalization: { ct: { method: 'zscore', lower: 1 }, CT: { method: 'none' }, '*': { method: 'minmax' } } };
  const { card, warnings } = validateCard(raw, '/x/model.umd.json');
  assert.equal(card.inputs.image, 'image');
  assert.deepEqual(card.normalization, { ct: { method: 'zscore' }, '*': { method: 'minmax' } });
  assert.equal(warnings.length, 4, warnings.join('\n'));
  assert.match(warnings.join('\n'), /unknown key extra/);
  assert.match(warnings.join('\n'), /unknown key inputs\.mask/);
  assert.match(warnings.join('\n'), /unknown key normalization\.CT/);
  assert.match(warnings.join('\n'), /normalization\.ct\.lower is ignored by method "zscore"/);
  assert.ok(warnings.every((w) => w.startsWith('model.umd.json: ')));
});

test('nsdToleranceMm: a number applies to every organ, an object per organ', () => {
  assert.deepEqual(validateCard({ ...baseCard(), nsdToleranceMm: 2 }, 'c.umd.json').card.nsdToleranceMm, { '*': 2 });
  const { card, warnings } = validateCard({ ...baseCard(), nsdToleranceMm: { liver: 1.5, '*': 1 } }, 'c.umd.json');
  assert.deepEqual(card.nsdToleranceMm, { liver: 1.5, '*': 1 });
  assert.deepEqual(warnings, []);
});

test('card errors name the file and the key path', () => {
  const bad = (patch: Record<string, unknown>, ...want: RegExp[]) => {
    const raw = { ...baseCard(), ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete raw[k];
    assert.throws(() => validateCard(raw, '/x/model.umd.json'), (e: unknown) => {
      assert.ok(e instanceof CardError);
      assert.equal(e.file, '/x/model.umd.json');
      for (const re of want) assert.match(e.message, re);
      return true;
    });
  };
  bad({ patchSize: [96, 96] }, /model\.umd\.json: patchSize must be \[a,b,c\] positive integers or null/);
  bad({ patchSize: [96, 0.5, 96] }, /patchSize must be/);
  bad({ patchSize: undefined }, /patchSize must be .* \(got missing\)/);
  bad({ inputs: {} }, /model\.umd\.json: inputs\.image must be a non-empty string/);
  bad({ inputs: undefined }, /inputs must be an object/);
  bad({ outputs: { logits: 3 } }, /outputs\.logits must be a non-empty string/);
  bad({ spatialOrder: 'xyz' }, /spatialOrder must be "kji" or "ijk" \(got "xyz"\)/);
  bad({ spacing: [1, -1, 1] }, /spacing must be \[a,b,c\] positive numbers/);
  bad({ kind: 'promptable' }, /prompt must be an object naming how prompts are fed/);
  bad({ kind: 'interactive' }, /kind must be "semantic" or "promptable"/);
  bad({ normalization: { ct: { method: 'robust' } } }, /normalization\.ct\.method must be one of "none", "minmax", "zscore", "clip-zscore"/);
  bad({ normalization: { ct: { method: 'clip-zscore', lower: -1000 } } }, /normalization\.ct: clip-zscore needs lower and upper/);
  bad({ normalization: { ct: { method: 'zscore', mean: 1, std: 0 } } }, /normalization\.ct\.std must be > 0/);
  bad({ normalization: { ct: { method: 'zscore', mean: '1', std: 2 } } }, /normalization\.ct\.mean must be a finite number/);
  bad({ normalization: { ct: { method: 'zscore', mask: 'nonzero', outside: 'keep' } } }, /normalization\.ct\.outside must be "zero" .* or "scaled"/);
  bad({ labels: { liver: '1' } }, /labels\.liver: class ids must be integers/);
  bad({ labels: { '1': '' } }, /labels\.1 must be a non-empty organ name/);
  bad({ overlap: 1 }, /overlap must be a number in \[0, 1\)/);
  bad({ nsdToleranceMm: { liver: '2' } }, /nsdToleranceMm\.liver must be a non-negative number of mm \(got "2"\)/);
  bad({ nsdToleranceMm: -1 }, /nsdToleranceMm must be a number of mm or an object/);
  // every problem at once
  bad({ spatialOrder: 'xyz', patchSize: 'auto', inputs: {} }, /spatialOrder/, /patchSize/, /inputs\.image/);
});

test('a missing or malformed card file is an error naming the card path', async () => {
  const dir = path.join(tmp, 'nocard');
  fs.mkdirSync(dir);
  fs.symlinkSync(path.join(FIXTURES, 'pointwise.onnx'), path.join(dir, 'net.onnx'));
  await assert.rejects(loadModel(path.join(dir, 'absent.onnx')), /absent\.onnx: model file not found/);
  await assert.rejects(loadModel(path.join(dir, 'net.onnx')), /net\.umd\.json: model card not found/);
  fs.writeFileSync(path.join(dir, 'net.umd.json'), '{ "kind": ');
  await assert.rejects(loadModel(path.join(dir, 'net.onnx')), /net\.umd\.json: not valid JSON/);
});

test('a card naming tensors the model lacks fails at load, listing the model\'s actual names', async () => {
  await assert.rejects(loadModel(withCard('renamed.onnx', baseCard())), (e: Error) => {
    assert.match(e.message, /model\.onnx: card inputs\.image is "image" but the model's inputs are "ct_in"/);
    assert.match(e.message, /card outputs\.logits is "logits" but the model's outputs are "seg_out"/);
    return true;
  });
  const ok = await loadModel(withCard('renamed.onnx', { ...baseCard(), inputs: { image: 'ct_in' }, outputs: { logits: 'seg_out' } }));
  await ok.close();
  await assert.rejects(loadModel(withCard('rank4.onnx', baseCard())), /input "image" has rank 4/);
});

test('normalization entry: the modality\'s own, else "*", else none', () => {
  const card = { normalization: { ct: { method: 'clip-zscore', lower: -100, upper: 200 }, '*': { method: 'minmax' } } } as unknown as ModelCard;
  assert.equal(normalizationFor(card, 'CT').method, 'clip-zscore');
  assert.equal(normalizationFor(card, 'PET').method, 'minmax');
  assert.equal(normalizationFor(card, null).method, 'minmax');
  assert.equal(normalizationFor({ normalization: { pet: { method: 'zscore' } } } as unknown as ModelCard, 'MRI').method, 'none');
  const { warnings } = validateCard({ ...baseCard(), normalization: { ct: { method: 'zscore' } } }, 'c.umd.json');
  assert.match(warnings.join('\n'), /no "\*" entry and none for mri, pet/);
});

// ---- normalize ------------------------------------------------------------------------------------------

test('normalize: minmax, zscore (std 0 guarded), clip-zscore, and NaN/Inf refused with a count', () => {
  const x = Float32Array.from([2, 4, 6, 8]);
  assert.deepEqual([...normalize(x, { method: 'minmax' })], [0, 1 / 3, 2 / 3, 1].map(Math.fround));
  assert.deepEqual([...x], [2, 4, 6, 8], 'input untouched');
  const z = normalize(x, { method: 'zscore' });
  const sd = Math.sqrt(5);
  z.forEach((v, n) => assert.ok(Math.abs(v - (x[n] - 5) / sd) < 1e-6));
  assert.deepEqual([...normalize(x, { method: 'zscore', mean: 4, std: 2 })], [-1, 0, 1, 2]);
  assert.deepEqual([...normalize(new Float32Array(3).fill(7), { method: 'zscore' })], [0, 0, 0]);
  assert.deepEqual([...normalize(new Float32Array(3).fill(7), { method: 'minmax' })], [0, 0, 0]);
  assert.deepEqual([...normalize(Float32Array.from([-2000, 0, 50, 3000]), { method: 'clip-zscore', lower: -1000, upper: 1000, mean: 0, std: 500 })], [-2, 0, 0.1, 2].map(Math.fround));
  assert.throws(() => normalize(Float32Array.from([1, NaN, Infinity, 2, NaN]), { method: 'none' }), /image has 3 non-finite voxels \(NaN or Inf\)/);
});

// ---- MONAI sliding-window geometry ----------------------------------------------------------------------

test('window starts follow MONAI _get_scan_interval + dense_patch_slices', () => {
  const starts = (size: number, patch: number, overlap: number) => windowStarts(size, patch, scanInterval(size, patch, overlap));
  assert.deepEqual(starts(100, 64, 0.5), [0, 32, 36]);
  assert.deepEqual(starts(64, 64, 0.5), [0]);
  assert.deepEqual(starts(96, 64, 0.25), [0, 32]);
  assert.deepEqual(starts(130, 64, 0), [0, 64, 66]);
  assert.deepEqual(starts(128, 64, 0), [0, 64]);
  assert.deepEqual(starts(7, 5, 0.9), [0, 1, 2]); // interval floor(0.5) = 0 -> 1
  assert.deepEqual(starts(200, 96, 0.625), [0, 36, 72, 104]);
  assert.equal(scanInterval(96, 96, 0.5), 96);
});

test('gaussian importance map: MONAI compute_importance_map(sigma_scale=0.125)', () => {
  const odd: Shape3 = [5, 7, 9];
  const g = gaussianImportanceMap(odd);
  const at = (a: number, b: number, c: number, p: Shape3 = odd, m = g) => m[(a * p[1] + b) * p[2] + c];
  assert.equal(at(2, 3, 4), 1, 'centre of an odd patch is exactly 1');
  assert.equal(Math.max(...g), 1);
  // sigma = patch / 8 per axis: one voxel off centre along axis 0 (patch 5) is exp(-1 / (2 * 0.625^2))
  assert.ok(Math.abs(at(3, 3, 4) - Math.exp(-1 / (2 * 0.625 ** 2))) < 1e-6);
  assert.ok(Math.abs(at(2, 3, 5) - Math.exp(-1 / (2 * 1.125 ** 2))) < 1e-6);
  for (let a = 0; a < 5; a++) for (let b = 0; b < 7; b++) for (let c = 0; c < 9; c++) {
    const v = at(a, b, c);
    assert.equal(v, at(4 - a, b, c));
    assert.equal(v, at(a, 6 - b, c));
    assert.equal(v, at(a, b, 8 - c));
  }
  // even patch: centred at (p - 1) / 2, the 8 central voxels share the maximum; tails clamped to 1e-3
  const even: Shape3 = [64, 64, 64];
  const e = gaussianImportanceMap(even);
  const peak = at(31, 31, 31, even, e);
  assert.equal(peak, at(32, 32, 32, even, e));
  assert.equal(peak, e.reduce((m, v) => Math.max(m, v), 0));
  assert.ok(peak < 1 && peak > 0.99);
  assert.equal(at(0, 0, 0, even, e), Math.fround(1e-3));
  assert.ok(e.every((v) => v >= Math.fround(1e-3)));
});

test('sliding window blends overlapping windows with the gaussian weights', async () => {
  // along d2: size 10, patch 6, overlap 0.5 -> windows at 0, 3, 4; each window answers its own start
  let calls = 0;
  const run: RunPatch = async (data) => ({ data: new Float32Array(data.length).fill(calls++), channels: 1 });
  const out = await slidingWindowLogits(new Float32Array(10), [1, 1, 10], [1, 1, 6], run, { overlap: 0.5 });
  assert.equal(calls, 3);
  const windowStart = [0, 3, 4];
  const g = (x: number) => Math.exp(-((x - 2.5) ** 2) / (2 * 0.75 ** 2));
  for (let x = 0; x < 10; x++) {
    let num = 0;
    let den = 0;
    windowStart.forEach((s, w) => { if (x >= s && x < s + 6) { num += g(x - s) * w; den += g(x - s); } });
    assert.ok(Math.abs(out.data[x] - num / den) < 1e-5, `voxel ${x}: ${out.data[x]} vs ${num / den}`);
  }
});

// ---- inference ------------------------------------------------------------------------------------------

function runner(session: ort.InferenceSession): RunPatch {
  return async (data, dims) => {
    const out = (await session.run({ image: new ort.Tensor('float32', data, [1, 1, ...dims]) })).logits;
    return { data: out.data as Float32Array, channels: out.dims[1] };
  };
}

/** The fixture network in plain JS (make_models.py's weights): proves layout and the ORT call. */
function pointwise(x: number): number[] {
  const h = [Math.tanh(x), Math.tanh(-x + 0.5), Math.tanh(0.5 * x - 0.25), Math.tanh(2 * x + 1)];
  return [-h[0] + h[1], h[2] - 0.3 * h[3] + 0.9, h[0] - h[1] + 0.5 * h[2] + 0.2 * h[3] - 0.4];
}

test('pointwise model: whole-volume logits match the network computed by hand', async () => {
  const model = await loadModel(withCard('pointwise.onnx', baseCard()), { threads: 1 });
  try {
    const shape: Shape3 = [3, 4, 5];
    const x = noise(60);
    const { data, channels } = await wholeVolumeLogits(x, shape, runner(model.session));
    assert.equal(channels, 3);
    for (let v = 0; v < 60; v++) {
      const want = pointwise(x[v]);
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(data[c * 60 + v] - want[c]) < 1e-5);
    }
    const classes = argmaxChannels({ data, channels }, 60);
    assert.deepEqual(new Set(classes), new Set([0, 1, 2]));
  } finally {
    await model.close();
  }
});

test('sliding window equals whole-volume inference on a pointwise network (patch sizes, overlaps, padding)', async () => {
  const model = await loadModel(withCard('pointwise.onnx', baseCard()), { threads: 1 });
  try {
    const shape: Shape3 = [13, 11, 9];
    const n = 13 * 11 * 9;
    const x = noise(n, 7);
    const run = runner(model.session);
    const whole = await wholeVolumeLogits(x, shape, run);
    const wholeClasses = argmaxChannels(whole, n);
    const cases: [Shape3, number][] = [
      [[8, 8, 8], 0.5], [[5, 7, 4], 0.25], [[6, 6, 6], 0], [[4, 4, 4], 0.75], [[13, 11, 9], 0.5],
      [[16, 16, 16], 0.5], // larger than the volume on every axis: padded, one window
      [[16, 4, 12], 0.5], // padded on two axes, slid on one
    ];
    for (const [patch, overlap] of cases) {
      let progress = 0;
      let windows = 0;
      const sw = await slidingWindowLogits(x, shape, patch, run, { overlap, onProgress: (d, t) => { progress = d; windows = t; } });
      const expected = [0, 1, 2].map((a) => windowStarts(Math.max(shape[a], patch[a]), patch[a], scanInterval(Math.max(shape[a], patch[a]), patch[a], overlap)).length).reduce((p, q) => p * q);
      assert.equal(windows, expected);
      assert.equal(progress, windows);
      assert.equal(sw.channels, 3);
      assert.equal(sw.data.length, 3 * n);
      let maxDiff = 0;
      for (let v = 0; v < 3 * n; v++) maxDiff = Math.max(maxDiff, Math.abs(sw.data[v] - whole.data[v]));
      assert.ok(maxDiff < 1e-5, `patch ${patch} overlap ${overlap}: max |logit difference| ${maxDiff}`);
      assert.deepEqual(argmaxChannels(sw, n), wholeClasses, `patch ${patch} overlap ${overlap}: classes differ`);
      // the bounded-memory path (a band of slabs) gives the same classes as the full logits, voxel for voxel
      assert.deepEqual(await slidingWindowClasses(x, shape, patch, run, { overlap }), argmaxChannels(sw, n), `patch ${patch} overlap ${overlap}: banded classes differ`);
    }
  } finally {
    await model.close();
  }
});

function image(dims: GridDims, spacing: number[], seed = 3): ImageVolume {
  return { dims, affine: axisAlignedAffine(spacing, [-10, 20, 5]), data: noise(dims[0] * dims[1] * dims[2], seed) };
}

test('predictClasses: kji and ijk orders, whole and windowed, all give the same classes on the image grid', async () => {
  const img = image([9, 7, 5], [1, 1, 2]);
  const results: Uint8Array[] = [];
  for (const extra of [{}, { spatialOrder: 'ijk' }, { patchSize: [4, 4, 4] }, { patchSize: [4, 8, 3], spatialOrder: 'ijk', overlap: 0.25 }]) {
    const model = await loadModel(withCard('pointwise.onnx', { ...baseCard(), ...extra }), { threads: 1 });
    try {
      const pred = await predictClasses(model, img, 'CT');
      assert.deepEqual(pred.dims, img.dims);
      assert.deepEqual(pred.affine, img.affine);
      results.push(pred.data as Uint8Array);
    } finally {
      await model.close();
    }
  }
  const byHand = Uint8Array.from(img.data, (x) => { const l = pointwise(x); return l.indexOf(Math.max(...l)); });
  for (const r of results) assert.deepEqual(r, byHand);
});

test('predictClasses with card.spacing: runs on the regridded image, classes come back on the image grid', async () => {
  // smooth ramp, so resampling to a coarser grid and back changes little
  const dims: GridDims = [20, 16, 6];
  const img: ImageVolume = { dims, affine: axisAlignedAffine([1, 1, 2], [0, 0, 0]), data: new Float32Array(20 * 16 * 6) };
  for (let v = 0; v < img.data.length; v++) img.data[v] = ((v % 20) / 19) * 6 - 3;
  const same = await loadModel(withCard('pointwise.onnx', { ...baseCard(), spacing: [1, 1, 2] }));
  const coarse = await loadModel(withCard('pointwise.onnx', { ...baseCard(), spacing: [2, 2, 2], patchSize: [4, 4, 4] }));
  try {
    const byHand = Uint8Array.from(img.data, (x) => { const l = pointwise(x); return l.indexOf(Math.max(...l)); });
    const a = await predictClasses(same, img, null);
    assert.deepEqual(a.data, byHand, 'spacing equal to the image\'s: identical to running on the image');
    const b = await predictClasses(coarse, img, null);
    assert.deepEqual(b.dims, dims);
    assert.deepEqual(b.affine, img.affine);
    let agree = 0;
    for (let v = 0; v < byHand.length; v++) if (b.data[v] === byHand[v]) agree++;
    // 2 mm along i: class boundaries move by at most one fine voxel per row
    assert.ok(agree / byHand.length > 0.85, `agreement ${agree / byHand.length}`);
  } finally {
    await same.close();
    await coarse.close();
  }
});

test('predictClasses: labels beyond the output channels, NaN images and cancellation are clear errors', async () => {
  const img = image([6, 5, 4], [1, 1, 1]);
  const tooMany = await loadModel(withCard('pointwise.onnx', { ...baseCard(), labels: { '1': 'liver', '5': 'pancreas' } }));
  await assert.rejects(predictClasses(tooMany, img, 'CT'), /model\.onnx: the model outputs 3 channels \(classes 0\.\.2\) but the card's labels name class 5/);
  await tooMany.close();
  const model = await loadModel(withCard('pointwise.onnx', { ...baseCard(), patchSize: [2, 2, 2] }));
  try {
    const nan: ImageVolume = { ...img, data: img.data.slice() };
    nan.data[3] = NaN;
    await assert.rejects(predictClasses(model, nan, 'PET'), /image has 1 non-finite voxel/);
    const ctl = new AbortController();
    let calls = 0;
    await assert.rejects(predictClasses(model, img, 'PET', { signal: ctl.signal, onProgress: (d) => { calls++; if (d === 2) ctl.abort(); } }), (e: Error) => e.name === 'AbortError');
    assert.equal(calls, 3, 'stopped after the window during which it was cancelled');
  } finally {
    await model.close();
  }
});

test('banded sliding window equals a full-volume accumulator bit for bit, with window-dependent logits', async () => {
  const shape: Shape3 = [13, 9, 11];
  const n = shape[0] * shape[1] * shape[2];
  const x = noise(n, 11);
  // each window's logits depend on the window's content, so overlapping windows disagree and blending matters
  const run: RunPatch = async (data, dims) => {
    const m = dims[0] * dims[1] * dims[2];
    let mean = 0;
    for (let v = 0; v < m; v++) mean += data[v];
    mean /= m;
    const out = new Float32Array(3 * m);
    for (let c = 0; c < 3; c++) for (let v = 0; v < m; v++) out[c * m + v] = data[v] * (c + 1) + mean * c * 0.37 - c * 0.1;
    return { data: out, channels: 3 };
  };
  for (const [patch, overlap] of [[[5, 4, 6], 0.5], [[4, 9, 3], 0.25], [[7, 3, 11], 0.75], [[16, 4, 5], 0.5]] as [Shape3, number][]) {
    // the reference: every window added into whole-volume float32 sums, in window order, then divided
    const expected = await referenceBlend(x, shape, patch, overlap, async (win) => (await run(win, patch)).data);
    const sw = await slidingWindowLogits(x, shape, patch, run, { overlap });
    assert.deepEqual(sw.data, expected, `patch ${patch} overlap ${overlap}: logits`);
    assert.deepEqual(await slidingWindowClasses(x, shape, patch, run, { overlap }), argmaxChannels({ data: expected, channels: 3 }, n));
  }
});

test('the band lies along the longest axis, wherever it is: equal bit for bit to a whole-volume accumulator in that window order, to MONAI\'s order within float32 rounding, same classes', async () => {
  const run: RunPatch = async (data, dims) => mixing(data, dims, 1);
  // longest axis 1 and 2 (and a tie, which keeps axis 0); [4, 16, 5]: axis 1 padded and then the longest
  const cases: [Shape3, Shape3, number][] = [
    [[9, 13, 11], [5, 4, 6], 0.5], [[9, 11, 13], [5, 4, 6], 0.5], [[7, 9, 17], [4, 9, 3], 0.25], [[11, 11, 9], [4, 4, 4], 0.5], [[9, 6, 11], [4, 16, 5], 0.5],
  ];
  for (const [shape, patch, overlap] of cases) {
    const n = shape[0] * shape[1] * shape[2];
    const x = noise(n, 13);
    const label = `shape ${shape} patch ${patch}`;
    const swept = await referenceBlend(x, shape, patch, overlap, async (win) => (await run(win, patch)).data);
    const monai = await referenceBlend(x, shape, patch, overlap, async (win) => (await run(win, patch)).data, 'monai');
    const sw = await slidingWindowLogits(x, shape, patch, run, { overlap });
    assert.deepEqual(sw.data, swept, `${label}: logits`);
    let maxRel = 0;
    for (let q = 0; q < monai.length; q++) maxRel = Math.max(maxRel, Math.abs(sw.data[q] - monai[q]) / Math.max(1, Math.abs(monai[q])));
    assert.ok(maxRel < 1e-6, `${label}: against MONAI's window order ${maxRel}`);
    const classes = await slidingWindowClasses(x, shape, patch, run, { overlap });
    assert.deepEqual(classes, argmaxChannels({ data: swept, channels: 3 }, n), `${label}: classes`);
    assert.deepEqual(classes, argmaxChannels({ data: monai, channels: 3 }, n), `${label}: classes in MONAI's order`);
    // the same image read in storage order (i fastest) through strides, in its stored type: the same values
    const stored = new Float32Array(n);
    for (let a = 0; a < shape[0]; a++) for (let b = 0; b < shape[1]; b++) for (let e = 0; e < shape[2]; e++) stored[a + shape[0] * (b + shape[1] * e)] = x[(a * shape[1] + b) * shape[2] + e];
    const strided = await slidingWindowLogits(stored, shape, patch, run, { overlap, strides: [1, shape[0], shape[0] * shape[1]] });
    assert.deepEqual(strided.data, swept, `${label}: strided source`);
  }
});

// ---- batch size and mirroring TTA ----------------------------------------------------------------------

/** A batched window-dependent network: each sample's logits depend on its own content (and position within it). */
const mixing: RunPatch = async (data, dims, batch = 1) => {
  const m = dims[0] * dims[1] * dims[2];
  const out = new Float32Array(batch * 3 * m);
  for (let s = 0; s < batch; s++) {
    let mean = 0;
    for (let v = 0; v < m; v++) mean += data[s * m + v];
    mean /= m;
    // not mirror-symmetric: the voxel index enters the logits
    for (let c = 0; c < 3; c++) for (let v = 0; v < m; v++) out[(s * 3 + c) * m + v] = data[s * m + v] * (c + 1) + mean * c * 0.37 - c * 0.1 + (c === 2 ? (v % 7) * 0.05 : 0);
  }
  return { data: out, channels: 3 };
};

/**
 * Straightforward reference: whole-volume float32 accumulator, each product rounded to float32 before the add (as
 * PyTorch computes MONAI's blending); each window's logits from `windowLogits`. Windows in the sliding window's
 * order (`swept`: the longest padded axis slowest, axis 0 on ties, then the other two in tensor order) or in
 * MONAI's (`monai`: d0 slowest).
 */
async function referenceBlend(x: Float32Array, shape: Shape3, patch: Shape3, overlap: number, windowLogits: (win: Float32Array) => Promise<Float32Array>, order: 'swept' | 'monai' = 'swept'): Promise<Float32Array> {
  const n = shape[0] * shape[1] * shape[2];
  const full = [0, 1, 2].map((a) => Math.max(shape[a], patch[a])) as unknown as Shape3;
  const before = [0, 1, 2].map((a) => Math.floor((full[a] - shape[a]) / 2));
  const img = new Float32Array(full[0] * full[1] * full[2]);
  for (let a = 0; a < shape[0]; a++) for (let b = 0; b < shape[1]; b++) for (let e = 0; e < shape[2]; e++) {
    img[((a + before[0]) * full[1] + b + before[1]) * full[2] + e + before[2]] = x[(a * shape[1] + b) * shape[2] + e];
  }
  const nf = full[0] * full[1] * full[2];
  const np = patch[0] * patch[1] * patch[2];
  const acc = new Float32Array(3 * nf);
  const cnt = new Float32Array(nf);
  const w = gaussianImportanceMap(patch);
  const starts = [0, 1, 2].map((a) => windowStarts(full[a], patch[a], scanInterval(full[a], patch[a], overlap)));
  const at = (s: number[], a: number, b: number, e: number) => ((s[0] + a) * full[1] + s[1] + b) * full[2] + s[2] + e;
  let sweep = 0;
  if (order === 'swept') for (const a of [1, 2]) if (full[a] > full[sweep]) sweep = a;
  const rest = [0, 1, 2].filter((a) => a !== sweep);
  const windows: number[][] = [];
  for (const ss of starts[sweep]) for (const su of starts[rest[0]]) for (const sv of starts[rest[1]]) {
    const s = [0, 0, 0];
    s[sweep] = ss;
    s[rest[0]] = su;
    s[rest[1]] = sv;
    windows.push(s);
  }
  for (const s of windows) {
    const win = new Float32Array(np);
    let o = 0;
    for (let a = 0; a < patch[0]; a++) for (let b = 0; b < patch[1]; b++) for (let e = 0; e < patch[2]; e++) win[o++] = img[at(s, a, b, e)];
    const out = await windowLogits(win);
    for (let c = 0; c < 3; c++) {
      o = 0;
      for (let a = 0; a < patch[0]; a++) for (let b = 0; b < patch[1]; b++) for (let e = 0; e < patch[2]; e++, o++) acc[c * nf + at(s, a, b, e)] += Math.fround(out[c * np + o] * w[o]);
    }
    o = 0;
    for (let a = 0; a < patch[0]; a++) for (let b = 0; b < patch[1]; b++) for (let e = 0; e < patch[2]; e++, o++) cnt[at(s, a, b, e)] += w[o];
  }
  const expected = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) for (let a = 0; a < shape[0]; a++) for (let b = 0; b < shape[1]; b++) for (let e = 0; e < shape[2]; e++) {
    const f = ((a + before[0]) * full[1] + b + before[1]) * full[2] + e + before[2];
    expected[c * n + (a * shape[1] + b) * shape[2] + e] = acc[c * nf + f] / cnt[f];
  }
  return expected;
}

/** Flips a [C, p0, p1, p2] array along the given spatial axes (its own inverse), written independently of the module. */
function flip(data: Float32Array, channels: number, p: Shape3, axes: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const n = p[0] * p[1] * p[2];
  for (let c = 0; c < channels; c++) for (let a = 0; a < p[0]; a++) for (let b = 0; b < p[1]; b++) for (let e = 0; e < p[2]; e++) {
    const q = [a, b, e].map((v, ax) => (axes.includes(ax) ? p[ax] - 1 - v : v));
    out[c * n + (a * p[1] + b) * p[2] + e] = data[c * n + (q[0] * p[1] + q[1]) * p[2] + q[2]];
  }
  return out;
}

/** nnU-Net's mirrored prediction of one window, written as its Python reads: identity, then each combination. */
function mirrored(run: RunPatch, patch: Shape3, combos: number[][]): (win: Float32Array) => Promise<Float32Array> {
  return async (win) => {
    const pred = Float32Array.from((await run(win, patch, 1)).data);
    for (const axes of combos) {
      const out = (await run(flip(win, 1, patch, axes), patch, 1)).data;
      const back = flip(out, 3, patch, axes);
      for (let v = 0; v < pred.length; v++) pred[v] += back[v];
    }
    for (let v = 0; v < pred.length; v++) pred[v] /= combos.length + 1;
    return pred;
  };
}

test('mirror combinations follow nnU-Net (itertools order by size); 8 inputs for all three axes', () => {
  assert.deepEqual(mirrorCombinations([0, 1, 2]), [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]);
  assert.deepEqual(mirrorCombinations([2, 0]), [[2], [0], [2, 0]]);
  assert.deepEqual(ttaMirrors(false), [[]]);
  assert.equal(ttaMirrors(true).length, 8);
  assert.throws(() => ttaMirrors([3 as 0]), /mirror axes must be 0, 1 or 2/);
});

test('batch sizes give bit-identical logits and classes; TTA equals the straightforward nnU-Net reference', async () => {
  const shape: Shape3 = [13, 9, 11];
  const n = shape[0] * shape[1] * shape[2];
  const x = noise(n, 5);
  const all = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];
  for (const [patch, overlap] of [[[5, 4, 6], 0.5], [[7, 3, 11], 0.75], [[16, 4, 5], 0.25]] as [Shape3, number][]) {
    const plain = await referenceBlend(x, shape, patch, overlap, mirrored(mixing, patch, []));
    const tta = await referenceBlend(x, shape, patch, overlap, mirrored(mixing, patch, all));
    const tta02 = await referenceBlend(x, shape, patch, overlap, mirrored(mixing, patch, [[0], [2], [0, 2]]));
    assert.notDeepEqual(tta, plain, 'the fixture network is not mirror-symmetric');
    for (const batchSize of [1, 2, 3, 7, 1000]) {
      let runs = 0;
      const counting: RunPatch = (d, s, b) => { runs++; return mixing(d, s, b); };
      const label = `patch ${patch} overlap ${overlap} batch ${batchSize}`;
      assert.deepEqual((await slidingWindowLogits(x, shape, patch, counting, { overlap, batchSize })).data, plain, label);
      const windows = runs;
      runs = 0;
      assert.deepEqual((await slidingWindowLogits(x, shape, patch, counting, { overlap, batchSize, tta: true })).data, tta, `${label} tta`);
      assert.equal(runs, windows * 8, `${label}: 8 mirrored runs per batch`);
      assert.deepEqual((await slidingWindowLogits(x, shape, patch, mixing, { overlap, batchSize, tta: [0, 2] })).data, tta02, `${label} tta [0, 2]`);
      assert.deepEqual(await slidingWindowClasses(x, shape, patch, mixing, { overlap, batchSize, tta: true }), argmaxChannels({ data: tta, channels: 3 }, n), `${label} tta classes`);
    }
  }
  await assert.rejects(slidingWindowLogits(x, shape, [4, 4, 4], mixing, { batchSize: 0 }), /batch size must be a positive integer/);
});

test('real ORT, dynamic batch: batched windows equal batch 1 bit for bit; TTA equals the reference; cancel stops within one batch', async () => {
  const card = { ...baseCard(), labels: { '1': 'liver' } };
  const model = await loadModel(withCard('conv3-batch.onnx', card), { threads: 1 });
  try {
    const run: RunPatch = async (data, dims, batch = 1) => {
      const out = (await model.session.run({ image: new ort.Tensor('float32', data, [batch, 1, ...dims]) })).logits;
      return { data: out.data as Float32Array, channels: out.dims[1] };
    };
    const shape: Shape3 = [11, 10, 9];
    const x = noise(shape[0] * shape[1] * shape[2], 9);
    const patch: Shape3 = [6, 5, 4];
    const one = await slidingWindowLogits(x, shape, patch, run, { batchSize: 1 });
    for (const batchSize of [2, 5]) assert.deepEqual((await slidingWindowLogits(x, shape, patch, run, { batchSize })).data, one.data, `batch ${batchSize}`);
    const ref = await referenceBlend(x, shape, patch, 0.5, mirrored(run, patch, [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]));
    const tta = await slidingWindowLogits(x, shape, patch, run, { batchSize: 3, tta: true });
    let maxDiff = 0;
    for (let v = 0; v < ref.length; v++) maxDiff = Math.max(maxDiff, Math.abs(tta.data[v] - ref[v]));
    assert.ok(maxDiff < 1e-6, `TTA vs reference: max |difference| ${maxDiff}`);
    const ctl = new AbortController();
    let runs = 0;
    const counted: RunPatch = (d, s, b) => { runs++; return run(d, s, b); };
    await assert.rejects(slidingWindowClasses(x, shape, patch, counted, { batchSize: 2, signal: ctl.signal, onProgress: (d) => { if (d === 3) ctl.abort(); } }), (e: Error) => e.name === 'AbortError');
    assert.equal(runs, 2, 'aborted during the second batch: no third run');
  } finally {
    await model.close();
  }
});

test('predictClasses: batch size, overlap and TTA options; a fixed batch dim of 1 runs windows one at a time', async () => {
  const img = image([9, 8, 7], [1, 1, 1], 4);
  const dyn = await loadModel(withCard('conv3-batch.onnx', { ...baseCard(), patchSize: [4, 4, 4], labels: { '1': 'liver' } }), { threads: 1 });
  const fixed = await loadModel(withCard('pointwise.onnx', { ...baseCard(), patchSize: [4, 4, 4] }), { threads: 1 });
  try {
    const one = await predictClasses(dyn, img, null);
    assert.deepEqual((await predictClasses(dyn, img, null, { batchSize: 4 })).data, one.data);
    const tta = await predictClasses(dyn, img, null, { batchSize: 3, tta: true, overlap: 0.25 });
    assert.deepEqual(tta.dims, img.dims);
    assert.notDeepEqual(tta.data, one.data, 'mirroring changes some classes of a non-symmetric network');
    let windows = 0;
    const a = await predictClasses(fixed, img, null, { batchSize: 4, tta: [0, 1], onProgress: (_d, t) => { windows = t; } });
    assert.deepEqual(a.data, (await predictClasses(fixed, img, null)).data, 'pointwise network: mirroring changes nothing');
    assert.equal(windows, 4 * 3 * 3, 'starts 0,2,4,5 x 0,2,4 x 0,2,3');
  } finally {
    await dyn.close();
    await fixed.close();
  }
});

test('--device cuda without onnxruntime-node\'s CUDA binaries fails naming what is missing and the install flag', async () => {
  // this checkout installs onnxruntime-node with onnxruntime-node-install=skip (.npmrc): the CUDA EP is absent
  await assert.rejects(loadModel(withCard('pointwise.onnx', baseCard()), { device: 'cuda' }), (e: Error) => {
    assert.equal(e.name, 'DeviceError');
    assert.match(e.message, /--device cuda: onnxruntime-node's CUDA binaries are not installed: .*libonnxruntime_providers_cuda\.so.* missing in .*onnxruntime-node/);
    assert.match(e.message, /--onnxruntime-node-install=cuda12/);
    return true;
  });
  // the CPU session still opens afterwards
  const m = await loadModel(withCard('pointwise.onnx', baseCard()), { device: 'cpu', threads: 1 });
  await m.close();
});

/**
 * Runs every window of `geom` (random logits, seeded) through `band` in window order, finishing slabs as the sliding
 * window does (logits, or classes when `classes`), next to a whole-volume float32 accumulator; returns both.
 * `stopAfter` windows: stops there without finishing (a cancelled run) and returns nothing.
 */
function blendAll(geom: BandGeometry, band: BlendBand, classes: boolean, stopAfter = Infinity): { got: Float32Array | Uint8Array; expected: Float32Array } | undefined {
  const { channels, patch, full, starts } = geom;
  const sweep = geom.sweep ?? 0;
  const [u, v] = [0, 1, 2].filter((a) => a !== sweep);
  const half = geom.dtype === 'float16';
  const weights = gaussianImportanceMap(patch);
  const plane = full[u] * full[v];
  const np = patch[0] * patch[1] * patch[2];
  const nf = full[0] * full[1] * full[2];
  const acc = new Float32Array(channels * nf);
  const cnt = new Float32Array(nf);
  const got = classes ? new Uint8Array(nf) : new Float32Array(channels * nf);
  const next7 = lcg(7, 'mod31');
  const rand = () => next7() * 8 - 4;
  // voxel q of slab x's plane -> its index in the volume
  const volumeIndex = (x: number, q: number) => {
    const at = [0, 0, 0];
    at[sweep] = x;
    at[u] = Math.floor(q / full[v]);
    at[v] = q % full[v];
    return (at[0] * full[1] + at[1]) * full[2] + at[2];
  };
  let next = 0;
  const finish = (upTo: number) => {
    for (; next < upTo; next++) {
      if (classes) {
        const cls = new Uint8Array(plane);
        band.finishClasses(next, cls);
        for (let q = 0; q < plane; q++) got[volumeIndex(next, q)] = cls[q];
      } else {
        const out = new Float32Array(channels * plane);
        band.finishLogits(next, out);
        for (let c = 0; c < channels; c++) for (let q = 0; q < plane; q++) got[c * nf + volumeIndex(next, q)] = out[c * plane + q];
      }
    }
  };
  let added = 0;
  const windows: Shape3[] = [];
  for (const ss of starts[sweep]) for (const su of starts[u]) for (const sv of starts[v]) {
    const s = [0, 0, 0];
    s[sweep] = ss;
    s[u] = su;
    s[v] = sv;
    windows.push(s as unknown as Shape3);
  }
  for (const [s0, s1, s2] of windows) {
    if (added++ === stopAfter) return undefined;
    finish([s0, s1, s2][sweep]);
    const logits = Float32Array.from({ length: channels * np }, rand);
    band.add([s0, s1, s2], logits);
    let o = 0;
    for (let a = 0; a < patch[0]; a++) for (let b = 0; b < patch[1]; b++) for (let e = 0; e < patch[2]; e++, o++) {
      const at = ((s0 + a) * full[1] + s1 + b) * full[2] + s2 + e;
      for (let c = 0; c < channels; c++) {
        const i = c * nf + at;
        // float16 storage: the float32 sum of the stored value and the product, stored rounded to float16
        acc[i] = half ? halfValue(acc[i] + Math.fround(logits[c * np + o] * weights[o])) : acc[i] + Math.fround(logits[c * np + o] * weights[o]);
      }
      cnt[at] += weights[o];
    }
  }
  finish(full[sweep]);
  const expected = new Float32Array(channels * nf);
  for (let c = 0; c < channels; c++) for (let q = 0; q < nf; q++) expected[c * nf + q] = acc[c * nf + q] / cnt[q];
  return { got, expected };
}

/** x rounded to float32, then to the nearest float16 (ties to even), as a number: written from the definition. */
function halfValue(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  const mag = Math.abs(f);
  if (mag >= 65520) return Math.sign(f) * Infinity; // past the largest float16 (65504) by half a step or more
  // the spacing of float16 values around |f|: 2^(e - 10) for normal numbers, 2^-24 for subnormals
  const e = Math.max(Math.floor(Math.log2(mag)), -14);
  const ulp = 2 ** (e - 10);
  const q = mag / ulp;
  let r = Math.round(q);
  if (q - Math.floor(q) === 0.5 && Math.floor(q) % 2 === 0) r = Math.floor(q); // ties to even
  return Math.sign(f) * r * ulp;
}

test('blending band: WebAssembly SIMD (column tiles of any width) and JavaScript give the same bits as a whole-volume float32 accumulator', () => {
  // patch [3, 4, 7]: rows of 7 = one 4-wide vector + a 3-voxel tail; planes of 6 x 11 = 66 (a 2-voxel tail). Tiles
  // as wide as the patch (the default: 7 + 4) or of 4 (4 + 4 + 3): windows starting at 0, 2 and 4 cross tiles
  const patch: Shape3 = [3, 4, 7];
  const full: Shape3 = [8, 6, 11];
  const starts = [0, 1, 2].map((a) => windowStarts(full[a], patch[a], scanInterval(full[a], patch[a], 0.6))) as [number[], number[], number[]];
  assert.deepEqual(starts[2], [0, 2, 4]);
  const geom = { channels: 3, patch, full, starts };
  const weights = gaussianImportanceMap(patch);
  const wasm = createBand(geom, weights, 'wasm');
  assert.equal(wasm.kind, 'wasm');
  // the network may write a window's logits straight into the WebAssembly band (ONNX Runtime's pre-allocated output)
  assert.equal(wasm.outputArea(1)!.length, 3 * 3 * 4 * 7);
  wasm.release();
  const variants = [
    { name: 'js', make: () => createBand(geom, weights, 'js') },
    { name: 'wasm, tiles as wide as the patch', make: () => createBand(geom, weights, 'wasm') },
    { name: 'wasm, tiles of 4', make: () => createBand({ ...geom, tile: 4 }, weights, 'wasm') },
    { name: 'wasm, tiles of 1', make: () => createBand({ ...geom, tile: 1 }, weights, 'wasm') },
  ];
  let classes: Uint8Array | Uint16Array | undefined;
  for (const { name, make } of variants) {
    const band = make();
    const l = blendAll(geom, band, false)!;
    band.release();
    assert.deepEqual(l.got, l.expected, `${name}: logits`);
    classes ??= argmaxChannels({ data: l.expected, channels: 3 }, full[0] * full[1] * full[2]);
    const again = make();
    assert.deepEqual(blendAll(geom, again, true)!.got, classes, `${name}: classes`);
    again.release();
  }
  assert.deepEqual(new Set(classes), new Set([0, 1, 2]));
  assert.equal(createBand(geom, weights, 'js').outputArea(1), undefined);
});

test('blending band swept along tensor axis 1 or 2 (WebAssembly and JavaScript) equals a whole-volume accumulator taking the windows in that order, bit for bit', () => {
  // the longest axis is 1, then 2: the ring wraps within the window's rows (axis 1) or within each row (axis 2)
  for (const [full, patch, sweep] of [[[6, 11, 8], [3, 4, 7], 1], [[6, 8, 11], [3, 4, 7], 2], [[5, 7, 13], [4, 3, 5], 2]] as [Shape3, Shape3, 0 | 1 | 2][]) {
    const starts = [0, 1, 2].map((a) => windowStarts(full[a], patch[a], scanInterval(full[a], patch[a], 0.6))) as [number[], number[], number[]];
    const geom: BandGeometry = { channels: 3, patch, full, starts, sweep };
    const weights = gaussianImportanceMap(patch);
    let classes: Uint8Array | Uint16Array | undefined;
    for (const prefer of ['wasm', 'js'] as const) {
      const label = `full ${full} sweep ${sweep} ${prefer}`;
      const band = createBand(geom, weights, prefer);
      assert.equal(band.kind, prefer);
      const l = blendAll(geom, band, false)!;
      band.release();
      assert.deepEqual(l.got, l.expected, `${label}: logits`);
      classes ??= argmaxChannels({ data: l.expected, channels: 3 }, full[0] * full[1] * full[2]);
      const again = createBand(geom, weights, prefer);
      assert.deepEqual(blendAll(geom, again, true)!.got, classes, `${label}: classes`);
      again.release();
    }
    assert.deepEqual(new Set(classes), new Set([0, 1, 2]));
  }
});

test('float16 band (WebAssembly and JavaScript): every add stored rounded to float16 (ties to even), bit for bit, on every sweep axis; the conversion round-trips all 65536 values', () => {
  const table = halfTable();
  for (let h = 0; h < 65536; h++) {
    if (Number.isNaN(table[h])) continue;
    assert.equal(toHalf(table[h]), h, `float16 ${h.toString(16)}`);
  }
  // halfway between 1 and the next float16 (1 + 2^-10): ties go to the even one; just above goes up
  assert.equal(toHalf(1 + 2 ** -11), 0x3c00);
  assert.equal(toHalf(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(toHalf(1 + 2 ** -11 + 2 ** -20), 0x3c01);
  assert.equal(toHalf(65520), 0x7c00, 'rounds past the largest float16 to Inf');
  assert.equal(toHalf(2 ** -25), 0, 'half the smallest subnormal, a tie, goes to 0');
  assert.equal(toHalf(3 * 2 ** -26), 1, 'above it: the smallest subnormal');
  for (const [full, patch, sweep] of [[[8, 6, 11], [3, 4, 7], 0], [[6, 11, 8], [3, 4, 7], 1], [[6, 8, 11], [3, 4, 7], 2]] as [Shape3, Shape3, 0 | 1 | 2][]) {
    const starts = [0, 1, 2].map((a) => windowStarts(full[a], patch[a], scanInterval(full[a], patch[a], 0.6))) as [number[], number[], number[]];
    const geom: BandGeometry = { channels: 3, patch, full, starts, sweep, dtype: 'float16' };
    const single = blendAll({ ...geom, dtype: 'float32' }, createBand({ ...geom, dtype: 'float32' }, gaussianImportanceMap(patch)), false)!;
    for (const prefer of ['wasm', 'js'] as const) {
      const band = createBand(geom, gaussianImportanceMap(patch), prefer);
      assert.equal(band.kind, prefer);
      const l = blendAll(geom, band, false)!;
      band.release();
      assert.deepEqual(l.got, l.expected, `sweep ${sweep} ${prefer}: float16 logits`);
      let maxDiff = 0;
      for (let q = 0; q < l.got.length; q++) maxDiff = Math.max(maxDiff, Math.abs(l.got[q] - single.got[q]));
      assert.ok(maxDiff > 0 && maxDiff < 0.01, `sweep ${sweep}: float16 differs from float32 by rounding only (${maxDiff})`);
      const again = createBand(geom, gaussianImportanceMap(patch), prefer);
      assert.deepEqual(blendAll(geom, again, true)!.got, argmaxChannels({ data: l.expected, channels: 3 }, full[0] * full[1] * full[2]), `sweep ${sweep} ${prefer}: float16 classes`);
      again.release();
    }
  }
});

test('blending band: a released band\'s WebAssembly memory serves the next band, cleared, whatever it held', () => {
  const geomOf = (full: Shape3, patch: Shape3, channels: number): BandGeometry => ({
    channels, patch, full, starts: [0, 1, 2].map((a) => windowStarts(full[a], patch[a], scanInterval(full[a], patch[a], 0.5))) as [number[], number[], number[]],
  });
  const big = geomOf([12, 10, 13], [4, 5, 6], 4);
  const first = createBand(big, gaussianImportanceMap(big.patch), 'wasm');
  const memory = first.outputArea(1)!.buffer;
  // cancelled after 5 windows: slots still hold sums, and its logits area random values
  assert.equal(blendAll(big, first, false, 5), undefined);
  first.release();
  // a smaller geometry with more channels: its accumulators span the old ones and part of the old logits area
  const small = geomOf([9, 8, 9], [3, 4, 5], 6);
  const second = createBand(small, gaussianImportanceMap(small.patch), 'wasm');
  assert.equal(second.outputArea(1)!.buffer, memory, 'the same memory, not grown');
  const r = blendAll(small, second, false)!;
  assert.deepEqual(r.got, r.expected);
  // a band created while the memory is held gets its own
  const third = createBand(small, gaussianImportanceMap(small.patch), 'wasm');
  assert.notEqual(third.outputArea(1)!.buffer, memory);
  third.release();
  second.release();
  // a larger one grows it (the old views are detached by the growth)
  const large = geomOf([20, 16, 18], [6, 8, 8], 5);
  const fourth = createBand(large, gaussianImportanceMap(large.patch), 'wasm');
  const r4 = blendAll(large, fourth, true)!;
  assert.deepEqual(r4.got, argmaxChannels({ data: r4.expected, channels: 5 }, 20 * 16 * 18));
  fourth.release();
});

test('normalizing each window as it is cut equals sliding over a normalized copy, bit for bit (also padded and mirrored)', async () => {
  const shape: Shape3 = [13, 9, 11];
  const n = shape[0] * shape[1] * shape[2];
  // CT-like raw values, so clipping and scaling both matter
  const raw = Float32Array.from(noise(n, 17), (v) => v * 900 - 200);
  const norm = { method: 'clip-zscore' as const, lowerPercentile: 5, upperPercentile: 95 };
  const normalized = normalize(raw, norm);
  const transform = normalizer(raw, norm);
  // [16, 4, 5]: d0 shorter than the patch, so MONAI's zero padding (after normalization) comes into play
  for (const [patch, tta] of [[[5, 4, 6], false], [[7, 3, 11], true], [[16, 4, 5], false], [[16, 4, 5], true]] as [Shape3, boolean][]) {
    const eager = await slidingWindowLogits(normalized, shape, patch, mixing, { overlap: 0.5, tta });
    const lazy = await slidingWindowLogits(raw, shape, patch, mixing, { overlap: 0.5, tta, transform });
    assert.deepEqual(lazy.data, eager.data, `patch ${patch} tta ${tta}`);
    assert.deepEqual(await slidingWindowClasses(raw, shape, patch, mixing, { overlap: 0.5, tta, transform }), argmaxChannels(eager, n));
  }
  assert.deepEqual([...raw.slice(0, 3)], [...Float32Array.from(noise(n, 17), (v) => v * 900 - 200).slice(0, 3)], 'the raw volume is left as it was');
});

test('probabilities: softmax per asked class, streamed to .nii.gz slab by slab, on the work grid (kji and ijk, windowed and whole)', async () => {
  const dims: GridDims = [9, 7, 5];
  const n = dims[0] * dims[1] * dims[2];
  const image: ImageVolume = { dims, affine: axisAlignedAffine([1.5, 2, 3], [-10, 20, 5]), data: noise(n, 23) };
  const softmax = (l: number[]) => { const m = Math.max(...l); const e = l.map((x) => Math.exp(x - m)); const s = e.reduce((a, b) => a + b); return e.map((x) => x / s); };
  for (const [spatialOrder, patchSize] of [['kji', [4, 4, 4]], ['ijk', [4, 4, 4]], ['kji', null]] as const) {
    const model = await loadModel(withCard('pointwise.onnx', { ...baseCard(), spatialOrder, patchSize }), { threads: 1 });
    try {
      const dir = fs.mkdtempSync(path.join(tmp, 'prob-'));
      const files = [0, 2].map((cls) => ({ classes: [cls], file: path.join(dir, `class${cls}.nii.gz`) }));
      // an organ split over two classes: the probability of their union
      files.push({ classes: [1, 2], file: path.join(dir, 'class1+2.nii.gz') });
      const classes = await predictClasses(model, image, 'CT', { probabilities: files });
      const label = `${spatialOrder} patch ${patchSize}`;
      for (const [f, { classes: cs, file }] of files.entries()) {
        const prob = readImage(file);
        // the file's axes are the work grid's, ordered so that the axis the slabs were finished along is the slowest
        // (ijk whole-volume: (k, j, i); windowed: the longest axis last): its affine places every voxel where the
        // image's voxel is
        assert.deepEqual([...prob.dims].sort(), [...dims].sort(), label);
        let maxErr = 0;
        let seen = 0;
        for (let x2 = 0; x2 < prob.dims[2]; x2++) for (let x1 = 0; x1 < prob.dims[1]; x1++) for (let x0 = 0; x0 < prob.dims[0]; x0++) {
          const [i, j, k] = worldToVoxel(image.affine, voxelToWorld(prob.affine, [x0, x1, x2])).map((c) => Math.round(c));
          const v = i + dims[0] * (j + dims[1] * k);
          const at = x0 + prob.dims[0] * (x1 + prob.dims[1] * x2);
          const p = softmax(pointwise(image.data[v]));
          const want = cs.reduce((t, c) => t + p[c], 0);
          maxErr = Math.max(maxErr, Math.abs(prob.data[at] - want));
          seen++;
          if (f === 1) {
            // class 2 probability above one half means class 2 is the argmax
            if (prob.data[at] > 0.5) assert.equal(classes.data[v], 2, `${label} voxel ${v}`);
          }
        }
        assert.equal(seen, n);
        assert.ok(maxErr < 1e-5, `${label} classes ${cs}: max |p - softmax| ${maxErr}`);
      }
      assert.deepEqual(fs.readdirSync(dir).sort(), ['class0.nii.gz', 'class1+2.nii.gz', 'class2.nii.gz'], 'no temporary file left');
    } finally {
      await model.close();
    }
  }
});
