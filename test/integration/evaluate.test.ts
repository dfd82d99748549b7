/**
 * End to end on real parts: UMD-mini written as real NIfTI files, the committed CT-only demo checkpoint run by
 * onnxruntime-node, scores in a run directory. Bad inputs are mixed in: they become error records and every
 * other case completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { evaluateRun, sha256File } from '../../src/core/evaluate/evaluateRun';
import { readLabels } from '../../src/core/nifti/read';
import { writeNifti } from '../../src/core/nifti/write';
import { axisAlignedAffine } from '../../src/core/geometry/affine';
import { readRun } from '../../src/core/runstore/runStore';
import { repoRoot } from '../helpers/realData';
import { CLI } from '../helpers/cli';
import { phantomDataset } from '../helpers/phantomDataset';

const MODEL = path.join(repoRoot(), 'models', 'umd-mini-ct-only.onnx');

test('evaluate: CT-only demo model scores high on CT, lower on PET; bad cases are errors, the rest complete', { timeout: 900_000 }, async () => {
  const data = await phantomDataset('umd-eval-', 2, 7);
  // a truncated CT in a third subject, and a PET/MRI study without its PET
  const bad = path.join(data, 'PETCT', 'sub-bad');
  fs.mkdirSync(bad);
  const src = path.join(data, 'PETCT', 'sub-001');
  fs.copyFileSync(path.join(src, 'labels.nii.gz'), path.join(bad, 'labels.nii.gz'));
  fs.copyFileSync(path.join(src, 'PET.nii.gz'), path.join(bad, 'PET.nii.gz'));
  const ct = fs.readFileSync(path.join(src, 'CT.nii.gz'));
  fs.writeFileSync(path.join(bad, 'CT.nii.gz'), ct.subarray(0, Math.floor(ct.length / 2)));
  fs.rmSync(path.join(data, 'PETMRI', 'sub-002', 'PET.nii.gz'));

  const runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-runs-'));
  const events: string[] = [];
  const res = await evaluateRun({ modelPath: MODEL, datasetRoot: data, runsRoot, onEvent: (e) => events.push(e.type) });
  assert.ok(res.runDir.startsWith(runsRoot) && /\d{8}-\d{6}-umd-mini-ct-only$/.test(res.runDir), res.runDir);

  const stored = readRun(res.runDir);
  assert.equal(stored.manifest.model.sha256, await sha256File(MODEL));
  assert.equal(stored.manifest.card.kind, 'semantic');
  assert.equal(stored.manifest.cardSource, 'umd.json');
  assert.deepEqual(stored.manifest.cardFiles, [MODEL.replace(/\.onnx$/, '.umd.json')]);
  assert.ok(stored.manifest.finishedAt);
  assert.equal(stored.manifest.dataset.organs['13'], 'gallbladder');
  // how the model's classes became the dataset's organs is kept with the run: the demo card names UMD's organs
  const mapping = stored.manifest.labelMapping!;
  assert.equal(mapping.matches.length, 13);
  assert.ok(mapping.matches.every((m) => m.by === 'name' && m.organ === stored.manifest.dataset.organs[String(m.modelClass)]), JSON.stringify(mapping.matches));
  assert.deepEqual([mapping.excluded, mapping.unmatched], [[], []]);
  // 2 subjects x 4 images + sub-bad PET = 8 good cases (one lost its PET: 7) + sub-bad PET = 8 cases of 13 organs
  const good = stored.cases.filter((r) => r.status !== 'error');
  const errors = stored.cases.filter((r) => r.status === 'error');
  assert.equal(good.length, 8 * 13);
  assert.equal(errors.length, 2);
  const trunc = errors.find((e) => e.subject === 'sub-bad')!;
  assert.equal(trunc.modality, 'CT');
  assert.match(trunc.error!, /sub-bad\/CT\.nii\.gz: (corrupt or truncated gzip|truncated)/);
  const missing = errors.find((e) => e.subject === 'sub-002')!;
  assert.match(missing.error!, /PETMRI\/sub-002\/PET\.nii\.gz: missing PET scan of the PETMRI pair/);
  assert.equal(stored.manifest.counts?.errors, 2);
  assert.deepEqual(stored.cases.length, res.records.length);
  assert.ok(events.includes('case-error') && events.includes('started'));

  // the generalization illusion, reproduced
  const meanOf = (m: string) => res.summary.modalities.find((x) => x.modality === m)!.meanDice!;
  const ctDice = meanOf('CT');
  const petDice = meanOf('PET');
  assert.ok(ctDice > 0.75, `CT mean Dice ${ctDice}`);
  assert.ok(petDice < ctDice - 0.25, `PET mean Dice ${petDice} vs CT ${ctDice}`);
  const liverGap = res.summary.gaps.find((g) => g.organ === 'liver' && g.pair === 'CT-PET' && g.metric === 'dice')!;
  assert.equal(liverGap.n, 2, 'sub-bad has a PET score but no CT one: not a pair');
  assert.ok(liverGap.meanDiff > 0.1, `liver CT-PET gap ${liverGap.meanDiff}`);
  // every scored organ carries the surface metrics of the recorded protocol
  assert.equal(stored.manifest.protocol.name, 'umd');
  assert.equal(stored.manifest.protocol.toleranceMm.default, 1);
  assert.equal(stored.manifest.protocol.toleranceByOrganMm?.pancreas, 1);
  for (const r of good.filter((x) => x.status === 'ok')) {
    assert.ok(r.nsd! >= 0 && r.nsd! <= 1 && r.hd95! >= 0 && r.hd! >= r.hd95! && r.assd! >= 0 && r.tau_mm === 1, JSON.stringify(r));
    assert.equal(r.spacing_mm!.length, 3);
  }
  for (const r of good.filter((x) => x.status === 'missed')) assert.deepEqual([r.dice, r.nsd, r.hd95], [0, 0, null]);
  const nsdOf = (m: string) => res.summary.modalities.find((x) => x.modality === m)!.meanNsd!;
  assert.ok(nsdOf('CT') > nsdOf('PET') + 0.1, `NSD CT ${nsdOf('CT')} vs PET ${nsdOf('PET')}`);
  assert.ok(res.summary.gaps.some((g) => g.metric === 'nsd' && g.pair === 'CT-PET' && g.organ === 'liver'));
  // predictions on the labels' grid, dataset label ids
  const predFile = path.join(res.runDir, good[0].pred!);
  const pred = readLabels(predFile);
  const labels = readLabels(path.join(data, 'PETCT', good[0].subject, 'labels.nii.gz'));
  assert.deepEqual(pred.dims, labels.dims);
  let maxId = 0;
  for (const v of pred.data) if (v > maxId) maxId = v;
  assert.ok(maxId <= 13 && maxId >= 10, `pred label ids up to ${maxId}`);
});

test('CLI: usage errors exit 2; metrics --json on different grids resamples and scores', () => {
  const cli = CLI;
  const none = spawnSync('node', [cli], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stdout, /umd-lens evaluate <model\.onnx>/);
  const unknown = spawnSync('node', [cli, 'evaluate', 'm.onnx', '--bogus'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
  const missing = spawnSync('node', [cli, 'metrics', '/nonexistent/gt.nii.gz', '/nonexistent/p.nii.gz'], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /\/nonexistent\/gt\.nii\.gz: cannot read file \(ENOENT\)/);
  assert.doesNotMatch(missing.stderr, /at .*\.js:\d+/, 'no stack trace');

  // ground truth: a 10 mm cube on a 2 mm grid; prediction: the same cube on a 1 mm grid, same world box
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-cli-'));
  const gt = new Uint8Array(10 * 10 * 10);
  for (let k = 2; k < 7; k++) for (let j = 2; j < 7; j++) for (let i = 2; i < 7; i++) gt[i + 10 * (j + 10 * k)] = 4;
  const pr = new Uint8Array(20 * 20 * 20);
  for (let k = 4; k < 14; k++) for (let j = 4; j < 14; j++) for (let i = 4; i < 14; i++) pr[i + 20 * (j + 20 * k)] = 4;
  writeNifti(path.join(dir, 'gt.nii.gz'), { dims: [10, 10, 10], affine: axisAlignedAffine([2, 2, 2], [0.5, 0.5, 0.5]), data: gt });
  writeNifti(path.join(dir, 'pred.nii.gz'), { dims: [20, 20, 20], affine: axisAlignedAffine([1, 1, 1], [0.1, 0.1, 0.1]), data: pr });
  const m = spawnSync('node', [cli, 'metrics', path.join(dir, 'gt.nii.gz'), path.join(dir, 'pred.nii.gz'), '--labels', '4,5', '--json'], { encoding: 'utf8' });
  assert.equal(m.status, 0, m.stderr);
  const out = JSON.parse(m.stdout);
  assert.equal(out.grid.prediction_resampled, true);
  assert.equal(out.labels['4'].dice, 1);
  assert.equal(out.labels['4'].volume_gt_ml, 1); // 125 voxels of 8 mm^3
  assert.equal(out.labels['5'].status, 'both-empty');
  assert.equal(out.labels['5'].dice, null);
  // identical surfaces: every distance 0; the protocol is recorded with the scores
  assert.deepEqual([out.labels['4'].nsd, out.labels['4'].hd95, out.labels['4'].hd, out.labels['4'].assd, out.labels['4'].tau_mm], [1, 0, 0, 0, 1]);
  assert.deepEqual([out.labels['5'].nsd, out.labels['5'].hd95], [null, null]);
  assert.equal(out.protocol.name, 'umd');
  assert.equal(out.protocol.toleranceMm.default, 1);
  assert.match(out.protocol.emptyRule.missed, /nsd 0, distances null/);

  // the prediction moved by one gt voxel (2 mm) along i: every distance is 0 or 2 mm
  const shifted = new Uint8Array(10 * 10 * 10);
  for (let k = 2; k < 7; k++) for (let j = 2; j < 7; j++) for (let i = 3; i < 8; i++) shifted[i + 10 * (j + 10 * k)] = 4;
  writeNifti(path.join(dir, 'shifted.nii.gz'), { dims: [10, 10, 10], affine: axisAlignedAffine([2, 2, 2], [0.5, 0.5, 0.5]), data: shifted });
  const run = (...args: string[]) => spawnSync('node', [cli, 'metrics', path.join(dir, 'gt.nii.gz'), path.join(dir, 'shifted.nii.gz'), '--json', ...args], { encoding: 'utf8' });
  const umd = JSON.parse(run().stdout).labels['4'];
  const cvpr = JSON.parse(run('--protocol', 'cvpr25').stdout);
  assert.equal(umd.hd, 2);
  assert.equal(umd.dice, 0.8);
  assert.ok(umd.nsd > 0 && umd.nsd < 1, `nsd at 1 mm ${umd.nsd}`);
  assert.equal(cvpr.protocol.name, 'cvpr25');
  assert.equal(cvpr.labels['4'].tau_mm, 2);
  assert.equal(cvpr.labels['4'].nsd, 1, 'every surfel within 2 mm');
  const tau = JSON.parse(run('--tau', '4=2').stdout);
  assert.equal(tau.labels['4'].nsd, 1);
  assert.equal(tau.protocol.custom, true);
  const badTau = run('--tau', 'liver=abc');
  assert.equal(badTau.status, 2);
  assert.match(badTau.stderr, /--tau: "liver=abc"/);
  assert.equal(run('--protocol', 'msd').status, 2);
});
