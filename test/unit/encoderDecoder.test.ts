/**
 * Encoder-decoder promptable cards (docs/foundation-models.md, section 1) on real ONNX Runtime sessions of the
 * graphs models/training/make_encoder_decoder.py built: models/sam-med3d-style (SAM-Med3D's exact static
 * signatures, 128^3 crop, 32^3 low-res logits) and test/fixtures/encoder-decoder (the same graphs with dynamic
 * axes on 64^3 crops; a decoder taking the previous 0/1 crop mask). Their decoder adds exactly 0.5 x mask_inputs
 * to its output, so feeding the decoder ourselves shows what the engine fed it. Also: the low-res resize against
 * values PyTorch computed (test/fixtures/interpolate), and every card and session error naming file and key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { axisAlignedAffine, type Grid } from '../../src/core/geometry/affine';
import type { ImageVolume } from '../../src/core/geometry/volume';
import { parseTree } from 'jsonc-parser/lib/esm/main.js';
import { CardError } from '../../src/core/model/card/jsonChecks';
import { loadCard, validateCard } from '../../src/core/model/card/loadCard';
import { keyNodeFor } from '../../src/extension/card/cardKeyPath';
import { loadModel, type LoadedModel } from '../../src/core/model/predict';
import { foreground, resizeLogits, type Size3 } from '../../src/core/model/promptable/lowResLogits';
import { tensorPromptFeeds, toTensorLayout } from '../../src/core/model/promptable/predictPromptedOrgan';
import { promptOrgan } from '../../src/core/model/promptable/promptOrgan';
import { newOrganPromptState } from '../../src/core/model/promptable/promptState';
import { textRowFor } from '../../src/core/model/card/textEmbeddings';
import { centerPoint, nextClick, runClicks } from '../../src/core/prompts';
import { repoRoot } from '../helpers/realData';

const ROOT = repoRoot();
const FIX = path.join(ROOT, 'test', 'fixtures', 'encoder-decoder');
const SAM = path.join(ROOT, 'models', 'sam-med3d-style.onnx');
type D3 = [number, number, number];

/** Image (values 1 + i + j + k, all > 0 for the z-score mask) on an axis-aligned grid, and a ball label. */
function scene(dims: D3, spacing: D3, centre: D3, radiusMm: number): { image: ImageVolume; gt: Uint8Array; grid: Grid } {
  const grid: Grid = { dims, affine: axisAlignedAffine(spacing, [-40, 10, 90]) };
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const gt = new Uint8Array(data.length);
  for (let k = 0, v = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, v++) {
    data[v] = 1 + i + j + k;
    const d = ((i - centre[0]) * spacing[0]) ** 2 + ((j - centre[1]) * spacing[1]) ** 2 + ((k - centre[2]) * spacing[2]) ** 2;
    if (d <= radiusMm * radiusMm) gt[v] = 1;
  }
  return { image: { ...grid, data }, gt, grid };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>, f = (x: number, y: number) => x - y) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let v = 0; v < a.length; v++) m = Math.max(m, Math.abs(f(a[v], b[v])));
  return m;
};
const count = (m: Uint8Array) => m.reduce((s, x) => s + x, 0);

test('low-res logits resize: PyTorch F.interpolate values (trilinear align_corners=False, nearest), up, down, mixed, 32^3 -> 128^3', () => {
  const ref = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'interpolate', 'interpolate.json'), 'utf8')) as {
    cases: Array<{ channels: number; from: Size3; to: Size3; mode: 'trilinear' | 'nearest'; values: number[]; at?: number[] }>;
  };
  assert.equal(ref.cases.length, 6);
  for (const c of ref.cases) {
    const n = c.channels * c.from[0] * c.from[1] * c.from[2];
    const x = new Float32Array(n);
    for (let v = 0; v < n; v++) x[v] = ((v * 7919) % 1013) / 64 - 8;
    const y = resizeLogits(x, c.channels, c.from, c.to, c.mode);
    assert.equal(y.length, c.channels * c.to[0] * c.to[1] * c.to[2]);
    const got = c.at ? c.at.map((i) => y[i]) : Array.from(y);
    // nearest and SAM-Med3D's x4 (weights k/8, exact in float32): bit-identical; other factors within 2 float32
    // ulps of values in [-8, 8] (rounding of the weights and of the sums)
    const exact = c.mode === 'nearest' || c.to.every((t, a) => t === 4 * c.from[a]);
    const d = maxAbsDiff(got, c.values);
    assert.ok(d <= (exact ? 0 : 2e-6), `${c.mode} [${c.from}] -> [${c.to}] x${c.channels}: max |ours - torch| = ${d}`);
  }
  // activation: sigmoid on channel 1 of 2, softmax argmax with ties to the first channel
  const two = Float32Array.from([0.5, -1, 2, 0, /* channel 1 */ 0.5, 1, -2, 0.1]);
  assert.deepEqual(Array.from(foreground(two, 2, 4, 'sigmoid')), [1, 1, 0, 1]);
  assert.deepEqual(Array.from(foreground(two, 2, 4, undefined)), [0, 1, 0, 1]);
});

test('SAM-Med3D signatures: the crop is encoded once, every click decodes with all clicks and the previous low-res logits', async () => {
  const { image, gt, grid } = scene([70, 64, 60], [2, 2, 2.5], [34, 30, 28], 30);
  const model = await loadModel(SAM);
  try {
    assert.ok(model.decoder, 'the card has a decoder');
    assert.deepEqual(model.session.inputMetadata.map((m) => m.isTensor && m.shape), [[1, 1, 128, 128, 128]]);
    const state = newOrganPromptState();
    const c1 = centerPoint(gt, grid, 'liver')!;
    const m1 = await promptOrgan(model, image, 'CT', { points: [c1] }, state, grid);
    assert.deepEqual(state.runs, { encoder: 1, decoder: 1 });
    const crop = state.crop!;
    const embeddings = state.embeddings!;
    const l1 = state.previousLogits!;
    assert.deepEqual(embeddings.image_embeddings.dims, [1, 384, 8, 8, 8]);
    assert.deepEqual(l1.dims, [1, 1, 32, 32, 32]);
    assert.deepEqual(crop.dims, [128, 128, 128]);
    // the click's own voxel is foreground (its blob term is 3 - 1 there), and the mask is a blob, not everything
    assert.equal(m1[c1.voxel[0] + 70 * (c1.voxel[1] + 64 * c1.voxel[2])], 1);
    assert.ok(count(m1) > 100 && count(m1) < count(gt), `first mask ${count(m1)} voxels, organ ${count(gt)}`);

    const c2 = nextClick(gt, m1, grid, 'liver')!;
    assert.equal(c2.label, 1, 'the blob is inside the ball: the next click is a miss');
    const prompt2 = { points: [c1, c2] };
    const m2 = await promptOrgan(model, image, 'CT', prompt2, state, grid);
    assert.deepEqual(state.runs, { encoder: 1, decoder: 2 });
    assert.equal(state.crop, crop, 'the crop stays where the first click put it');
    assert.equal(state.embeddings, embeddings, 'the embeddings are reused, not recomputed');
    assert.ok(count(m2) > count(m1), `the positive click grew the mask: ${count(m1)} -> ${count(m2)}`);

    // feed the decoder ourselves: the engine's click-2 output is the decoder on click 1's logits, which differs
    // from the decoder on zeros by exactly 0.5 x those logits
    const feeds = { ...embeddings, ...tensorPromptFeeds(model.card, crop, prompt2, model.decoder.path) };
    assert.deepEqual(feeds.point_coords.dims, [1, 2, 3]);
    assert.ok((feeds.mask_inputs.data as Float32Array).every((x) => x === 0), 'without a state the previous mask is zeros');
    const run = async (f: Record<string, ort.Tensor>) => (await model.decoder!.session.run(f)).low_res_logits.data as Float32Array;
    const onZeros = await run(feeds);
    const onL1 = await run({ ...feeds, mask_inputs: l1 });
    const l2 = state.previousLogits!.data as Float32Array;
    assert.equal(maxAbsDiff(l2, onL1), 0);
    const l1d = l1.data as Float32Array;
    assert.ok(maxAbsDiff(l1d, new Float32Array(l1d.length)) > 1, 'click 1 logits are far from zero');
    let off = 0;
    for (let v = 0; v < l2.length; v++) off = Math.max(off, Math.abs(l2[v] - onZeros[v] - 0.5 * l1d[v]));
    assert.ok(off < 1e-5, `engine output - decoder(zeros) - 0.5 x click-1 logits: max ${off}`);
  } finally {
    await model.close();
  }
});

test('5 clicks through runClicks: one encoder run, one decoder run per click, Dice rises with the clicks', async () => {
  const { image, gt, grid } = scene([70, 64, 60], [2, 2, 2.5], [34, 30, 28], 30);
  for (const file of [SAM, path.join(FIX, 'fast.onnx')]) {
    const model = await loadModel(file);
    try {
      const state = newOrganPromptState();
      const dice = (p: Uint8Array) => {
        let ab = 0;
        for (let v = 0; v < p.length; v++) ab += gt[v] & p[v];
        return (2 * ab) / (count(gt) + count(p));
      };
      const r = await runClicks(gt, grid, 'liver', centerPoint(gt, grid, 'liver')!, 5,
        (clicks) => promptOrgan(model, image, 'CT', { points: clicks }, state, grid), (p) => ({ dice: dice(p), nsd: null }));
      assert.equal(r.clicks.length, 5, path.basename(file));
      assert.deepEqual(state.runs, { encoder: 1, decoder: 5 }, path.basename(file));
      const d = r.clicks.map((c) => c.dice);
      assert.ok(d[4] > d[0], `${path.basename(file)}: Dice per click ${d.map((x) => x.toFixed(3)).join(' ')}`);
    } finally {
      await model.close();
    }
  }
});

test('a decoder taking a text row (SegVol\'s signature): loads, and the organ\'s row reaches the decoder', async () => {
  // test/fixtures/encoder-decoder/text: the fast pair whose decoder adds the row's first value to every logit
  // (liver +6, spleen -6); the text input belongs to the decoder, not to the encoder the card is named after
  const { image, gt, grid } = scene([70, 64, 60], [2, 2, 2.5], [34, 30, 28], 30);
  const model = await loadModel(path.join(FIX, 'text.onnx'));
  try {
    assert.deepEqual(model.warnings, []);
    assert.deepEqual(model.decoder?.session.inputNames.includes('text_embedding'), true);
    assert.deepEqual(model.session.inputNames, ['image']);
    const click = centerPoint(gt, grid, 'liver')!;
    const masks: Record<string, Uint8Array> = {};
    const logits: Record<string, Float32Array> = {};
    for (const organ of ['liver', 'spleen']) {
      const state = newOrganPromptState();
      const text = textRowFor(model.text!, organ, 'CT');
      assert.ok(text, organ);
      masks[organ] = await promptOrgan(model, image, 'CT', { points: [click], text }, state, grid);
      logits[organ] = state.previousLogits!.data as Float32Array;
      assert.deepEqual(state.runs, { encoder: 1, decoder: 1 });
    }
    // same crop, same click: the two outputs differ by exactly the rows' difference, 6 - (-6)
    assert.ok(maxAbsDiff(logits.liver, logits.spleen, (a, b) => a - b - 12) < 1e-5);
    assert.ok(count(masks.liver) > 2 * count(masks.spleen), `liver row ${count(masks.liver)} voxels, spleen row ${count(masks.spleen)}`);
    for (let v = 0; v < masks.spleen.length; v++) if (masks.spleen[v]) assert.equal(masks.liver[v], 1, 'the larger shift keeps every voxel of the smaller');
  } finally {
    await model.close();
  }
});

test('previous mask form "binary": the second click is fed the first click\'s 0/1 crop mask', async () => {
  const { image, gt, grid } = scene([50, 46, 40], [3, 3, 3], [24, 22, 19], 27);
  const model = await loadModel(path.join(FIX, 'binary.onnx'));
  try {
    assert.deepEqual(model.card.prompt?.previousMask, { input: 'mask_inputs', form: 'binary' });
    const state = newOrganPromptState();
    const c1 = centerPoint(gt, grid, 'liver')!;
    await promptOrgan(model, image, 'CT', { points: [c1] }, state, grid);
    const first = state.previousMask!;
    const crop = state.crop!;
    // the crop mask is the trilinear-upsampled 16^3 logits > 0 (kji: crop i-fastest is the tensor layout)
    const up = foreground(resizeLogits(state.previousLogits!.data as Float32Array, 1, [16, 16, 16], [64, 64, 64]), 1, 64 ** 3, 'sigmoid');
    assert.deepEqual(first, up);
    assert.ok(count(first) > 0 && count(first) < first.length);
    const prompt2 = { points: [c1, nextClick(gt, (await promptOrgan(model, image, 'CT', { points: [c1] }, newOrganPromptState(), grid)), grid, 'liver')!] };
    await promptOrgan(model, image, 'CT', prompt2, state, grid);
    assert.deepEqual(state.runs, { encoder: 1, decoder: 2 });
    const feeds = { ...state.embeddings!, ...tensorPromptFeeds(model.card, crop, prompt2, model.decoder!.path) };
    const fedFirst = new ort.Tensor('float32', toTensorLayout(Float32Array.from(first), crop.dims, model.card), [1, 1, 64, 64, 64]);
    const out = (await model.decoder!.session.run({ ...feeds, mask_inputs: fedFirst })).low_res_logits.data as Float32Array;
    assert.equal(maxAbsDiff(state.previousLogits!.data as Float32Array, out), 0);
    const onZeros = (await model.decoder!.session.run(feeds)).low_res_logits.data as Float32Array;
    assert.ok(maxAbsDiff(out, onZeros) > 0.2, 'the fed mask changes the output');
  } finally {
    await model.close();
  }
});

/** A temp model directory: copies of `files` (from the fixture folder or models/), a card `m.umd.json` for `m.onnx`. */
function modelDir(encoder: string, decoder: string, card: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'encdec-'));
  fs.copyFileSync(encoder, path.join(dir, 'm.onnx'));
  fs.copyFileSync(decoder, path.join(dir, 'm.decoder.onnx'));
  fs.writeFileSync(path.join(dir, 'm.umd.json'), JSON.stringify(card));
  return dir;
}
const fastCard = (): Record<string, unknown> => ({ ...JSON.parse(fs.readFileSync(path.join(FIX, 'fast.umd.json'), 'utf8')), decoder: { file: 'm.decoder.onnx', embeddings: ['image_embeddings'] } });

test('card errors: decoder, logits and previousMask problems, each with the card file and key', () => {
  const dir = modelDir(path.join(FIX, 'fast.onnx'), path.join(FIX, 'fast.decoder.onnx'), fastCard());
  const at = (card: Record<string, unknown>) => {
    fs.writeFileSync(path.join(dir, 'm.umd.json'), JSON.stringify(card));
    return path.join(dir, 'm.onnx');
  };
  try {
    const ok = loadCard(at(fastCard()));
    assert.deepEqual(ok.card.decoder, { file: 'm.decoder.onnx', embeddings: ['image_embeddings'] });
    assert.deepEqual(ok.card.logits, { size: [16, 16, 16], upsample: 'trilinear', activation: 'sigmoid' });
    assert.deepEqual(ok.card.prompt?.previousMask, { input: 'mask_inputs', form: 'logits' });
    assert.deepEqual(ok.warnings, []);
    const base = fastCard();
    assert.throws(() => loadCard(at({ ...base, decoder: { file: 'nope.onnx', embeddings: [] }, logits: { size: [16, 0, 16], upsample: 'cubic', activation: 'relu' } })), (e: Error) => {
      assert.match(e.message, /m\.umd\.json/);
      assert.match(e.message, new RegExp(`decoder\\.file: nope\\.onnx not found \\(looked for ${path.join(dir, 'nope.onnx').replace(/[.\\/]/g, '\\$&')}\\)`));
      assert.match(e.message, /decoder\.embeddings must be a non-empty list of distinct encoder output names.* \(got \[\]\)/);
      assert.match(e.message, /logits\.size must be \[a, b, c\] positive integers .* \(got \[16,0,16\]\)/);
      assert.match(e.message, /logits\.upsample must be "trilinear" .* or "nearest" \(got "cubic"\)/);
      assert.match(e.message, /logits\.activation must be "sigmoid" or "softmax" \(got "relu"\)/);
      // logits.size was invalid, so the logits form has no size either
      assert.match(e.message, /prompt\.previousMask\.form "logits" needs logits\.size/);
      return true;
    });
    assert.throws(() => loadCard(at({ ...base, logits: { activation: 'sigmoid' } })), /m\.umd\.json: prompt\.previousMask\.form "logits" needs logits\.size/);
    assert.throws(() => loadCard(at({ ...base, prompt: { points: 'point_coords', pointLabels: 'point_labels', previousMask: { input: '', form: 'soft' } } })), (e: Error) => {
      assert.match(e.message, /prompt\.previousMask\.input must be a non-empty string .* \(got ""\)/);
      assert.match(e.message, /prompt\.previousMask\.form must be "logits" .* or "binary" .* \(got "soft"\)/);
      return true;
    });
    assert.throws(() => loadCard(at({ ...base, prompt: { channels: ['positive'] } })), /decoder: with a decoder, prompts are tensor inputs of the decoder/);
    assert.throws(() => loadCard(at({ ...base, kind: 'semantic', patchSize: [64, 64, 64] })), /decoder: only a promptable model \(kind "promptable"\) has a decoder graph/);
    assert.throws(() => loadCard(at({ ...base, decoder: 'm.decoder.onnx' })), /decoder must be \{"file": .* \(got "m\.decoder\.onnx"\)/);
    // the editor's card diagnostics put each problem on the key it names
    const text = JSON.stringify({ ...base, decoder: { file: 'nope.onnx', embeddings: ['image_embeddings'] }, logits: { size: [16, 16, 16], activation: 'relu' }, prompt: { points: 'point_coords', pointLabels: 'point_labels', previousMask: { input: 'mask_inputs', form: 'soft' } } }, null, 2);
    const root = parseTree(text);
    let err: unknown;
    try {
      validateCard(JSON.parse(text), path.join(dir, 'm.umd.json'), 'm.umd.json');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof CardError);
    const keys = err.problems.map((p) => keyNodeFor(root, p)?.value);
    assert.deepEqual(keys, ['form', 'file', 'activation'], err.problems.join('\n'));
    const warned = loadCard(at({ ...base, logits: { size: [16, 16, 16], resize: 'x' }, decoder: { file: 'm.decoder.onnx', embeddings: ['image_embeddings'], cache: true } }));
    assert.deepEqual(warned.warnings, ['m.umd.json: unknown key decoder.cache (ignored)', 'm.umd.json: unknown key logits.resize (ignored)']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('session errors: both graphs\' names and fixed shapes checked against the card at load, before any image', async () => {
  const cases: Array<{ files: [string, string]; card: Record<string, unknown>; want: RegExp[] }> = [
    { files: [path.join(FIX, 'fast.onnx'), path.join(FIX, 'fast.decoder.onnx')], card: { ...fastCard(), decoder: { file: 'm.decoder.onnx', embeddings: ['image_features'] } }, want: [
      /decoder\.embeddings names "image_features", which is not an output of the encoder m\.onnx \(its outputs: "image_embeddings"\)/,
      /decoder\.embeddings is "image_features" but the decoder m\.decoder\.onnx's inputs are "image_embeddings", "point_coords", "point_labels", "mask_inputs"/,
      /the decoder m\.decoder\.onnx has input "image_embeddings", which the card feeds nothing/,
    ] },
    { files: [path.join(FIX, 'fast.onnx'), path.join(FIX, 'fast.decoder.onnx')], card: { ...fastCard(), prompt: { points: 'coords', pointLabels: 'point_labels' }, outputs: { logits: 'masks' } }, want: [
      /prompt\.points is "coords" but the decoder m\.decoder\.onnx's inputs are/,
      /the decoder m\.decoder\.onnx has input "point_coords", which the card feeds nothing/,
      /the decoder m\.decoder\.onnx has input "mask_inputs", which the card feeds nothing/,
      /outputs\.logits is "masks" but the decoder m\.decoder\.onnx's outputs are "low_res_logits"/,
    ] },
    { files: [SAM, path.join(ROOT, 'models', 'sam-med3d-style.decoder.onnx')], card: { ...fastCard() }, want: [
      /cropSize \[64, 64, 64\] does not fit the encoder m\.onnx's input "image" of fixed shape \[1, 1, 128, 128, 128\]/,
      /logits\.size \[16, 16, 16\] does not fit the decoder m\.decoder\.onnx's output "low_res_logits" of fixed shape \[1, 1, 32, 32, 32\]/,
      /prompt\.previousMask: form "logits" feeds \[1, 1, 16, 16, 16\] \(logits\.size\), but the decoder m\.decoder\.onnx's input "mask_inputs" has fixed shape \[1, 1, 32, 32, 32\]/,
    ] },
  ];
  for (const c of cases) {
    const dir = modelDir(c.files[0], c.files[1], c.card);
    try {
      await assert.rejects(loadModel(path.join(dir, 'm.onnx')), (e: Error) => {
        assert.equal(e.name, 'ModelError');
        assert.ok(e.message.startsWith(`${path.join(dir, 'm.umd.json')}: `), e.message);
        for (const w of c.want) assert.match(e.message, w);
        return true;
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const dir = modelDir(path.join(FIX, 'fast.onnx'), path.join(FIX, 'fast.decoder.onnx'), fastCard());
  try {
    fs.writeFileSync(path.join(dir, 'm.decoder.onnx'), 'not an onnx file');
    await assert.rejects(loadModel(path.join(dir, 'm.onnx')), new RegExp(`^ModelError: ${path.join(dir, 'm.decoder.onnx').replace(/[.\\/]/g, '\\$&')}: cannot load the decoder ONNX model named by m\\.umd\\.json decoder\\.file`));
    // and the good pair loads, both sessions held by the model
    fs.copyFileSync(path.join(FIX, 'fast.decoder.onnx'), path.join(dir, 'm.decoder.onnx'));
    const model: LoadedModel = await loadModel(path.join(dir, 'm.onnx'));
    assert.equal(model.decoder?.path, path.join(dir, 'm.decoder.onnx'));
    await model.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
