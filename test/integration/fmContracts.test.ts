/**
 * The foundation-model contracts of docs/foundation-models.md sections 2-4 through the whole evaluation
 * (evaluateRun on a 1-subject UMD-mini phantom), with the hand-set demo networks of models/contracts; what each
 * network computes is in models/training/build_contract_demos.py, the per-call checks in test/unit/fmChannels.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateRun } from '../../src/core/evaluate/evaluateRun';
import type { EvaluateEvent } from '../../src/core/evaluate/evaluateApi';
import { readImage, readLabels } from '../../src/core/nifti/read';
import { isCaseError, type OrganRecord } from '../../src/core/runstore/schema';
import { phantomDataset } from '../helpers/phantomDataset';
import { repoRoot } from '../helpers/realData';

const MODELS = path.join(repoRoot(), 'models', 'contracts');
let data: string;
before(async () => {
  data = await phantomDataset('fm-contracts-', 1, 1);
});
after(() => fs.rmSync(data, { recursive: true, force: true }));

async function evaluate(model: string, run: string, prompt?: Parameters<typeof evaluateRun>[0]['prompt']) {
  const events: EvaluateEvent[] = [];
  const res = await evaluateRun({ modelPath: path.join(MODELS, `${model}.onnx`), datasetRoot: data, runDir: path.join(data, run), prompt, metricThreads: 1, onEvent: (e) => events.push(e) });
  assert.deepEqual(res.records.filter(isCaseError).map((r) => r.error), [], 'no case failed');
  const errors = events.flatMap((e) => (e.type === 'log' && e.level === 'error' ? [e.message] : []));
  return { res, organs: res.records.filter((r): r is OrganRecord => !isCaseError(r)), errors };
}

test('interaction channels (fm-interactive, clicks:3): every case runs, each click grows the mask from the previous one', async () => {
  const { organs, errors } = await evaluate('fm-interactive', 'run-interactive', { kind: 'clicks', n: 3 });
  assert.deepEqual(errors, []);
  const prompted = organs.filter((r) => r.prompt?.kind === 'clicks');
  assert.ok(prompted.length >= 40, `${prompted.length} organs prompted over the 4 images`);
  // the network keeps the previous mask, grown by a voxel: a second click on a miss adds at least that growth
  const grew = prompted.filter((r) => r.clicks!.length >= 2 && r.clicks![1].dice !== r.clicks![0].dice);
  assert.ok(grew.length >= 10, `${grew.length} organs changed on click 2`);
  for (const r of prompted) assert.equal(r.dice, r.clicks![r.clicks!.length - 1].dice);
});

test('class-id prompts (fm-classid): the asked classes come back as their organs, voxel for voxel the largest logit > 0', async () => {
  const { organs, errors, res } = await evaluate('fm-classid', 'run-classid');
  assert.deepEqual(errors, []);
  const ct = organs.filter((r) => r.modality === 'CT' && r.study === 'PETCT');
  assert.equal(ct.length, 13, 'every organ of the dataset is scored (the ones not asked as empty predictions)');
  const pred = readLabels(path.join(res.runDir, ct[0].pred!));
  const hu = readImage(path.join(data, 'PETCT', 'sub-001', 'CT.nii.gz')).data;
  // card classes 1 liver, 6 aorta, 7 left lung = the dataset's ids of those organs
  let bad = 0;
  for (let v = 0; v < hu.length; v++) if (pred.data[v] !== (hu[v] >= 200 ? 6 : hu[v] >= 1 ? 1 : hu[v] <= -501 ? 7 : 0)) bad++;
  assert.equal(bad, 0);
  const liver = ct.find((r) => r.organ === 'liver')!;
  assert.ok(liver.volume_pred_ml! > liver.volume_gt_ml!, 'liver class = every voxel of 1..199 HU');
  assert.equal(ct.find((r) => r.organ === 'heart')!.volume_pred_ml, 0, 'heart was not asked');
});

test('text embeddings (fm-text, promptable): an organ with a row is prompted, one without is an error naming it, the run goes on', async () => {
  const { organs, errors } = await evaluate('fm-text', 'run-text', { kind: 'center' });
  const withRow = new Set(['liver', 'spleen', 'left kidney', 'right kidney']);
  assert.deepEqual([...new Set(organs.map((r) => r.organ))].sort(), [...withRow].sort());
  assert.equal(organs.length, 16, '4 organs x 4 images');
  for (const r of organs) assert.equal(r.prompt?.kind, 'center');
  assert.equal(errors.length, 9 * 4, errors.join('\n'));
  assert.ok(errors.some((m) => /PETCT.*: no text embedding row for organ "heart" \(CT\) in .*fm-text\.text\.f32 \(rows: liver, liver \(PET\), spleen, left kidney, kidney_right\): not prompted, not scored/.test(m)), errors[0]);
  // liver: a ball of radius 3.5 crop voxels (4 mm) on CT, 5.5 on PET (its modality's row)
  const liverCt = organs.find((r) => r.organ === 'liver' && r.modality === 'CT')!;
  const liverPet = organs.find((r) => r.organ === 'liver' && r.modality === 'PET' && r.study === 'PETCT')!;
  assert.ok(liverPet.volume_pred_ml! > 3 * liverCt.volume_pred_ml!, `${liverPet.volume_pred_ml} vs ${liverCt.volume_pred_ml} ml`);
  // spleen's row has a negative sign: everything of the crop but a ball
  const spleen = organs.find((r) => r.organ === 'spleen' && r.modality === 'CT')!;
  assert.ok(spleen.volume_pred_ml! > 10 * liverCt.volume_pred_ml!, `${spleen.volume_pred_ml} vs ${liverCt.volume_pred_ml} ml`);
});

test('text queries (fm-textquery, semantic): classes with a row are asked, heart (no row) is an error and left unscored', async () => {
  const { organs, errors, res } = await evaluate('fm-textquery', 'run-textquery');
  assert.equal(errors.length, 4, errors.join('\n'));
  for (const m of errors) assert.match(m, /no text embedding row for organ "heart" \((CT|PET|MRI)\) in .*fm-textquery\.text\.f32/);
  assert.equal(organs.filter((r) => r.organ === 'heart').length, 0);
  assert.equal(organs.length, 12 * 4);
  // card classes 1 liver (HU - 0.5), 2 left lung (row "lung_left": -HU - 500.5), 3 aorta (2 HU - 200.25), as the
  // dataset's organs 1, 7 and 6
  const ct = organs.find((r) => r.organ === 'left lung' && r.modality === 'CT')!;
  const pred = readLabels(path.join(res.runDir, ct.pred!));
  const hu = readImage(path.join(data, 'PETCT', 'sub-001', 'CT.nii.gz')).data;
  let bad = 0;
  for (let v = 0; v < hu.length; v++) if (pred.data[v] !== (hu[v] >= 200 ? 6 : hu[v] >= 1 ? 1 : hu[v] <= -501 ? 7 : 0)) bad++;
  assert.equal(bad, 0);
  assert.ok(ct.tp! > 0.9 * (ct.tp! + ct.fn!), 'the lung is inside the class (with the air around the body)');
});
