/**
 * Foundation-model contracts, sections 2-4 of docs/foundation-models.md, on real onnxruntime-node sessions of the
 * hand-set demo networks in models/contracts (models/training/build_contract_demos.py: each output is a formula of
 * its prompt) and a real UMD-mini phantom CT (NIfTI): interaction channels with the previous mask fed back
 * (nnInteractive), class-id prompts (VISTA3D), text embedding rows (SegVol style, promptable) and text queries
 * (SAT style, semantic), and the card and file errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { worldToVoxel } from '../../src/core/geometry/affine';
import type { ImageVolume, LabelVolume } from '../../src/core/geometry/volume';
import { loadCard } from '../../src/core/model/card/loadCard';
import { textRowFor } from '../../src/core/model/card/textEmbeddings';
import { loadModel, predictClasses } from '../../src/core/model/predict';
import { cropGrid, normalizedCrop, predictPromptedOrgan } from '../../src/core/model/promptable/predictPromptedOrgan';
import { newOrganPromptState } from '../../src/core/model/promptable/promptState';
import { readImage, readLabels } from '../../src/core/nifti/read';
import { centerPoint } from '../../src/core/prompts';
import type { PromptPoint } from '../../src/core/prompts/promptPoint';
import { phantomDataset } from '../helpers/phantomDataset';
import { repoRoot } from '../helpers/realData';

const MODELS = path.join(repoRoot(), 'models', 'contracts');
let data: string;
let ct: ImageVolume;
let labels: LabelVolume;

before(async () => {
  data = await phantomDataset('fm-channels-', 1, 1);
  ct = readImage(path.join(data, 'PETCT', 'sub-001', 'CT.nii.gz'));
  labels = readLabels(path.join(data, 'PETCT', 'sub-001', 'labels.nii.gz'));
});
after(() => fs.rmSync(data, { recursive: true, force: true }));

const organMask = (id: number): Uint8Array => Uint8Array.from(labels.data, (x) => (x === id ? 1 : 0));
const point = (voxel: [number, number, number], label: 0 | 1): PromptPoint => {
  const a = labels.affine;
  return { voxel, label, mm: [0, 1, 2].map((r) => a[4 * r] * voxel[0] + a[4 * r + 1] * voxel[1] + a[4 * r + 2] * voxel[2] + a[4 * r + 3]) as unknown as PromptPoint['mm'] };
};

test('interaction channels (nnInteractive signature): balls of radiusVoxels on a native-resolution crop, the previous mask fed back on the next click', async () => {
  const model = await loadModel(path.join(MODELS, 'fm-interactive.onnx'));
  try {
    assert.equal(model.card.spacing, null);
    assert.deepEqual(model.card.prompt?.channels, ['previous', 'box', 'box-negative', 'positive', 'negative', 'empty', 'empty']);
    assert.equal(ct.dims.join(), labels.dims.join(), 'the phantom CT and its labels share a grid');
    const c1 = centerPoint(organMask(1), labels, 'liver')!;
    const [n0, n1] = ct.dims;
    const at = (i: number, j: number, k: number) => i + n0 * (j + n1 * k);
    // the crop is the image's own voxels: [c - 12, c + 12) along each axis around the first click
    const lo = c1.voxel.map((c) => c - 12);
    const inCrop = (v: readonly number[]) => v.every((x, a) => x >= lo[a] && x < lo[a] + 24 && x < ct.dims[a]);
    const grid = cropGrid(ct, model.card, c1.mm);
    assert.deepEqual(worldToVoxel(grid.affine, c1.mm).map((x) => Math.round(x * 1e6) / 1e6), [12, 12, 12]);
    const ball = (c: readonly number[], r: number) => (v: readonly number[]) => (v[0] - c[0]) ** 2 + (v[1] - c[1]) ** 2 + (v[2] - c[2]) ** 2 <= r * r;
    const expect = (f: (v: [number, number, number]) => boolean): Uint8Array => {
      const out = new Uint8Array(labels.data.length);
      for (let k = 0; k < ct.dims[2]; k++) for (let j = 0; j < n1; j++) for (let i = 0; i < n0; i++) if (inCrop([i, j, k]) && f([i, j, k])) out[at(i, j, k)] = 1;
      return out;
    };
    const state = newOrganPromptState();
    const run = (points: PromptPoint[]) => predictPromptedOrgan(model.session, model.card, model.path, ct, 'CT', { points }, labels, state);

    const m1 = await run([c1]);
    const want1 = expect(ball(c1.voxel, 3));
    assert.deepEqual(m1, want1, 'click 1: the 3-voxel ball (skimage ball(3): 123 voxels)');
    assert.equal(want1.reduce((s, x) => s + x, 0), 123);
    assert.equal(state.previousMask?.reduce((s, x) => s + x, 0), 123, 'the state keeps the crop mask');

    const c2 = point([c1.voxel[0] + 6, c1.voxel[1], c1.voxel[2]], 1);
    const grown = (m: Uint8Array) => (v: readonly number[]) => {
      for (let dk = -1; dk <= 1; dk++) for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
        const w = [v[0] + di, v[1] + dj, v[2] + dk];
        if (inCrop(w) && m[at(w[0], w[1], w[2])]) return true;
      }
      return false;
    };
    const m2 = await run([c1, c2]);
    const want2 = expect((v) => ball(c1.voxel, 3)(v) || ball(c2.voxel, 3)(v) || grown(m1)(v));
    assert.deepEqual(m2, want2, 'click 2: both balls and the previous mask grown by one voxel');
    const withoutPrevious = expect((v) => ball(c1.voxel, 3)(v) || ball(c2.voxel, 3)(v));
    assert.ok(want2.reduce((s, x) => s + x, 0) > withoutPrevious.reduce((s, x) => s + x, 0) + 50, 'the previous channel visibly changes click 2');

    const c3 = point([c1.voxel[0], c1.voxel[1] + 4, c1.voxel[2]], 0);
    const m3 = await run([c1, c2, c3]);
    // foreground logit 20 (positive + grown previous - negative) - 10: foreground where that count is >= 1
    const positive = (v: readonly number[]) => Number(ball(c1.voxel, 3)(v) || ball(c2.voxel, 3)(v)) + Number(grown(m2)(v));
    const want3 = expect((v) => positive(v) - Number(ball(c3.voxel, 3)(v)) >= 1);
    assert.deepEqual(m3, want3, 'click 3 (negative, 4 voxels from the first): its ball takes one vote away');
    const sum = (m: Uint8Array) => m.reduce((s, x) => s + x, 0);
    assert.ok(sum(want3) < sum(expect((v) => positive(v) >= 1)) - 20, 'the negative channel visibly removes voxels');

    // a fresh state: zeros in the previous channel again
    const fresh = await predictPromptedOrgan(model.session, model.card, model.path, ct, 'CT', { points: [c1, c2] }, labels, newOrganPromptState());
    assert.deepEqual(fresh, withoutPrevious);
  } finally {
    await model.close();
  }
});

test('cropNormalization "image": the whole image\'s statistics on a native crop, 0 outside the image; "crop": the crop\'s own', async () => {
  const card = loadCard(path.join(MODELS, 'fm-interactive.onnx')).card;
  assert.equal(card.cropNormalization, 'image');
  let sum = 0, sq = 0;
  for (const x of ct.data) { sum += x; sq += x * x; }
  const mean = sum / ct.data.length;
  const std = Math.sqrt(sq / ct.data.length - mean * mean);
  // a crop hanging over the image's corner: voxel (0, 0, 0) of the image is crop voxel (12, 12, 12)
  const corner = point([0, 0, 0], 1);
  const grid = cropGrid(ct, card, corner.mm);
  const wholeImage = normalizedCrop(ct, grid, card, 'CT');
  const own = normalizedCrop(ct, grid, { ...card, cropNormalization: 'crop' }, 'CT');
  let inside = 0;
  for (let k = 0, v = 0; k < 24; k++) for (let j = 0; j < 24; j++) for (let i = 0; i < 24; i++, v++) {
    const at = [i - 12, j - 12, k - 12];
    if (at.some((x) => x < 0)) {
      assert.equal(wholeImage[v], 0, `outside the image at crop voxel ${i},${j},${k}`);
      continue;
    }
    inside++;
    const hu = ct.data[at[0] + ct.dims[0] * (at[1] + ct.dims[1] * at[2])];
    assert.ok(Math.abs(wholeImage[v] - (hu - mean) / std) < 1e-4, `${wholeImage[v]} vs ${(hu - mean) / std}`);
  }
  assert.equal(inside, 12 ** 3);
  // the crop's own z-score: mean 0 over its voxels (those outside the image hold the image minimum)
  assert.ok(Math.abs(own.reduce((s, x) => s + x, 0) / own.length) < 1e-4);
});

test('class-id prompts (VISTA3D signature [N, 1] int64 -> [N, 1, 32^3]): the asked ids come back as labels, largest logit > 0', async () => {
  const model = await loadModel(path.join(MODELS, 'fm-classid.onnx'));
  try {
    assert.deepEqual(model.card.classPrompt, { input: 'class_vector', dtype: 'int64' });
    const hu = ct.data;
    assert.ok(Array.from(hu.subarray(0, 5000)).every(Number.isInteger), 'the phantom CT holds integer HU');
    // network: class 1 -> HU - 0.5, class 6 -> 2 HU - 200.25, class 7 -> -HU - 500.5; sliding 32^3 windows, overlap 0.5
    const check = async (classes: number[], want: (h: number) => number) => {
      const pred = await predictClasses(model, ct, 'CT', { classes });
      assert.deepEqual(pred.dims, ct.dims);
      let bad = 0;
      const seen = new Set<number>();
      for (let v = 0; v < hu.length; v++) {
        seen.add(pred.data[v]);
        if (pred.data[v] !== want(hu[v])) bad++;
      }
      assert.equal(bad, 0, `classes ${classes}: ${bad} voxels differ`);
      return seen;
    };
    assert.deepEqual([...await check([1, 7], (h) => (h >= 1 ? 1 : h <= -501 ? 7 : 0))].sort(), [0, 1, 7]);
    assert.deepEqual([...await check([6, 1], (h) => (h >= 200 ? 6 : h >= 1 ? 1 : 0))].sort(), [0, 1, 6]);
    // the default asks every class of the card's labels
    await check(undefined as unknown as number[], (h) => (h >= 200 ? 6 : h >= 1 ? 1 : h <= -501 ? 7 : 0));
    // probabilities: softmax over [0, l1, ..., lN], with one asked class its sigmoid
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fm-prob-'));
    try {
      const file = path.join(dir, 'liver.nii.gz');
      await predictClasses(model, ct, 'CT', { classes: [1], probabilities: [{ classes: [1], file }, { classes: [7], file: path.join(dir, 'none.nii.gz') }] });
      const p = readImage(file).data;
      let worst = 0;
      for (let v = 0; v < hu.length; v += 7) worst = Math.max(worst, Math.abs(p[v] - 1 / (1 + Math.exp(-(hu[v] - 0.5)))));
      assert.ok(worst < 1e-5, `max |p - sigmoid| ${worst}`);
      assert.ok(readImage(path.join(dir, 'none.nii.gz')).data.every((x) => x === 0), 'a class not asked has probability 0');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await model.close();
  }
});

test('logits.blend "probabilities" (SAT): sigmoid per window, blended, largest probability > 0.5', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fm-blend-'));
  try {
    fs.copyFileSync(path.join(MODELS, 'fm-classid.onnx'), path.join(dir, 'm.onnx'));
    const card = JSON.parse(fs.readFileSync(path.join(MODELS, 'fm-classid.umd.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'm.umd.json'), JSON.stringify({ ...card, logits: { activation: 'sigmoid', blend: 'probabilities' } }));
    const model = await loadModel(path.join(dir, 'm.onnx'));
    try {
      assert.equal(model.card.logits?.blend, 'probabilities');
      // classes 1 (HU - 0.5) and 7 (-HU - 500.5) are never both positive: sigmoid > 0.5 where the logit is > 0
      const pred = await predictClasses(model, ct, 'CT', { classes: [1, 7] });
      let bad = 0;
      for (let v = 0; v < ct.data.length; v++) if (pred.data[v] !== (ct.data[v] >= 1 ? 1 : ct.data[v] <= -501 ? 7 : 0)) bad++;
      assert.equal(bad, 0);
      // 1 and 6 (2 HU - 200.25) both saturate to probability 1 above ~120 HU: the class asked first wins there
      const sat = await predictClasses(model, ct, 'CT', { classes: [6, 1] });
      const ref = await loadModel(path.join(MODELS, 'fm-classid.onnx'));
      const byLogits = await predictClasses(ref, ct, 'CT', { classes: [6, 1] }).finally(() => ref.close());
      let six = 0, sixByLogits = 0;
      for (let v = 0; v < ct.data.length; v++) { if (sat.data[v] === 6) six++; if (byLogits.data[v] === 6) sixByLogits++; }
      assert.ok(six > sixByLogits, `${six} vs ${sixByLogits} voxels of class 6`);
      await assert.rejects(predictClasses(model, ct, 'CT', { classes: [1], probabilities: [{ classes: [1], file: path.join(dir, 'p.nii.gz') }] }), /with logits\.blend "probabilities" they would not be the model's probabilities/);
    } finally {
      await model.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('text embedding rows (promptable, [1, 768]): the organ\'s row (modality-specific first, synonyms matched) reaches the network', async () => {
  const model = await loadModel(path.join(MODELS, 'fm-text.onnx'));
  try {
    const table = model.text!;
    assert.equal(table.data.length, 5 * 768);
    // rows: liver (1, 3.5), liver PET (1, 5.5), spleen (-1, 6.5), left kidney (1, 2.5), kidney_right (1, 4.5)
    assert.deepEqual(Array.from(textRowFor(table, 'liver', 'CT')!.subarray(0, 2)), [1, 3.5]);
    assert.deepEqual(Array.from(textRowFor(table, 'Liver', 'PET')!.subarray(0, 2)), [1, 5.5]);
    assert.deepEqual(Array.from(textRowFor(table, 'right kidney', 'MRI')!.subarray(0, 2)), [1, 4.5]);
    assert.equal(textRowFor(table, 'heart', 'CT'), undefined);
    const click = centerPoint(organMask(1), labels, 'liver')!;
    const grid = cropGrid(ct, model.card, click.mm);
    // logit = t0 * (t1 - |q - 7.5|): on the crop grid itself the mask is exactly that ball (or its outside)
    const crop = async (organ: string, modality: 'CT' | 'PET') => predictPromptedOrgan(model.session, model.card, model.path, ct, modality, { points: [click], text: textRowFor(table, organ, modality) }, grid);
    const want = (sign: number, r: number) => {
      const out = new Uint8Array(16 ** 3);
      for (let k = 0, v = 0; k < 16; k++) for (let j = 0; j < 16; j++) for (let i = 0; i < 16; i++, v++) {
        const d2 = (i - 7.5) ** 2 + (j - 7.5) ** 2 + (k - 7.5) ** 2;
        out[v] = sign * (r * r - d2) > 0 ? 1 : 0;
      }
      return out;
    };
    assert.deepEqual(await crop('liver', 'CT'), want(1, 3.5));
    assert.deepEqual(await crop('liver', 'PET'), want(1, 5.5));
    assert.deepEqual(await crop('spleen', 'CT'), want(-1, 6.5));
    assert.deepEqual(await crop('right kidney', 'CT'), want(1, 4.5));
    await assert.rejects(predictPromptedOrgan(model.session, model.card, model.path, ct, 'CT', { points: [click] }), /input "text_embedding" needs the organ's text embedding row/);
  } finally {
    await model.close();
  }
});

test('text queries (semantic, SAT signature [N, 768] -> [1, N, ...]): one row per asked class, the modality\'s row preferred, a class without a row an error', async () => {
  const model = await loadModel(path.join(MODELS, 'fm-textquery.onnx'));
  try {
    const hu = ct.data;
    // rows: liver (1, -0.5), liver PET (1, -2.5), lung_left (-1, -500.5), aorta (2, -200.25); heart has none
    const count = async (modality: 'CT' | 'PET', want: (h: number) => number) => {
      const pred = await predictClasses(model, ct, modality);
      let bad = 0;
      for (let v = 0; v < hu.length; v++) if (pred.data[v] !== want(hu[v])) bad++;
      assert.equal(bad, 0, `${modality}: ${bad} voxels differ`);
    };
    await count('CT', (h) => (h >= 200 ? 3 : h >= 1 ? 1 : h <= -501 ? 2 : 0));
    await count('PET', (h) => (h >= 198 ? 3 : h >= 3 ? 1 : h <= -501 ? 2 : 0));
    await assert.rejects(predictClasses(model, ct, 'CT', { classes: [1, 4] }), /no text embedding row for organ "heart" \(CT\) in .*fm-textquery\.text\.f32/);
  } finally {
    await model.close();
  }
});

test('errors: a text file of the wrong size, an unknown channel, class prompts without sigmoid, both id and text queries', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fm-errors-'));
  try {
    fs.copyFileSync(path.join(MODELS, 'fm-text.onnx'), path.join(dir, 'm.onnx'));
    const card = JSON.parse(fs.readFileSync(path.join(MODELS, 'fm-text.umd.json'), 'utf8'));
    card.prompt.text.file = 'm.text.f32';
    fs.writeFileSync(path.join(dir, 'm.umd.json'), JSON.stringify(card));
    fs.writeFileSync(path.join(dir, 'm.text.f32'), Buffer.alloc(4 * 768 * 4));
    await assert.rejects(loadModel(path.join(dir, 'm.onnx')), (e: Error) => {
      assert.match(e.message, /m\.umd\.json: prompt\.text\.file: .*m\.text\.f32 has 12288 bytes; 5 rows x 768 float32 \(prompt\.text\.rows x prompt\.text\.dim x 4\) are 15360 bytes/);
      return true;
    });
    fs.rmSync(path.join(dir, 'm.text.f32'));
    await assert.rejects(loadModel(path.join(dir, 'm.onnx')), /prompt\.text\.file: cannot read .*m\.text\.f32 \(ENOENT\)/);

    const inter = JSON.parse(fs.readFileSync(path.join(MODELS, 'fm-interactive.umd.json'), 'utf8'));
    const write = (c: unknown) => { fs.writeFileSync(path.join(dir, 'm.umd.json'), JSON.stringify(c)); return path.join(dir, 'm.onnx'); };
    assert.throws(() => loadCard(write({ ...inter, prompt: { channels: ['previous', 'scribble', 'positive', 'positive'], radiusVoxels: 4, radiusMm: 3 } })), (e: Error) => {
      assert.match(e.message, /prompt\.channels must be a non-empty list of "positive", "negative", "box", "box-negative", "previous", "empty": unknown channel "scribble"/);
      assert.match(e.message, /prompt: give radiusMm or radiusVoxels, not both/);
      return true;
    });
    assert.throws(() => loadCard(write({ ...inter, prompt: { channels: ['positive', 'positive'] } })), /"positive" given twice \(only "empty" may repeat\)/);
    assert.throws(() => loadCard(write({ ...inter, prompt: { channels: ['positive'], interactionDecay: 1.5 } })), /prompt\.interactionDecay must be a number in \(0, 1\]/);

    const vista = JSON.parse(fs.readFileSync(path.join(MODELS, 'fm-classid.umd.json'), 'utf8'));
    assert.throws(() => loadCard(write({ ...vista, logits: undefined, classPrompt: { input: 'class_vector', dtype: 'float32' } })), (e: Error) => {
      assert.match(e.message, /classPrompt\.dtype must be "int64" or "int32" \(got "float32"\)/);
      assert.match(e.message, /logits\.activation must be "sigmoid" for a model asked for its classes \(classPrompt\)/);
      return true;
    });
    fs.copyFileSync(path.join(MODELS, 'fm-classid.onnx'), path.join(dir, 'm.onnx'));
    write({ ...vista, classPrompt: { input: 'class_vector', dtype: 'int32' } });
    await assert.rejects(loadModel(path.join(dir, 'm.onnx')), /m\.onnx: input "class_vector" is int64; card classPrompt\.input feeds int32 \(set classPrompt\.dtype to the model's type\)/);
    write({ ...vista, classPrompt: { input: 'classes', dtype: 'int64' } });
    await assert.rejects(loadModel(path.join(dir, 'm.onnx')), /card classPrompt\.input is "classes" but the model's inputs are "image", "class_vector"/);
    assert.throws(() => loadCard(write({ ...vista, prompt: { text: card.prompt.text } })), /classPrompt and prompt\.text: a semantic model is asked for its classes by id or by text, not both/);
    assert.throws(() => loadCard(write({ ...vista, prompt: { text: { ...card.prompt.text, rows: [{ organ: 'liver', modality: 'SPECT' }] } }, classPrompt: undefined })), /prompt\.text\.rows\[0\]\.modality must be "CT", "MRI" or "PET"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
