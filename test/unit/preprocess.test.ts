/**
 * The card's preprocessing step by step (orientation, percentile/masked normalization, SUV clip, crop/pad)
 * against numbers computed independently with numpy/nibabel (test/fixtures/preprocess/make_preprocess.py) on
 * the real STS_002 PET/CT/MRI and FreeSurfer brain volumes, then end to end through predictClasses on the
 * pointwise fixture network, whose answer per voxel is known, so any misplaced voxel shows, and on the real
 * MeshNet brain network fed an image stored in another orientation than the one it was trained on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { voxelToWorld, type Affine, type GridDims } from '../../src/core/geometry/affine';
import { readImage, readLabels } from '../../src/core/nifti/read';
import type { ImageVolume } from '../../src/core/geometry/volume';
import { CardError, validateCard } from '../../src/core/model/card/loadCard';
import { clipBounds, normalize, NormalizationError } from '../../src/core/model/preprocess/normalize';
import { maskedValues, maskOf, meanStd, percentileOfSorted, percentiles } from '../../src/core/model/preprocess/intensityStats';
import { axisCodes, inverse, transformBetween, transformVolume } from '../../src/core/model/preprocess/orientation';
import { isAxisCodes } from '../../src/core/model/card/axisCodes';
import { planPad, shiftWindow } from '../../src/core/model/preprocess/padCrop';
import { loadModel, predictClasses } from '../../src/core/model/predict';
import { realDataDir, repoRoot } from '../helpers/realData';
import { baseCard, withCard } from '../helpers/cards';
import { lcg } from '../helpers/random';

interface Samples { index: number[]; value: number[] }
interface Fixture {
  percentile: { values: number[]; q: number[]; expected: number[] };
  ctClipZscore: { file: string; lower: number; upper: number; mean: number; std: number; samples: Samples };
  ctClipZscoreAll: { lower: number; upper: number; samples: Samples };
  mrZscoreNonzero: { file: string; mean: number; std: number; samples: Samples };
  petSuvClip: { file: string; upper: number; clippedVoxels: number; samples: Samples };
  axcodes: Record<string, string>;
  reorient: { file: string; to: string; dims: number[]; affine: number[]; weightedSum: number; samples: Samples }[];
}

const FIX: Fixture = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'preprocess', 'preprocess.json'), 'utf8'));
const REAL = realDataDir();
const read = (rel: string) => readImage(path.join(REAL, rel));

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs numpy ${expected}`);
}

function checkSamples(data: ArrayLike<number>, s: Samples, tol: number, what: string): void {
  s.index.forEach((v, n) => close(data[v], s.value[n], tol, `${what} voxel ${v}`));
}

// ---- normalization ---------------------------------------------------------------------------------------

test('percentiles equal numpy.percentile (default linear interpolation)', () => {
  const values = Float32Array.from(FIX.percentile.values);
  const sorted = new Float32Array(values).sort();
  FIX.percentile.q.forEach((q, n) => close(percentileOfSorted(sorted, q), FIX.percentile.expected[n], 1e-12, `q=${q}`));
  // selection (what normalize uses) gives the same numbers in any order of q, and does not need a sort
  const shuffled = [...FIX.percentile.q].reverse();
  percentiles(new Float32Array(values), shuffled).forEach((p, n) => close(p, FIX.percentile.expected[FIX.percentile.q.indexOf(shuffled[n])], 1e-12, `selected q=${shuffled[n]}`));
  assert.deepEqual(percentiles(Float32Array.from([7]), [0, 99.5, 100]), [7, 7, 7]);
  assert.throws(() => percentiles(new Float32Array(0), [50]), /percentile of no values/);
  // long runs of equal values (air at -1000 HU, zeros outside the body) against the sorted definition
  const rand = lcg(11, 'mod31');
  for (const n of [2, 3, 10, 1000, 4097]) {
    const x = Float32Array.from({ length: n }, () => (rand() < 0.4 ? -1000 : rand() < 0.3 ? 0 : Math.round(rand() * 2000 - 500)));
    const s2 = new Float32Array(x).sort();
    const qs = [0, 0.5, 1, 10, 40, 41, 50, 70, 99, 99.5, 100];
    percentiles(new Float32Array(x), qs).forEach((p, i) => assert.equal(p, percentileOfSorted(s2, qs[i]), `n=${n} q=${qs[i]}`));
  }
  assert.equal(maskedValues(Float32Array.from([0, 3, 0, 5]), maskOf(Float32Array.from([0, 3, 0, 5]), 'nonzero')).join(), '3,5');
});

test('clip-zscore with percentile bounds over a foreground mask (CTNormalization-style) on real CT', () => {
  const ref = FIX.ctClipZscore;
  const ct = read(ref.file);
  const n = { method: 'clip-zscore' as const, lowerPercentile: 0.5, upperPercentile: 99.5, mask: { above: -500 } };
  const mask = maskOf(ct.data, n.mask);
  const { lower, upper } = clipBounds(ct.data, mask, n);
  close(lower, ref.lower, 1e-12, 'lower');
  close(upper, ref.upper, 1e-12, 'upper');
  const clipped = ct.data.map((x) => Math.min(upper, Math.max(lower, x)));
  const s = meanStd(clipped, mask);
  close(s.mean, ref.mean, 1e-9, 'mean');
  close(s.std, ref.std, 1e-9, 'std');
  checkSamples(normalize(ct.data, n), ref.samples, 2e-6, 'clip-zscore');
  // no mask: every voxel counts
  const all = FIX.ctClipZscoreAll;
  const b = clipBounds(ct.data, null, { method: 'clip-zscore', lowerPercentile: 1, upperPercentile: 99 });
  close(b.lower, all.lower, 1e-12, 'lower (all voxels)');
  close(b.upper, all.upper, 1e-12, 'upper (all voxels)');
  checkSamples(normalize(ct.data, { method: 'clip-zscore', lowerPercentile: 1, upperPercentile: 99 }), all.samples, 2e-6, 'clip-zscore (all voxels)');
  // one side fixed, the other a percentile
  assert.deepEqual(clipBounds(ct.data, null, { method: 'clip-zscore', lower: -1000, upperPercentile: 99 }), { lower: -1000, upper: all.upper });
});

test('zscore inside the nonzero mask on real MRI: statistics from the mask, zeros stay 0', () => {
  const ref = FIX.mrZscoreNonzero;
  const mr = read(ref.file);
  const s = meanStd(mr.data, maskOf(mr.data, 'nonzero'));
  close(s.mean, ref.mean, 1e-9, 'mean');
  close(s.std, ref.std, 1e-9, 'std');
  const out = normalize(mr.data, { method: 'zscore', mask: 'nonzero' });
  checkSamples(out, ref.samples, 2e-6, 'zscore nonzero');
  mr.data.forEach((x, v) => { if (x === 0) assert.equal(out[v], 0); });
  assert.throws(() => normalize(new Float32Array(4), { method: 'zscore', mask: 'nonzero' }), (e: unknown) => e instanceof NormalizationError && /selects no voxel/.test(e.message));
  // a threshold mask: statistics over x > 1 only
  assert.deepEqual([...normalize(Float32Array.from([0, 1, 2, 4]), { method: 'zscore', mask: { above: 1 } })], [0, 0, -1, 1]);
  // outside "scaled" (torchio ZNormalization(masking_method)): the same statistics (mean 3, std 1), every voxel scaled
  assert.deepEqual([...normalize(Float32Array.from([0, 1, 2, 4]), { method: 'zscore', mask: { above: 1 }, outside: 'scaled' })], [-3, -2, -1, 1]);
  assert.deepEqual([...normalize(Float32Array.from([0, 1, 2, 4]), { method: 'zscore', mask: { above: 1 }, outside: 'zero' })], [0, 0, -1, 1]);
});

test('suv-clip on real PET: clip to [0, upper], divide by upper', () => {
  const ref = FIX.petSuvClip;
  const pet = read(ref.file);
  const out = normalize(pet.data, { method: 'suv-clip', upper: ref.upper });
  checkSamples(out, ref.samples, 1e-6, 'suv-clip');
  assert.equal(out.filter((x) => x === 1).length >= ref.clippedVoxels, true);
  assert.ok(out.every((x) => x >= 0 && x <= 1));
  assert.deepEqual([...normalize(Float32Array.from([-1, 2, 6, 30]), { method: 'suv-clip', lower: 2, upper: 10 })], [0, 0, 0.5, 1]);
});

// ---- orientation -----------------------------------------------------------------------------------------

test('axis codes of the real volumes equal nibabel aff2axcodes', () => {
  for (const [file, codes] of Object.entries(FIX.axcodes)) assert.equal(axisCodes(read(file).affine), codes, file);
  assert.ok(isAxisCodes('RAS') && isAxisCodes('LIA') && isAxisCodes('SPL'));
  assert.ok(!isAxisCodes('RLS') && !isAxisCodes('ras') && !isAxisCodes('RA') && !isAxisCodes('RAX'));
});

function weightedSum(data: ArrayLike<number>): number {
  let s = 0;
  for (let v = 0; v < data.length; v++) s += data[v] * ((v % 1009) + 1);
  return s;
}

test('reorientation equals nibabel as_reoriented on real LPS and LIA volumes, and undoes exactly', () => {
  for (const ref of FIX.reorient) {
    const img = read(ref.file);
    const t = transformBetween(axisCodes(img.affine), ref.to);
    const r = transformVolume(img, t);
    const what = `${ref.file} -> ${ref.to}`;
    assert.deepEqual([...r.dims], ref.dims, what);
    r.affine.forEach((x, n) => close(x, ref.affine[n], 1e-9, `${what} affine[${n}]`));
    assert.equal(axisCodes(r.affine), ref.to);
    checkSamples(r.data, ref.samples, 0, what);
    close(weightedSum(r.data), ref.weightedSum, 1e-12, `${what} position-weighted sum`);
    const back = transformVolume(r, inverse(t));
    assert.deepEqual([...back.dims], [...img.dims]);
    assert.ok(back.data.every((x, v) => x === img.data[v]), `${what}: round trip`);
    back.affine.forEach((x, n) => close(x, img.affine[n], 1e-9, `${what} round-trip affine[${n}]`));
  }
});

// ---- crop / pad ------------------------------------------------------------------------------------------

test('pad plans follow MONAI DivisiblePad / ResizeWithPadOrCrop (symmetric pad, centre crop)', () => {
  // DivisiblePad(k=4): 5 -> 8 (3 added: 1 before, 2 after), 8 stays, 3 -> 4 (0 before, 1 after)
  assert.deepEqual(planPad([5, 8, 3], { divisibleBy: [4, 4, 4] }), { before: [1, 0, 0], dims: [8, 8, 4] });
  // CenterSpatialCrop keeps [n//2 - size//2, + size): 5 -> 4 starts at 0, 6 -> 3 starts at 2; 8 -> 10 pads 1 before
  assert.deepEqual(planPad([5, 6, 8], { size: [4, 3, 10] }), { before: [0, -2, 1], dims: [4, 3, 10] });
  assert.deepEqual(planPad([7, 7, 7], { divisibleBy: [1, 7, 2] }), { before: [0, 0, 0], dims: [7, 7, 8] });
});

test('pad and crop keep every voxel at its world position; the inverse restores the grid', () => {
  const affine: Affine = [-0.9, 0.2, 0, 31.5, -0.1, -1.1, 0.3, 12, 0, 0.05, 2.5, -40, 0, 0, 0, 1];
  const dims: GridDims = [5, 6, 8];
  const vol: ImageVolume = { dims, affine, data: Float32Array.from({ length: 240 }, (_, v) => v + 1) };
  const plan = planPad(dims, { size: [4, 3, 10] });
  const moved = shiftWindow(vol, plan.before, plan.dims);
  assert.deepEqual([...moved.dims], [4, 3, 10]);
  for (let k = 0; k < 10; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 4; i++) {
    const src = [i - plan.before[0], j - plan.before[1], k - plan.before[2]];
    const inside = src.every((s, a) => s >= 0 && s < dims[a]);
    const value = moved.data[i + 4 * (j + 3 * k)];
    assert.equal(value, inside ? vol.data[src[0] + 5 * (src[1] + 6 * src[2])] : 0);
    const w = voxelToWorld(moved.affine, [i, j, k]);
    const w0 = voxelToWorld(affine, src as unknown as [number, number, number]);
    w.forEach((x, a) => close(x, w0[a], 1e-9, 'world position'));
  }
  const back = shiftWindow(moved, plan.before.map((b) => -b), dims);
  back.affine.forEach((x, n) => close(x, affine[n], 1e-12, `affine[${n}]`));
  // what the crop dropped comes back as 0, the rest as it was
  back.data.forEach((x, v) => { if (x !== 0) assert.equal(x, vol.data[v]); });
  assert.equal(back.data.filter((x) => x !== 0).length, 4 * 3 * 8);
});

// ---- card ------------------------------------------------------------------------------------------------


test('card: orientation, pad and the new normalization keys are read; errors name the key path', () => {
  const { card, warnings } = validateCard({
    ...baseCard(),
    orientation: 'RAS',
    pad: { divisibleBy: 16 },
    normalization: {
      ct: { method: 'clip-zscore', lowerPercentile: 0.5, upperPercentile: 99.5, mask: { above: -500 } },
      mri: { method: 'zscore', mask: 'nonzero' },
      pet: { method: 'suv-clip', upper: 20, mask: 'nonzero' },
    },
  }, 'c.umd.json');
  assert.equal(card.orientation, 'RAS');
  assert.deepEqual(card.pad, { divisibleBy: [16, 16, 16] });
  assert.deepEqual(card.normalization.ct, { method: 'clip-zscore', lowerPercentile: 0.5, upperPercentile: 99.5, mask: { above: -500 } });
  assert.deepEqual(card.normalization.pet, { method: 'suv-clip', upper: 20 });
  assert.match(warnings.join('\n'), /normalization\.pet\.mask is ignored by method "suv-clip"/);
  assert.equal(validateCard({ ...baseCard(), orientation: null, pad: null }, 'c.umd.json').card.orientation, undefined);
  assert.deepEqual(validateCard({ ...baseCard(), pad: { size: [96, 96, 64] } }, 'c.umd.json').card.pad, { size: [96, 96, 64] });

  const bad = (patch: Record<string, unknown>, ...want: RegExp[]) => {
    assert.throws(() => validateCard({ ...baseCard(), ...patch }, '/x/model.umd.json'), (e: unknown) => {
      assert.ok(e instanceof CardError);
      for (const re of want) assert.match(e.message, re);
      return true;
    });
  };
  bad({ orientation: 'RLS' }, /orientation must be three axis codes .* \(got "RLS"\)/);
  bad({ orientation: 3 }, /orientation must be/);
  bad({ pad: { divisibleBy: 0 } }, /pad\.divisibleBy must be a number or \[a, b, c\] of positive integers \(got 0\)/);
  bad({ pad: { size: 96 } }, /pad\.size must be \[a, b, c\]/);
  bad({ pad: { size: [1, 2, 3], divisibleBy: 2 } }, /give exactly one of divisibleBy and size/);
  bad({ pad: 16 }, /pad must be/);
  bad({ normalization: { ct: { method: 'clip-zscore', lower: -100, lowerPercentile: 1, upper: 300 } } }, /normalization\.ct: give lower or lowerPercentile, not both/);
  bad({ normalization: { ct: { method: 'clip-zscore', lowerPercentile: 1 } } }, /normalization\.ct: clip-zscore needs lower and upper.*upper is missing/);
  bad({ normalization: { ct: { method: 'clip-zscore', lowerPercentile: 1, upperPercentile: 101 } } }, /normalization\.ct\.upperPercentile must be a percentile in \[0, 100\]/);
  bad({ normalization: { ct: { method: 'clip-zscore', lowerPercentile: 99, upperPercentile: 1 } } }, /lowerPercentile must be below upperPercentile/);
  bad({ normalization: { mri: { method: 'zscore', mask: 'body' } } }, /normalization\.mri\.mask must be "nonzero" or \{"above": <number>\} \(got "body"\)/);
  bad({ normalization: { pet: { method: 'suv-clip' } } }, /normalization\.pet: suv-clip needs upper/);
  bad({ normalization: { pet: { method: 'suv-clip', lower: 5, upper: 5 } } }, /normalization\.pet: lower \(default 0\) must be below upper/);
});

// ---- end to end ------------------------------------------------------------------------------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-preprocess-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;
const pointwiseWithCard = (card: Record<string, unknown>): string => withCard('pointwise.onnx', card);

/** test/fixtures/models/make_models.py's pointwise network in plain JS: class = argmax of its 3 logits. */
function pointwiseClass(x: number): number {
  const h = [Math.tanh(x), Math.tanh(-x + 0.5), Math.tanh(0.5 * x - 0.25), Math.tanh(2 * x + 1)];
  const l = [-h[0] + h[1], h[2] - 0.3 * h[3] + 0.9, h[0] - h[1] + 0.5 * h[2] + 0.2 * h[3] - 0.4];
  return l.indexOf(Math.max(...l));
}

test('predictClasses: orientation and crop/pad are undone voxel for voxel (pointwise network)', async () => {
  // an LPS grid with mildly oblique axes, values in [-3, 3] where all three classes occur
  const dims: GridDims = [9, 7, 5];
  let s = 5;
  const data = Float32Array.from({ length: 315 }, () => { s = (s * 1103515245 + 12345) % 2147483648; return (s / 2147483648) * 6 - 3; });
  const img: ImageVolume = { dims, affine: [-1, 0.05, 0, 30, 0, -1.2, 0.1, 10, 0.02, 0, 2, -5, 0, 0, 0, 1], data };
  assert.equal(axisCodes(img.affine), 'LPS');
  const byHand = Uint8Array.from(data, pointwiseClass);
  const cases: [Record<string, unknown>, (v: number) => boolean][] = [
    [{ orientation: 'RAS' }, () => true],
    [{ orientation: 'SAL', pad: { divisibleBy: 4 } }, () => true],
    [{ orientation: 'ASR', spatialOrder: 'ijk', pad: { divisibleBy: [2, 8, 4] }, patchSize: [4, 4, 4] }, () => true],
    // size in kji order [k, j, i] = [5, 4, 9]: j cropped 7 -> 4 keeps j in [3 - 2, 1 + 4) = [1, 5)
    [{ pad: { size: [5, 4, 9] } }, (v) => { const j = Math.floor(v / 9) % 7; return j >= 1 && j < 5; }],
  ];
  for (const [extra, kept] of cases) {
    const model = await loadModel(pointwiseWithCard({ ...baseCard(), ...extra }), { threads: 1 });
    try {
      const pred = await predictClasses(model, img, 'CT');
      assert.deepEqual(pred.dims, img.dims);
      assert.deepEqual(pred.affine, img.affine);
      pred.data.forEach((c, v) => assert.equal(c, kept(v) ? byHand[v] : 0, `${JSON.stringify(extra)}: voxel ${v}`));
    } finally {
      await model.close();
    }
  }
});

function dice(ref: ArrayLike<number>, pred: ArrayLike<number>, label: number): number {
  let both = 0;
  let n = 0;
  for (let v = 0; v < ref.length; v++) {
    const r = ref[v] === label;
    const p = pred[v] === label;
    n += Number(r) + Number(p);
    if (r && p) both++;
  }
  return (2 * both) / n;
}

// MeshNet learnt FreeSurfer's LIA storage order; the same brain stored as RAS must be turned back to LIA
test('MeshNet on the real brain stored as RAS: card orientation "LIA" restores the reference Dice', { timeout: 5 * 60_000 }, async () => {
  const data = path.join(REAL, 'brain-meshnet');
  const lia = readImage(path.join(data, 'norm.nii.gz'));
  const ref = readLabels(path.join(data, 'tissue_labels.nii.gz'));
  const toRas = transformBetween(axisCodes(lia.affine), 'RAS');
  const image = transformVolume(lia, toRas);
  const refRas = transformVolume(ref, toRas);
  assert.equal(axisCodes(image.affine), 'RAS');
  const card = {
    ...baseCard(),
    inputs: { image: 'input' },
    outputs: { logits: 'output' },
    normalization: { '*': { method: 'minmax' } },
    labels: { '1': 'white matter', '2': 'grey matter' },
  };
  const scores = async (extra: Record<string, unknown>) => {
    const dir = path.join(tmp, `m${dirCount++}`);
    fs.mkdirSync(dir);
    const onnx = path.join(dir, 'model.onnx');
    fs.symlinkSync(path.join(data, 'model.onnx'), onnx);
    fs.writeFileSync(path.join(dir, 'model.umd.json'), JSON.stringify({ ...card, ...extra }));
    const model = await loadModel(onnx);
    try {
      const pred = await predictClasses(model, image, 'MRI');
      assert.deepEqual(pred.affine, image.affine);
      return { wm: dice(refRas.data, pred.data, 1), gm: dice(refRas.data, pred.data, 2) };
    } finally {
      await model.close();
    }
  };
  const right = await scores({ orientation: 'LIA' });
  const asStored = await scores({});
  console.log(`MeshNet on RAS storage: orientation LIA: WM ${right.wm.toFixed(4)}, GM ${right.gm.toFixed(4)}; as stored: WM ${asStored.wm.toFixed(4)}, GM ${asStored.gm.toFixed(4)}`);
  assert.ok(Math.abs(right.wm - 0.9) <= 0.02 && Math.abs(right.gm - 0.82) <= 0.02, `orientation LIA: WM ${right.wm}, GM ${right.gm}`);
  assert.ok(asStored.gm < right.gm - 0.03, `fed as stored (RAS), GM Dice ${asStored.gm.toFixed(4)} is too close to the reoriented run's: the control proves nothing`);
});
