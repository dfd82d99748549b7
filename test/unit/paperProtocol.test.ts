/**
 * The UMD paper's protocol (evaluate/paperProtocol.ts) on the real demo promptable card and semantic card: what a
 * run records, what it refuses; the card fields `crop` and `pointRule`; the official crop centre
 * (evaluate/officialCrop.ts) on a real TotalSegmentator label map; the seeded train/test split of subjects
 * (dataset/split.ts) and the nnU-Net raw dataset written from it (dataset/nnunetRaw.ts) on a real phantom dataset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateCard, type ModelCard } from '../../src/core/model';
import { resolvePrompting } from '../../src/core/evaluate/paperProtocol';
import { officialCropCentre, organInsideCrop } from '../../src/core/evaluate/officialCrop';
import { cropGrid } from '../../src/core/model/promptable/predictPromptedOrgan';
import { splitSubjects } from '../../src/core/dataset/split';
import { writeNnunetRaw } from '../../src/core/dataset/nnunetRaw';
import { discoverDataset } from '../../src/core/dataset/discover';
import { voxelToWorld } from '../../src/core/geometry/affine';
import { generatePhantom } from '../../src/core/phantom';
import { readGrid, readLabels } from '../../src/core/nifti/read';
import { realDataDir, repoRoot } from '../helpers/realData';
import { CLI } from '../helpers/cli';

const cardFile = (name: string) => path.join(repoRoot(), 'models', `${name}.umd.json`);
const rawCard = (name: string): Record<string, unknown> => JSON.parse(fs.readFileSync(cardFile(name), 'utf8'));
const card = (name: string, patch: Record<string, unknown> = {}): ModelCard => validateCard({ ...rawCard(name), ...patch }, cardFile(name)).card;

test('umd-paper, promptable card: one point per organ by the card\'s pointRule, seeded, crop rule recorded', () => {
  const sam = card('umd-mini-promptable', { pointRule: 'random', crop: 'official' });
  const { prompting, warnings } = resolvePrompting({ protocol: 'umd-paper', promptSeed: 7 }, sam, 'm.onnx');
  assert.deepEqual(prompting, {
    model: 'promptable', protocol: 'umd-paper', prompt: { kind: 'random' }, seed: 7, boxJitterMm: 0,
    pointRule: { rule: 'random', source: 'card' }, crop: 'official',
  });
  assert.ok(warnings.some((w) => /crop "official".*leaks/.test(w)), warnings.join('\n'));
  // no pointRule on the card: the center point, recorded as the default, with a warning
  const plain = resolvePrompting({ protocol: 'umd-paper' }, card('umd-mini-promptable'), 'm.onnx');
  assert.deepEqual(plain.prompting, {
    model: 'promptable', protocol: 'umd-paper', prompt: { kind: 'center' }, seed: 0, boxJitterMm: 0,
    pointRule: { rule: 'center', source: 'default' }, crop: 'prompt',
  });
  assert.ok(plain.warnings.some((w) => /declares no pointRule/.test(w)));
  // another protocol: the prompt asked for, no point rule
  assert.deepEqual(resolvePrompting({ protocol: 'umd', prompt: { kind: 'clicks', n: 5 }, promptSeed: 2 }, sam, 'm.onnx').prompting,
    { model: 'promptable', protocol: null, prompt: { kind: 'clicks', n: 5 }, seed: 2, boxJitterMm: 0, crop: 'official' });
});

test('umd-paper refuses what is not the paper\'s protocol, naming the model and the option', () => {
  const sam = card('umd-mini-promptable', { pointRule: 'random' });
  assert.throws(() => resolvePrompting({ protocol: 'umd-paper', prompt: { kind: 'clicks', n: 5 } }, sam, '/m/sam.onnx'),
    /^Error: --protocol umd-paper \(\/m\/sam\.onnx\): .*--prompt clicks:5 asks for another protocol/);
  assert.throws(() => resolvePrompting({ protocol: 'umd-paper', prompt: { kind: 'box' } }, sam, 'm.onnx'), /--prompt box/);
  assert.throws(() => resolvePrompting({ protocol: 'umd-paper', boxJitterMm: 2 }, sam, 'm.onnx'), /--box-jitter-mm 2 does not apply/);
  assert.throws(() => resolvePrompting({ protocol: 'umd-paper', toleranceOverrides: [['settings', undefined], ['cli', { '*': 2 }]] }, sam, 'm.onnx'),
    /NSD at 1 mm .* override from the cli/);
  // an empty override list of a source is no override
  resolvePrompting({ protocol: 'umd-paper', toleranceOverrides: [['settings', undefined], ['cli', {}]] }, sam, 'm.onnx');
  const boxOnly = card('umd-mini-promptable', { prompt: { channels: ['box'] } });
  assert.throws(() => resolvePrompting({ protocol: 'umd-paper' }, boxOnly, 'm.onnx'), /takes no point/);
  // the box-only card is fine outside the protocol
  assert.equal(resolvePrompting({ prompt: { kind: 'box' } }, boxOnly, 'm.onnx').prompting.model, 'promptable');
});

test('umd-paper, semantic cards: no prompt; how the classes are asked is recorded; the card\'s NSD tolerance is not applied', () => {
  const seg = card('umd-mini-ct-only');
  assert.deepEqual(resolvePrompting({ protocol: 'umd-paper', promptSeed: 3 }, seg, 'm.onnx').prompting, { model: 'semantic', protocol: 'umd-paper', classes: 'all' });
  const vista = { ...seg, classPrompt: { input: 'class_vector', dtype: 'int64' } } as ModelCard;
  assert.deepEqual(resolvePrompting({ protocol: 'umd-paper' }, vista, 'm.onnx').prompting, { model: 'semantic', protocol: 'umd-paper', classes: 'class-id' });
  const tol = resolvePrompting({ protocol: 'umd-paper' }, { ...seg, nsdToleranceMm: { '*': 2 } }, 'm.onnx');
  assert.ok(tol.warnings.some((w) => /nsdToleranceMm is not applied/.test(w)));
  assert.deepEqual(resolvePrompting({}, seg, 'm.onnx').prompting, { model: 'semantic', protocol: null, classes: 'all' });
});

test('card fields crop and pointRule: kept when valid, errors with the allowed values, ignored on a semantic card', () => {
  const c = card('umd-mini-promptable', { crop: 'official', pointRule: 'center' });
  assert.equal(c.crop, 'official');
  assert.equal(c.pointRule, 'center');
  assert.throws(() => validateCard({ ...rawCard('umd-mini-promptable'), crop: 'label', pointRule: 'centre' }, 'x.umd.json'),
    (e: Error) => /crop must be "prompt" .* or "official" .*got "label"/.test(e.message) && /pointRule must be "random" .* or "center" .*got "centre"/.test(e.message));
  const { card: semantic, warnings } = validateCard({ ...rawCard('umd-mini-ct-only'), crop: 'official', pointRule: 'random' }, 'y.umd.json');
  assert.equal(semantic.crop, undefined);
  assert.equal(semantic.pointRule, undefined);
  assert.equal(warnings.filter((w) => /(crop|pointRule) is ignored for a semantic model/.test(w)).length, 2);
});

test('official crop centre: the centre of the organ\'s bounding box on a real label map; the organ inside a crop', () => {
  const labels = readLabels(path.join(realDataDir(), 'ct-abdomen', 'example_seg_fast_force_split.nii.gz'));
  const liver = Uint8Array.from(labels.data, (v) => (v === 5 ? 1 : 0));
  // the bounding box, found here by a scan over the voxels written independently of boxPrompt
  const [n0, n1] = labels.dims;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  liver.forEach((v, o) => {
    if (!v) return;
    const ijk = [o % n0, Math.floor(o / n0) % n1, Math.floor(o / (n0 * n1))];
    ijk.forEach((x, a) => { lo[a] = Math.min(lo[a], x); hi[a] = Math.max(hi[a], x); });
  });
  const expected = voxelToWorld(labels.affine, [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2]);
  const centre = officialCropCentre(liver, labels, 'liver')!;
  centre.forEach((x, a) => assert.ok(Math.abs(x - expected[a]) < 1e-9, `${centre} vs ${expected}`));
  assert.equal(officialCropCentre(new Uint8Array(liver.length), labels, 'liver'), null);
  // a crop smaller than the liver (8^3 voxels of 6 mm = 48 mm): the organ voxels inside are those within 24 mm of the
  // centre along each axis (the image is RAS, axis-aligned, so crop and label axes agree)
  const sam = card('umd-mini-promptable', { cropSize: [8, 8, 8], spacing: [6, 6, 6] });
  const inside = organInsideCrop(liver, labels, cropGrid(labels, sam, centre));
  let n = 0;
  liver.forEach((v, o) => {
    if (!v) return;
    const w = voxelToWorld(labels.affine, [o % n0, Math.floor(o / n0) % n1, Math.floor(o / (n0 * n1))]);
    const within = w.every((x, a) => x - centre[a] >= -24 && x - centre[a] < 24);
    assert.equal(inside[o], within ? 1 : 0, `voxel ${o} at ${w}`);
    if (within) n++;
  });
  assert.ok(n > 0 && n < liver.reduce((s, v) => s + v, 0), `${n} liver voxels inside the small crop`);
});

test('split: a seeded choice of training subjects, the rest to evaluate; the nnU-Net raw dataset of the training subjects', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `sub-${String(i + 1).padStart(3, '0')}`);
  const a = splitSubjects([...names].reverse(), 10, 0);
  assert.deepEqual(splitSubjects(names, 10, 0), a, 'the same subjects (in any order) and seed give the same split');
  assert.equal(a.train.length, 10);
  assert.deepEqual([...a.train, ...a.test].sort(), names);
  assert.ok(a.train.every((s) => !a.test.includes(s)));
  assert.deepEqual(a.train, [...a.train].sort());
  assert.notDeepEqual(splitSubjects(names, 10, 1).train, a.train, 'another seed, another draw');
  assert.throws(() => splitSubjects(names.slice(0, 10), 10, 0), /10 training subjects asked, the dataset has 10/);
  assert.throws(() => splitSubjects(names, 0, 0), /positive integer/);

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-split-'));
  try {
    const data = path.join(root, 'data');
    await generatePhantom({ outDir: data, subjects: 3, seed: 5 });
    const dataset = discoverDataset(data);
    const split = splitSubjects(dataset.cases.map((c) => c.subject), 2, 0);
    const dir = writeNnunetRaw(dataset, { outDir: path.join(root, 'raw'), datasetId: 7, name: 'UMDCT2', study: 'PETCT', modality: 'CT', subjects: split.train });
    assert.equal(path.basename(dir), 'Dataset007_UMDCT2');
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'dataset.json'), 'utf8'));
    assert.deepEqual(json.channel_names, { '0': 'CT' });
    assert.equal(json.numTraining, 2);
    assert.deepEqual(json.labels, { background: 0, ...Object.fromEntries([...dataset.organs.byId].map(([id, o]) => [o, id])) });
    for (const s of split.train) {
      const img = path.join(dir, 'imagesTr', `${s}_0000.nii.gz`);
      assert.equal(fs.readlinkSync(img), path.join(data, 'PETCT', s, 'CT.nii.gz'));
      // image and labels of one training case share a grid, as nnU-Net requires
      const lab = path.join(dir, 'labelsTr', `${s}.nii.gz`);
      assert.deepEqual(readGrid(lab).dims, readGrid(img).dims);
    }
    assert.deepEqual(fs.readdirSync(path.join(dir, 'imagesTr')).sort(), split.train.map((s) => `${s}_0000.nii.gz`));
    // PET of the PET/CT study has its own grid: its labels are resampled onto it, not linked
    const pet = writeNnunetRaw(dataset, { outDir: path.join(root, 'raw'), datasetId: 8, name: 'UMDPET2', study: 'PETCT', modality: 'PET', subjects: split.train });
    for (const s of split.train) {
      const lab = path.join(pet, 'labelsTr', `${s}.nii.gz`);
      const img = readGrid(path.join(pet, 'imagesTr', `${s}_0000.nii.gz`));
      assert.deepEqual(readGrid(lab).dims, img.dims);
    }
    // the CLI: the same split, one list for evaluate --subjects, usage errors exit 2
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'split', '--data', data, ...args], { encoding: 'utf8' });
    const list = cli('--train', '2', '--list', 'test');
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout, `${split.test.join(',')}\n`);
    assert.deepEqual(JSON.parse(cli('--train', '2', '--json').stdout), split);
    assert.equal(cli('--train', '0').status, 2);
    assert.match(cli('--train', '3').stderr, /3 training subjects asked, the dataset has 3/);
    assert.throws(() => writeNnunetRaw(dataset, { outDir: path.join(root, 'raw'), datasetId: 7, name: 'UMDCT2', study: 'PETCT', modality: 'CT', subjects: split.train }), /exists/);
    assert.throws(() => writeNnunetRaw(dataset, { outDir: path.join(root, 'raw'), datasetId: 9, name: 'X', study: 'PETCT', modality: 'CT', subjects: ['nobody'] }), /no CT scan with labels for training subject nobody/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
