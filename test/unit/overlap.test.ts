import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisAlignedAffine } from '../../src/core/geometry/affine';
import { countOverlap, overlapByLabel, scoreOverlap } from '../../src/core/metrics/overlap';

/** A 20^3 grid with an axis-aligned box [lo, hi) of `label`. */
function box(label: number, lo: number[], hi: number[], n = 20, into: Uint8Array = new Uint8Array(n * n * n)): Uint8Array {
  for (let k = lo[2]; k < hi[2]; k++) for (let j = lo[1]; j < hi[1]; j++) for (let i = lo[0]; i < hi[0]; i++) into[i + n * (j + n * k)] = label;
  return into;
}

test('Dice of two shifted cubes equals 2|A∩B|/(|A|+|B|) computed by hand', () => {
  const gt = box(1, [2, 2, 2], [12, 12, 12]); // 1000 voxels
  const pred = box(1, [4, 2, 2], [14, 12, 12]); // 1000 voxels, 8x10x10 = 800 shared
  const s = overlapByLabel(gt, pred, axisAlignedAffine([1, 1, 1], [0, 0, 0]), [1]).get(1)!;
  assert.equal(s.tp, 800);
  assert.equal(s.fp, 200);
  assert.equal(s.fn, 200);
  assert.equal(s.dice, 0.8);
  assert.equal(s.status, 'ok');
});

test('volumes use the voxel volume of the affine (anisotropic spacing, mL)', () => {
  const gt = box(3, [0, 0, 0], [10, 10, 10]);
  const s = overlapByLabel(gt, gt, axisAlignedAffine([0.5, 2, 3], [10, -4, 7]), [3]).get(3)!;
  assert.equal(s.dice, 1);
  assert.ok(Math.abs(s.volume_gt_ml - 1000 * 3 / 1000) < 1e-12); // 1000 voxels x 3 mm^3
  assert.ok(Math.abs(s.volume_pred_ml - 3) < 1e-12);
});

test('empty-mask rules: both empty -> null, gt empty -> false-positive 0, pred empty -> missed 0', () => {
  const gt = box(1, [0, 0, 0], [5, 5, 5]);
  const pred = box(2, [10, 10, 10], [12, 12, 12]);
  const scores = overlapByLabel(gt, pred, axisAlignedAffine([1, 1, 1], [0, 0, 0]), [1, 2, 3]);
  assert.deepEqual([scores.get(1)!.status, scores.get(1)!.dice], ['missed', 0]);
  assert.deepEqual([scores.get(2)!.status, scores.get(2)!.dice], ['false-positive', 0]);
  assert.deepEqual([scores.get(3)!.status, scores.get(3)!.dice], ['both-empty', null]);
  assert.equal(scoreOverlap(undefined, axisAlignedAffine([1, 1, 1], [0, 0, 0])).volume_gt_ml, 0);
});

test('multi-label counting in one pass keeps labels apart', () => {
  const gt = box(2, [0, 0, 0], [4, 4, 4], 20, box(1, [10, 10, 10], [14, 14, 14]));
  const pred = box(1, [0, 0, 0], [4, 4, 4], 20, box(2, [10, 10, 10], [14, 14, 14])); // swapped labels
  const c = countOverlap(gt, pred);
  assert.deepEqual(c.get(1), { tp: 0, fp: 64, fn: 64 });
  assert.deepEqual(c.get(2), { tp: 0, fp: 64, fn: 64 });
  assert.throws(() => countOverlap(gt, pred.subarray(1)), /differ in size/);
});
