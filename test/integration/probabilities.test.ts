/**
 * Probability maps from a real run: the CT-only demo checkpoint on a one-subject UMD-mini through the real CLI,
 * `--probabilities liver,spleen`: one float32 .nii.gz per case and organ, on the model's grid, consistent with the
 * prediction that was scored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { voxelToWorld, worldToVoxel } from '../../src/core/geometry/affine';
import { readImage, readLabels } from '../../src/core/nifti/read';
import { readRun } from '../../src/core/runstore/runStore';
import { repoRoot } from '../helpers/realData';
import { CLI } from '../helpers/cli';
import { phantomDataset } from '../helpers/phantomDataset';

const ROOT = repoRoot();
const MODEL = path.join(ROOT, 'models', 'umd-mini-ct-only.onnx');

test('evaluate --probabilities: per case and organ maps that agree with the scored prediction', { timeout: 600_000 }, async () => {
  const data = await phantomDataset('umd-prob-', 1, 3);
  const out = path.join(data, 'run');
  const r = spawnSync(process.execPath, [CLI, 'evaluate', MODEL, '--data', data, '--out', out, '--probabilities', 'liver,spleen', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const run = readRun(out);
  const ct = run.cases.filter((c) => c.modality === 'CT' && c.study === 'PETCT');
  const liver = ct.find((c) => c.organ === 'liver')!;
  assert.equal(liver.probabilities, path.join('prob', 'PETCT_sub-001_CT', 'liver.nii.gz'));
  assert.equal(ct.find((c) => c.organ === 'heart')!.probabilities, undefined, 'only the organs asked for');
  // every case has both maps, and nothing else was written there
  for (const id of new Set(run.cases.map((c) => `${c.study}_${c.subject}_${c.modality}`))) {
    assert.deepEqual(fs.readdirSync(path.join(out, 'prob', id)).sort(), ['liver.nii.gz', 'spleen.nii.gz']);
  }

  // the map is float32 in [0, 1] on the card's 4 mm grid; where it says liver (p > 0.5), the scored prediction
  // (on the labels' grid) says liver too, and the two volumes agree
  const prob = readImage(path.join(out, liver.probabilities!));
  const pred = readLabels(path.join(out, liver.pred!));
  const spacing = [0, 1, 2].map((a) => Math.hypot(prob.affine[a], prob.affine[4 + a], prob.affine[8 + a]));
  assert.deepEqual(spacing.map((s) => Number(s.toFixed(3))), [4, 4, 4]);
  let min = Infinity;
  let max = -Infinity;
  let above = 0;
  let agree = 0;
  const [ni, nj, nk] = prob.dims;
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) {
    const p = prob.data[i + ni * (j + nj * k)];
    min = Math.min(min, p);
    max = Math.max(max, p);
    if (p <= 0.5) continue;
    above++;
    const v = worldToVoxel(pred.affine, voxelToWorld(prob.affine, [i, j, k])).map(Math.round);
    if (v.some((x, a) => x < 0 || x >= pred.dims[a])) continue;
    if (pred.data[v[0] + pred.dims[0] * (v[1] + pred.dims[1] * v[2])] === liver.labelId) agree++;
  }
  assert.ok(min >= 0 && max <= 1 && max > 0.99, `probabilities in [0, 1], confident somewhere: ${min}..${max}`);
  assert.ok(above > 100, `${above} voxels above 0.5`);
  assert.ok(agree / above > 0.9, `${agree} of ${above} confident liver voxels are liver in the prediction`);
  const probMl = (above * 64) / 1000;
  assert.ok(Math.abs(probMl - liver.volume_pred_ml!) / liver.volume_pred_ml! < 0.15, `p > 0.5 volume ${probMl} mL vs predicted ${liver.volume_pred_ml} mL`);

  // an organ the dataset does not have is refused up front, naming the organs
  const bad = spawnSync(process.execPath, [CLI, 'evaluate', MODEL, '--data', data, '--out', path.join(data, 'bad'), '--probabilities', 'livr'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /probabilities asked for "livr", which is not an organ of this dataset \(liver, spleen/);
});
