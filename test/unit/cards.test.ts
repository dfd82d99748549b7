/**
 * Model cards from every source (test/fixtures/cards, see its README): values parsed from each fixture, the
 * resolution order, errors with key paths, the ONNX header reader against onnxruntime's own view, and the organ
 * synonym table on TotalSegmentator's real class lists and a real TotalSegmentator segmentation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  CardError, loadModel, OnnxFormatError, ORGAN_SYNONYMS, predictClasses, readOnnxModelInfo, resolveCard, umdOrganFor, validateCard,
  type ModelCard,
} from '../../src/core/model';
import { applyMapping, mapModelClasses } from '../../src/core/evaluate/labelMapping';
import { DEFAULT_ORGANS } from '../../src/core/dataset/organs';
import type { OrganMap } from '../../src/core/dataset/discover';
import { readImage, readLabels } from '../../src/core/nifti/read';
import { realDataDir, repoRoot } from '../helpers/realData';

const CARDS = path.join(repoRoot(), 'test', 'fixtures', 'cards');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-cards-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;

/** A fresh folder holding `files` (destination path -> fixture path, or JSON to write). */
function layout(files: Record<string, string | object>): string {
  const dir = path.join(tmp, `d${dirCount++}`);
  for (const [dest, src] of Object.entries(files)) {
    const to = path.join(dir, dest);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (typeof src === 'string') fs.copyFileSync(src, to);
    else fs.writeFileSync(to, JSON.stringify(src));
  }
  return dir;
}
const fixture = (...p: string[]) => path.join(CARDS, ...p);
const json = (...p: string[]): Record<string, unknown> => JSON.parse(fs.readFileSync(fixture(...p), 'utf8'));
const defaultOrgans: OrganMap = { byId: new Map(DEFAULT_ORGANS.map((o) => [o.id, o.name])) };

/** Asserts a CardError naming `file` whose message matches every pattern. */
function cardError(fn: () => unknown, file: string, ...want: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CardError, String(e));
    assert.equal(e.file, file);
    for (const re of want) assert.match(e.message, re);
    return true;
  });
}

// ---- ONNX header reader ---------------------------------------------------------------------------------

test('ONNX reader: metadata_props and graph tensor names, as onnxruntime sees them; weights listed as inputs are not inputs', async () => {
  const info = readOnnxModelInfo(fixture('umd-metadata.onnx'));
  assert.deepEqual([...info.metadata.keys()], ['author', 'umd']);
  assert.equal(info.metadata.get('author'), 'fixture');
  assert.equal(JSON.parse(info.metadata.get('umd')!).inputs.image, 'ct');
  for (const name of ['umd-metadata.onnx', 'plain.onnx', 'two-inputs.onnx', '../models/pointwise.onnx', '../models/renamed.onnx']) {
    const mine = readOnnxModelInfo(fixture(name));
    const session = await ort.InferenceSession.create(fixture(name));
    assert.deepEqual([mine.inputs, mine.outputs], [session.inputNames, session.outputNames], name);
    await session.release();
  }
  assert.deepEqual(readOnnxModelInfo(fixture('weights-as-inputs.onnx')).inputs, ['input']);
  assert.deepEqual(readOnnxModelInfo(fixture('two-inputs.onnx')).inputs, ['image', 'prompt']);
  // the real MeshNet: names from its README
  const mesh = readOnnxModelInfo(path.join(realDataDir(), 'brain-meshnet', 'model.onnx'));
  assert.deepEqual([mesh.inputs, mesh.outputs, mesh.metadata.size], [['input'], ['output'], 0]);
});

test('ONNX reader: a truncated model or a file that is no protobuf is an OnnxFormatError naming the file', () => {
  const bytes = fs.readFileSync(fixture('umd-metadata.onnx'));
  const cut = path.join(tmp, 'cut.onnx');
  fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 40));
  assert.throws(() => readOnnxModelInfo(cut), (e: unknown) => e instanceof OnnxFormatError && e.file === cut && /runs past its message|end of file/.test(e.message));
  const text = path.join(tmp, 'text.onnx');
  fs.writeFileSync(text, '{"not": "onnx"}');
  assert.throws(() => readOnnxModelInfo(text), /text\.onnx: not a readable ONNX model/);
});

// ---- umd.json and ONNX metadata -------------------------------------------------------------------------

test('umd.json: organMap and reported are validated and kept on the card', () => {
  const dir = layout({ 'model.onnx': fixture('plain.onnx'), 'model.umd.json': fixture('umd-json', 'model.umd.json') });
  const r = resolveCard(path.join(dir, 'model.onnx'));
  assert.equal(r.source, 'umd.json');
  assert.deepEqual(r.files, [path.join(dir, 'model.umd.json')]);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.card.organMap, { 'Kidney (L)': 'left kidney', heart_myocardium: null });
  assert.deepEqual(r.card.reported, {
    'left kidney': { dice: 0.951, nsd: 0.902, source: "authors' paper, Table 3 (internal test set)" },
    heart: { dice: 0.874 },
  });
  assert.deepEqual([r.card.spatialOrder, r.card.spacing, r.card.patchSize], ['ijk', [0.8, 0.8, 2], null]);
  // organMap sends "Kidney (L)" to the left kidney; heart_myocardium is left unscored although a synonym exists
  const m = mapModelClasses(r.card, defaultOrgans);
  assert.deepEqual([...m.lut], [0, 3, 0]);
  assert.deepEqual(m.excluded, ['heart_myocardium']);
  assert.deepEqual(m.matches, [{ modelClass: 1, modelName: 'Kidney (L)', organ: 'left kidney', by: 'organMap' }]);
});

test('organMap and reported: wrong types fail with the key path, doubtful entries warn', () => {
  const base = { ...json('umd-json', 'model.umd.json') };
  const bad = (patch: Record<string, unknown>, ...want: RegExp[]) => cardError(() => validateCard({ ...base, ...patch }, '/m/x.umd.json'), '/m/x.umd.json', ...want);
  bad({ organMap: ['left kidney'] }, /x\.umd\.json: organMap must be an object/);
  bad({ organMap: { 'Kidney (L)': 3 } }, /organMap\.Kidney \(L\) must be a dataset organ name or null \(not scored\) \(got 3\)/);
  bad({ reported: 0.9 }, /reported must be an object/);
  bad({ reported: { liver: { dice: 1.2 } } }, /reported\.liver\.dice must be a number in \[0, 1\] \(got 1\.2\)/);
  bad({ reported: { liver: { nsd: '0.8' } } }, /reported\.liver\.nsd must be a number in \[0, 1\] \(got "0\.8"\)/);
  bad({ reported: { liver: { source: 7, dice: 0.9 } } }, /reported\.liver\.source must be a string/);
  bad({ reported: { liver: { source: 'paper' } } }, /reported\.liver must give dice, nsd or both/);
  bad({ reported: { liver: 0.9 }, organMap: 'x' }, /reported\.liver must be an object/, /organMap must be an object/);
  const { warnings } = validateCard({ ...base, organMap: { spleen: 'spleen' }, reported: { pancreas: { dice: 0.8, extra: 1 } } }, '/m/x.umd.json');
  assert.deepEqual(warnings, [
    'x.umd.json: organMap.spleen names no class of labels (ignored)',
    'x.umd.json: unknown key reported.pancreas.extra (ignored)',
    'x.umd.json: reported.pancreas: no class of labels is this organ (kept)',
  ]);
});

test('onnx-metadata: a UMD card inside the checkpoint; loadModel reports the source', async () => {
  const dir = layout({ 'net.onnx': fixture('umd-metadata.onnx') });
  const onnx = path.join(dir, 'net.onnx');
  const r = resolveCard(onnx);
  assert.equal(r.source, 'onnx-metadata');
  assert.deepEqual(r.files, [onnx]);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.card.name, 'metadata-carried card');
  assert.deepEqual([r.card.inputs.image, r.card.outputs.logits, r.card.patchSize, r.card.spacing], ['ct', 'scores', [32, 48, 64], [1.5, 1.5, 3]]);
  assert.deepEqual(r.card.normalization, { ct: { method: 'clip-zscore', lower: -1000, upper: 1000, mean: 40.5, std: 250.25 }, '*': { method: 'zscore' } });
  assert.deepEqual(r.card.labels, { '1': 'kidney_left', '2': 'lung_upper_lobe_left' });
  assert.deepEqual(r.card.organMap, { lung_upper_lobe_left: 'left lung' });
  assert.deepEqual(r.card.reported, { kidney_left: { dice: 0.93, nsd: 0.88, source: 'made-up fixture value' } });
  const model = await loadModel(onnx);
  try {
    assert.deepEqual([model.cardSource, model.cardFiles, model.cardPath], ['onnx-metadata', [onnx], onnx]);
  } finally {
    await model.close();
  }
});

test('onnx-metadata: errors name the model file, metadata_props "umd" and the key path', () => {
  const dir = layout({ 'net.onnx': fixture('bad-umd-metadata.onnx') });
  const onnx = path.join(dir, 'net.onnx');
  cardError(() => resolveCard(onnx), onnx,
    /net\.onnx: metadata_props "umd": patchSize must be \[a,b,c\] positive integers or null \(got "auto"\)/,
    /net\.onnx: metadata_props "umd": reported\.kidney_left\.dice must be a number in \[0, 1\] \(got 1\.5\)/);
});

// ---- nnU-Net v2 -----------------------------------------------------------------------------------------

const NN_DATASET = () => json('nnunet-totalseg', 'dataset.json');
const NN_PLANS = () => json('nnunet-totalseg', 'plans.json');
/** plain.onnx with an nnU-Net dataset.json + plans.json beside it (optionally in a named results folder). */
function nnunet(dataset: object, plans: object, folder = 'Dataset291'): string {
  const dir = layout({ [`${folder}/model.onnx`]: fixture('plain.onnx'), [`${folder}/dataset.json`]: dataset, [`${folder}/plans.json`]: plans });
  return path.join(dir, folder, 'model.onnx');
}

test('nnunet: 3d_fullres of a TotalSegmentator plans file -> patch, (i, j, k) spacing, CTNormalization as clip-zscore, labels', () => {
  const dir = layout({ 'model.onnx': fixture('plain.onnx'), 'dataset.json': fixture('nnunet-totalseg', 'dataset.json'), 'plans.json': fixture('nnunet-totalseg', 'plans.json') });
  const r = resolveCard(path.join(dir, 'model.onnx'));
  assert.equal(r.source, 'nnunet');
  assert.deepEqual(r.files, [path.join(dir, 'dataset.json'), path.join(dir, 'plans.json')]);
  assert.deepEqual(r.warnings, [], 'every key of the real format is known');
  const c = r.card;
  assert.deepEqual([c.inputs.image, c.outputs.logits], ['input', 'output'], 'tensor names from the ONNX graph');
  assert.deepEqual(c.patchSize, [96, 160, 128], 'patch in tensor order (k, j, i), as plans.json has it');
  assert.equal(c.spatialOrder, 'kji');
  assert.deepEqual(c.spacing, [1.25, 1.5, 2.5], 'plans spacing (z, y, x) reordered to the card\'s (i, j, k)');
  assert.deepEqual(c.normalization, { '*': { method: 'clip-zscore', lower: -963, upper: 1237.5, mean: 86.25, std: 221.5 } });
  assert.equal(Object.keys(c.labels).length, 24, 'background left out');
  assert.deepEqual([c.labels['1'], c.labels['3'], c.labels['10'], c.labels['21'], c.labels['24']], ['spleen', 'kidney_left', 'lung_upper_lobe_left', 'urinary_bladder', 'kidney_cyst_right']);
  assert.equal(c.overlap, 0.5);
  assert.equal(c.name, 'TotalSegmentator part 1 (organs)');
  assert.equal(c.description, 'nnU-Net v2 3d_fullres configuration (nnUNetPlans) of Dataset291_TotalSegmentator_part1_organs_1559subj');
});

test('nnunet: the results folder names the configuration; fold_N looks one folder up; inherits_from is resolved', () => {
  const lowres = nnunet(NN_DATASET(), NN_PLANS(), 'nnUNetTrainer__nnUNetPlans__3d_lowres');
  const low = resolveCard(lowres).card;
  assert.deepEqual([low.patchSize, low.spacing], [[96, 160, 160], [1.5, 1.5, 4]]);
  assert.match(low.description!, /3d_lowres/);

  const plans = NN_PLANS();
  (plans.configurations as Record<string, unknown>)['3d_fullres_bs8'] = { inherits_from: '3d_fullres', batch_size: 8, patch_size: [64, 64, 64] };
  const dir = layout({
    'T__P__3d_fullres_bs8/dataset.json': NN_DATASET(), 'T__P__3d_fullres_bs8/plans.json': plans,
    'T__P__3d_fullres_bs8/fold_0/checkpoint_final.onnx': fixture('plain.onnx'),
  });
  const r = resolveCard(path.join(dir, 'T__P__3d_fullres_bs8', 'fold_0', 'checkpoint_final.onnx'));
  assert.equal(r.source, 'nnunet');
  assert.deepEqual([r.card.patchSize, r.card.spacing], [[64, 64, 64], [1.25, 1.5, 2.5]], 'child patch, parent spacing');
  assert.equal(r.files[1], path.join(dir, 'T__P__3d_fullres_bs8', 'plans.json'));

  const casc = nnunet(NN_DATASET(), NN_PLANS(), 'nnUNetTrainer__nnUNetPlans__3d_cascade_fullres');
  cardError(() => resolveCard(casc), path.join(path.dirname(casc), 'plans.json'), /configurations\.3d_cascade_fullres\.previous_stage: a cascade stage takes the previous stage's segmentation/);
  const flat = nnunet(NN_DATASET(), NN_PLANS(), 'nnUNetTrainer__nnUNetPlans__2d');
  cardError(() => resolveCard(flat), path.join(path.dirname(flat), 'plans.json'), /configurations\.2d\.patch_size \[512,512\] is 2D/);
});

test('nnunet: transpose_forward [2, 1, 0] is spatialOrder ijk; other schemes map to zscore, none, minmax, x/255', () => {
  const t = { ...NN_PLANS(), transpose_forward: [2, 1, 0], transpose_backward: [2, 1, 0] };
  const ijk = resolveCard(nnunet(NN_DATASET(), t)).card;
  assert.deepEqual([ijk.spatialOrder, ijk.patchSize, ijk.spacing], ['ijk', [96, 160, 128], [2.5, 1.5, 1.25]]);

  const withScheme = (scheme: string, useMask = false) => {
    const plans = NN_PLANS();
    const full = (plans.configurations as Record<string, Record<string, unknown>>)['3d_fullres'];
    full.normalization_schemes = [scheme];
    full.use_mask_for_norm = [useMask];
    return resolveCard(nnunet({ ...NN_DATASET(), channel_names: { '0': 'T1' } }, plans));
  };
  const z = withScheme('ZScoreNormalization', true);
  assert.deepEqual(z.card.normalization, { '*': { method: 'zscore', mask: 'nonzero' } });
  assert.deepEqual(z.warnings, ['plans.json: configurations.3d_fullres.normalization_schemes.0 is z-scored inside the nonzero region (use_mask_for_norm); nnU-Net also fills holes in that region, UMD Lens does not: zero voxels enclosed by nonzero ones stay 0']);
  assert.deepEqual(withScheme('ZScoreNormalization').card.normalization, { '*': { method: 'zscore' } });
  // NibabelIOWithReorient feeds RAS images (as_closest_canonical): the card reorients to RAS; other readers keep storage order
  assert.equal(resolveCard(nnunet(NN_DATASET(), { ...NN_PLANS(), image_reader_writer: 'NibabelIOWithReorient' })).card.orientation, 'RAS');
  assert.equal(resolveCard(nnunet(NN_DATASET(), { ...NN_PLANS(), image_reader_writer: 'SimpleITKIO' })).card.orientation, undefined);
  assert.deepEqual(withScheme('NoNormalization').card.normalization, { '*': { method: 'none' } });
  assert.deepEqual(withScheme('RescaleTo01Normalization').card.normalization, { '*': { method: 'minmax' } });
  assert.deepEqual(withScheme('RGBTo01Normalization').card.normalization, { '*': { method: 'zscore', mean: 0, std: 255 } });
  const plansFile = (onnx: string) => path.join(path.dirname(onnx), 'plans.json');
  const custom = NN_PLANS();
  (custom.configurations as Record<string, Record<string, unknown>>)['3d_fullres'].normalization_schemes = ['MyNormalization'];
  const onnx = nnunet(NN_DATASET(), custom);
  cardError(() => resolveCard(onnx), plansFile(onnx), /configurations\.3d_fullres\.normalization_schemes\.0 must be one of CTNormalization, .* \(got "MyNormalization"\)/);
});

test('nnunet: wrong types fail with the file and key path; unknown keys warn', () => {
  const plansOf = (onnx: string) => path.join(path.dirname(onnx), 'plans.json');
  const datasetOf = (onnx: string) => path.join(path.dirname(onnx), 'dataset.json');
  const plans = NN_PLANS();
  const full = (plans.configurations as Record<string, Record<string, unknown>>)['3d_fullres'];
  full.patch_size = 'big';
  full.spacing = [2.5, -1, 1];
  (plans.foreground_intensity_properties_per_channel as Record<string, Record<string, unknown>>)['0'].percentile_00_5 = '-963';
  plans.transpose_forward = [1, 0, 2];
  let onnx = nnunet(NN_DATASET(), plans);
  cardError(() => resolveCard(onnx), plansOf(onnx),
    /plans\.json: configurations\.3d_fullres\.patch_size must be \[a, b, c\] positive integers \(got "big"\)/,
    /configurations\.3d_fullres\.spacing must be \[a, b, c\] positive numbers in mm/,
    /foreground_intensity_properties_per_channel\.0\.percentile_00_5 must be a finite number \(got "-963"\)/,
    /transpose_forward \[1,0,2\]: only \[0, 1, 2\] and \[2, 1, 0\]/);

  onnx = nnunet({ ...NN_DATASET(), labels: { background: 0, liver: '1', spleen: 2 } }, NN_PLANS());
  cardError(() => resolveCard(onnx), datasetOf(onnx), /dataset\.json: labels\.liver must be a non-negative integer label value \(got "1"\)/);
  onnx = nnunet({ ...NN_DATASET(), labels: { background: 0, liver: 1, spleen: 3 } }, NN_PLANS());
  cardError(() => resolveCard(onnx), datasetOf(onnx), /labels: nnU-Net requires consecutive label values 0, 1, 2, \.\.\. .*got 0, 1, 3/);
  onnx = nnunet({ ...NN_DATASET(), labels: { background: 0, kidney: [1, 2], tumor: 2 }, regions_class_order: [1, 2] }, NN_PLANS());
  cardError(() => resolveCard(onnx), datasetOf(onnx), /regions_class_order: region-based models/, /labels\.kidney: a region/);
  onnx = nnunet({ ...NN_DATASET(), channel_names: { '0': 'CT', '1': 'PET' } }, NN_PLANS());
  cardError(() => resolveCard(onnx), datasetOf(onnx), /channel_names: the model takes 2 input channels \("CT", "PET"\); UMD Lens feeds one image channel per case/);
  onnx = nnunet({ ...NN_DATASET(), labels: { background: 0, liver: 1, ignore: 2 }, numTraining: '10' }, NN_PLANS());
  cardError(() => resolveCard(onnx), datasetOf(onnx), /numTraining must be an integer \(got "10"\)/);

  const extra = NN_PLANS();
  extra.shiny_new_setting = true;
  (extra.configurations as Record<string, Record<string, unknown>>)['3d_fullres'].new_knob = 1;
  const r = resolveCard(nnunet({ ...NN_DATASET(), labels: { background: 0, liver: 1, ignore: 2 }, comment: 'x' }, extra));
  assert.deepEqual(r.card.labels, { '1': 'liver' }, 'the ignore label has no output channel');
  assert.deepEqual(r.warnings, [
    'dataset.json: unknown key comment (ignored)',
    'plans.json: unknown key shiny_new_setting (ignored)',
    'plans.json: unknown key configurations.3d_fullres.new_knob (ignored)',
  ]);
});

test('nnunet on the real demo checkpoint: predicts exactly as its own card on a real CT, and TotalSegmentator names score as UMD organs', { timeout: 120_000 }, async () => {
  const demo = path.join(repoRoot(), 'models', 'umd-mini-ct-only.onnx');
  const folder = 'Dataset901_UMDminiCT/nnUNetTrainer__nnUNetPlans__3d_fullres';
  const dir = layout({
    [`${folder}/dataset.json`]: fixture('nnunet-umd-mini', 'dataset.json'), [`${folder}/plans.json`]: fixture('nnunet-umd-mini', 'plans.json'),
    [`${folder}/fold_0/checkpoint_final.onnx`]: demo,
  });
  const viaNnunet = await loadModel(path.join(dir, folder, 'fold_0', 'checkpoint_final.onnx'));
  const viaCard = await loadModel(demo);
  const plans = json('nnunet-umd-mini', 'plans.json');
  (plans.configurations as Record<string, Record<string, unknown>>)['3d_fullres'].normalization_schemes = ['ZScoreNormalization'];
  const wrongDir = layout({ 'w/dataset.json': fixture('nnunet-umd-mini', 'dataset.json'), 'w/plans.json': plans, 'w/model.onnx': demo });
  const wrongNorm = await loadModel(path.join(wrongDir, 'w', 'model.onnx'));
  try {
    assert.equal(viaNnunet.cardSource, 'nnunet');
    assert.equal(viaCard.cardSource, 'umd.json');
    assert.equal(wrongNorm.cardSource, 'nnunet');
    const ct = readImage(path.join(realDataDir(), 'ct-abdomen', 'example_ct.nii.gz'));
    const a = await predictClasses(viaNnunet, ct, 'CT');
    const b = await predictClasses(viaCard, ct, 'CT');
    assert.deepEqual(a.dims, b.dims);
    let organVoxels = 0;
    for (let v = 0; v < a.data.length; v++) if (a.data[v] > 0) organVoxels++;
    assert.ok(organVoxels > 1000, `the demo model finds organs in the real CT (${organVoxels} voxels)`);
    assert.ok(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer)), 'identical class maps');
    // the same model without CTNormalization predicts otherwise: the equality above is not vacuous
    const c = await predictClasses(wrongNorm, ct, 'CT');
    assert.ok(!Buffer.from(c.data.buffer).equals(Buffer.from(b.data.buffer)), 'a z-scored input changes the prediction');
    // TotalSegmentator names (kidney_left, lung_left, urinary_bladder) land on the UMD label ids the card's names do
    const mapped = mapModelClasses(viaNnunet.card, defaultOrgans);
    assert.deepEqual([...mapped.lut], [...mapModelClasses(viaCard.card, defaultOrgans).lut]);
    assert.deepEqual([...mapped.lut], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert.deepEqual(mapped.matches.filter((m) => m.by === 'synonym').map((m) => `${m.modelName}->${m.organ}`),
      ['kidney_left->left kidney', 'kidney_right->right kidney', 'lung_left->left lung', 'lung_right->right lung', 'urinary_bladder->bladder']);
  } finally {
    await Promise.all([viaNnunet.close(), viaCard.close(), wrongNorm.close()]);
  }
});

// ---- MONAI bundle ---------------------------------------------------------------------------------------

test('monai-bundle: configs/metadata.json of a wholeBody-style bundle -> labels from channel_def, patch from spatial_shape, ijk', async () => {
  const dir = layout({ 'bundle/configs/metadata.json': fixture('monai-wholebody', 'configs', 'metadata.json'), 'bundle/models/model.onnx': fixture('plain.onnx') });
  const onnx = path.join(dir, 'bundle', 'models', 'model.onnx');
  const r = resolveCard(onnx);
  assert.equal(r.source, 'monai-bundle');
  assert.deepEqual(r.files, [path.join(dir, 'bundle', 'configs', 'metadata.json')]);
  const c = r.card;
  assert.deepEqual([c.inputs.image, c.outputs.logits, c.patchSize, c.spatialOrder, c.spacing], ['input', 'output', [96, 112, 128], 'ijk', null]);
  assert.deepEqual(c.normalization, { '*': { method: 'none' } });
  assert.equal(Object.keys(c.labels).length, 104, 'channel 0 "background" left out');
  assert.deepEqual([c.labels['1'], c.labels['3'], c.labels['44'], c.labels['104']], ['spleen', 'kidney_left', 'heart_myocardium', 'urinary_bladder']);
  assert.deepEqual([c.name, c.overlap], ['Whole body CT segmentation (fixture)', undefined]);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0], /^metadata\.json states no voxel spacing/);
  assert.match(r.warnings[1], /^metadata\.json states no intensity normalization/);
  // TotalSegmentator v1: the heart comes in five parts, all scored as the heart
  const m = mapModelClasses(c, defaultOrgans);
  assert.deepEqual([44, 45, 46, 47, 48].map((k) => m.lut[k]), [5, 5, 5, 5, 5]);
  assert.deepEqual([13, 14, 15, 16, 17].map((k) => m.lut[k]), [7, 7, 8, 8, 8]);
  const model = await loadModel(onnx);
  await model.close();
  assert.equal(model.cardSource, 'monai-bundle');
  // a model at the bundle root finds configs/ beside it
  const root = layout({ 'b/configs/metadata.json': fixture('monai-wholebody', 'configs', 'metadata.json'), 'b/net.onnx': fixture('plain.onnx') });
  assert.equal(resolveCard(path.join(root, 'b', 'net.onnx')).source, 'monai-bundle');
});

test('monai-bundle: wrong types and unusable formats fail with the key path; unknown keys warn', () => {
  const meta = () => json('monai-wholebody', 'configs', 'metadata.json');
  const bundle = (m: object) => {
    const dir = layout({ 'configs/metadata.json': m, 'models/model.onnx': fixture('plain.onnx') });
    return { onnx: path.join(dir, 'models', 'model.onnx'), file: path.join(dir, 'configs', 'metadata.json') };
  };
  const ndf = (m: Record<string, unknown>) => m.network_data_format as { inputs: { image: Record<string, unknown> }; outputs: { pred: Record<string, unknown> } };
  let m = meta();
  ndf(m).inputs.image.num_channels = 2;
  ndf(m).outputs.pred.channel_def = { '0': 'background', '1': 5, x: 'liver' };
  let b = bundle(m);
  cardError(() => resolveCard(b.onnx), b.file,
    /metadata\.json: network_data_format\.inputs\.image\.num_channels is 2; UMD Lens feeds one image channel per case/,
    /network_data_format\.outputs\.pred\.channel_def\.1 must be a non-empty name \(got 5\)/,
    /network_data_format\.outputs\.pred\.channel_def\.x: channel keys must be integers/);
  m = meta();
  ndf(m).outputs.pred.format = 'classes';
  ndf(m).inputs.image.spatial_shape = [96, 96];
  b = bundle(m);
  cardError(() => resolveCard(b.onnx), b.file, /outputs\.pred\.format must be "labels" or "segmentation"/, /inputs\.image\.spatial_shape \[96,96\] is not 3D/);
  m = meta();
  delete m.network_data_format;
  b = bundle(m);
  cardError(() => resolveCard(b.onnx), b.file, /network_data_format must be an object with "inputs" and "outputs" \(got missing\)/);

  m = meta();
  ndf(m).inputs.image.spatial_shape = ['32*n', '32*n', '32*n'];
  ndf(m).inputs.image.colour = 'grey';
  const r = resolveCard(bundle(m).onnx);
  assert.equal(r.card.patchSize, null);
  assert.deepEqual(r.warnings.slice(0, 2), [
    'metadata.json: unknown key network_data_format.inputs.image.colour (ignored)',
    'metadata.json: network_data_format.inputs.image.spatial_shape ["32*n","32*n","32*n"] is not a fixed size: the whole volume is fed in one run',
  ]);
});

// ---- resolution order -----------------------------------------------------------------------------------

test('resolution order: umd.json, then ONNX metadata, then nnU-Net, then MONAI; none is an error listing them', async () => {
  const dir = layout({
    'model.onnx': fixture('umd-metadata.onnx'),
    'model.umd.json': { ...json('umd-json', 'model.umd.json'), inputs: { image: 'ct' }, outputs: { logits: 'scores' } },
    'dataset.json': fixture('nnunet-totalseg', 'dataset.json'), 'plans.json': fixture('nnunet-totalseg', 'plans.json'),
    'configs/metadata.json': fixture('monai-wholebody', 'configs', 'metadata.json'),
  });
  const onnx = path.join(dir, 'model.onnx');
  const sources: string[] = [];
  const step = async () => {
    const model = await loadModel(onnx);
    await model.close();
    sources.push(model.cardSource);
  };
  await step();
  fs.rmSync(path.join(dir, 'model.umd.json'));
  await step();
  fs.copyFileSync(fixture('plain.onnx'), onnx);
  await step();
  fs.rmSync(path.join(dir, 'dataset.json'));
  await step();
  assert.deepEqual(sources, ['umd.json', 'onnx-metadata', 'nnunet', 'monai-bundle']);
  fs.rmSync(path.join(dir, 'configs'), { recursive: true });
  cardError(() => resolveCard(onnx), path.join(dir, 'model.umd.json'),
    /model\.umd\.json: model card not found: .*a "umd" entry in the model's metadata_props, nnU-Net's dataset\.json \+ plans\.json, or a MONAI bundle's configs\/metadata\.json \(found plans\.json but not dataset\.json: nnU-Net needs both\)/);
});

test('a derived card needs a model with one input and one output', () => {
  const dir = layout({ 'model.onnx': fixture('two-inputs.onnx'), 'dataset.json': fixture('nnunet-totalseg', 'dataset.json'), 'plans.json': fixture('nnunet-totalseg', 'plans.json') });
  const onnx = path.join(dir, 'model.onnx');
  cardError(() => resolveCard(onnx), onnx, /the nnU-Net files do not name the model's tensors, and the model has inputs "image", "prompt" and outputs "logits": write model\.umd\.json/);
  // pre-IR-4 weights among the inputs do not count as inputs
  const old = layout({ 'model.onnx': fixture('weights-as-inputs.onnx'), 'dataset.json': fixture('nnunet-totalseg', 'dataset.json'), 'plans.json': fixture('nnunet-totalseg', 'plans.json') });
  assert.equal(resolveCard(path.join(old, 'model.onnx')).card.inputs.image, 'input');
});

// ---- organ synonyms -------------------------------------------------------------------------------------

test('synonym table: one entry per UMD organ, no name claimed twice, lookups case- and separator-insensitive', () => {
  assert.deepEqual(Object.keys(ORGAN_SYNONYMS).sort(), DEFAULT_ORGANS.map((o) => o.name).sort());
  const all = Object.values(ORGAN_SYNONYMS).flat();
  assert.equal(new Set(all).size, all.length);
  for (const [organ, names] of Object.entries(ORGAN_SYNONYMS)) for (const n of names) assert.equal(umdOrganFor(n), organ, n);
  assert.equal(umdOrganFor('Kidney_Left'), 'left kidney');
  assert.equal(umdOrganFor('LEFT-KIDNEY'), 'left kidney');
  assert.equal(umdOrganFor('gall bladder'), 'gallbladder');
  assert.equal(umdOrganFor('arota'), 'aorta');
  assert.equal(umdOrganFor('Urinary Bladder'), 'bladder');
  assert.equal(umdOrganFor('kidney_cyst_left'), undefined);
  assert.equal(umdOrganFor('pulmonary_artery'), undefined);
});

const cardWith = (labels: Record<string, string>, organMap?: Record<string, string | null>): ModelCard =>
  ({ labels, ...(organMap ? { organMap } : {}) }) as unknown as ModelCard;
const tsLabels = (file: string): Record<string, string> => (JSON.parse(fs.readFileSync(file, 'utf8')) as { labels: Record<string, string> }).labels;

test('TotalSegmentator v2 "total" and "total_mr" class lists (real files) reach all 13 UMD organs', () => {
  const real = realDataDir();
  const total = tsLabels(path.join(real, 'ct-abdomen', 'labels_total.json'));
  const m = mapModelClasses(cardWith(total), defaultOrgans);
  const classesOf = (organ: string) => m.matches.filter((x) => x.organ === organ).map((x) => x.modelName);
  assert.deepEqual(new Set(m.matches.map((x) => x.organ)), new Set(DEFAULT_ORGANS.map((o) => o.name)));
  assert.deepEqual(classesOf('left lung'), ['lung_upper_lobe_left', 'lung_lower_lobe_left']);
  assert.deepEqual(classesOf('right lung'), ['lung_upper_lobe_right', 'lung_middle_lobe_right', 'lung_lower_lobe_right']);
  assert.deepEqual(classesOf('heart'), ['heart', 'atrial_appendage_left']);
  assert.deepEqual(classesOf('bladder'), ['urinary_bladder']);
  assert.deepEqual(classesOf('left kidney'), ['kidney_left']);
  assert.deepEqual(m.matches.find((x) => x.modelName === 'liver')?.by, 'name');
  assert.deepEqual(m.matches.find((x) => x.modelName === 'kidney_left')?.by, 'synonym');
  assert.ok(m.unmatched.includes('kidney_cyst_left') && m.unmatched.includes('pulmonary_vein'));
  assert.equal(m.matches.length + m.unmatched.length, 117);

  const mr = mapModelClasses(cardWith(tsLabels(path.join(real, 'mr-abdomen', 'labels_total_mr.json'))), defaultOrgans);
  assert.deepEqual(new Set(mr.matches.map((x) => x.organ)), new Set(DEFAULT_ORGANS.map((o) => o.name)));
  assert.deepEqual(mr.matches.filter((x) => x.organ === 'left lung').map((x) => x.modelName), ['lung_left']);
});

test('a real TotalSegmentator segmentation mapped to UMD ids: the left lung is the union of its two lobes', () => {
  const real = realDataDir();
  const seg = readLabels(path.join(real, 'ct-abdomen', 'example_seg_fast_force_split.nii.gz'));
  const { lut } = mapModelClasses(cardWith(tsLabels(path.join(real, 'ct-abdomen', 'labels_total.json'))), defaultOrgans);
  const umd = applyMapping(seg.data, lut);
  const count = (data: ArrayLike<number>, ids: number[]) => {
    let n = 0;
    for (let v = 0; v < data.length; v++) if (ids.includes(data[v])) n++;
    return n;
  };
  const lobes = count(seg.data, [10, 11]);
  assert.ok(count(seg.data, [10]) > 0 && count(seg.data, [11]) > 0, 'both left lobes present');
  assert.equal(count(umd, [7]), lobes);
  assert.equal(count(umd, [8]), count(seg.data, [12, 13, 14]));
  assert.equal(count(umd, [3]), count(seg.data, [3]), 'kidney_left -> left kidney (3)');
  assert.equal(count(umd, [1]), count(seg.data, [5]), 'liver: TotalSegmentator 5 -> UMD 1');
  assert.equal(count(umd, [10]), count(seg.data, [21]), 'urinary_bladder -> bladder (10)');
});

test('mapping: organMap wins over synonyms and can drop a class; synonyms work from the dataset side; an organ split finer matches by name only', () => {
  const m = mapModelClasses(cardWith({ '1': 'kidney_left', '2': 'heart_myocardium', '3': 'spleen' }, { kidney_left: 'right kidney', Heart_Myocardium: null, spleen: 'milz' }), defaultOrgans);
  assert.deepEqual([...m.lut], [0, 4, 0, 0]);
  assert.deepEqual(m.excluded, ['heart_myocardium']);
  assert.deepEqual(m.unmatched, ['spleen (organMap: "milz")']);
  // a dataset that names its organs TotalSegmentator's way, a model that uses UMD names
  const tsDataset: OrganMap = { byId: new Map([[1, 'kidney_left'], [2, 'liver'], [3, 'lung_upper_lobe_left'], [4, 'lung_lower_lobe_left']]) };
  const u = mapModelClasses(cardWith({ '1': 'left kidney', '2': 'Liver', '3': 'left lung', '4': 'lung_lower_lobe_left' }), tsDataset);
  assert.deepEqual([...u.lut], [0, 1, 2, 0, 4]);
  assert.deepEqual(u.unmatched, ['left lung'], 'two dataset lobes stand for the left lung: no single organ to score it against');
});
