/**
 * The viewer's voxel arithmetic (src/webview/errorMap.ts) on a small volume whose answer is known by hand:
 * error codes, the worst slice along the axis that is axial in the world, the centroid, and voxel <-> mm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axialAxis, ERROR, mmToVox, organCentroid, voxToMm, worstSlice, writeErrorMap, type Vec3 } from '../../src/webview/errorMap';

const dims: Vec3 = [4, 3, 5];
const idx = (i: number, j: number, k: number) => (k * dims[1] + j) * dims[0] + i;

test('error map: TP, FP and FN of one organ; other labels ignored', () => {
  const gt = new Uint8Array(60), pred = new Uint8Array(60), out = new Int16Array(60);
  gt[idx(1, 1, 2)] = 5; pred[idx(1, 1, 2)] = 5; // TP
  pred[idx(2, 1, 2)] = 5; pred[idx(3, 1, 2)] = 5; // FP
  gt[idx(0, 0, 4)] = 5; // FN
  gt[idx(0, 2, 1)] = 7; pred[idx(1, 2, 1)] = 7; // another organ
  assert.deepEqual(writeErrorMap(out, gt, pred, 5), { tp: 1, fp: 2, fn: 1 });
  assert.equal(out[idx(1, 1, 2)], ERROR.tp);
  assert.equal(out[idx(3, 1, 2)], ERROR.fp);
  assert.equal(out[idx(0, 0, 4)], ERROR.fn);
  assert.equal(out[idx(0, 2, 1)], ERROR.none);
  // organ 0: every label is the organ
  assert.deepEqual(writeErrorMap(out, gt, pred, 0), { tp: 1, fp: 3, fn: 2 });
  const w = worstSlice(writeErrorMap(out, gt, pred, 5) && out, dims, 2);
  assert.deepEqual(w, { axis: 2, index: 2, errors: 2, voxel: [3, 1, 2] }); // (2 + 3) / 2 = 2.5 rounds to 3
  assert.deepEqual(worstSlice(out, dims, 0), { axis: 0, index: 0, errors: 1, voxel: [0, 0, 4] }); // tie: lowest index
  assert.deepEqual(organCentroid(gt, dims, 5), [1, 1, 3]);
  assert.equal(organCentroid(gt, dims, 9), undefined);
  assert.equal(worstSlice(new Uint8Array(60), dims, 2), undefined);
});

test('axial axis and voxel <-> mm follow the affine (permuted, flipped, anisotropic)', () => {
  const ras = [[3, 0, 0, -10], [0, 3, 0, 5], [0, 0, 3, 100], [0, 0, 0, 1]];
  // k along anterior-posterior, j along superior (a coronal acquisition), LPS-like flips
  const coronal = [[-0.8, 0, 0, 60], [0, 0, -2.5, 30], [0, 4, 0, -200], [0, 0, 0, 1]];
  assert.equal(axialAxis(ras), 2);
  assert.equal(axialAxis(coronal), 1);
  for (const A of [ras, coronal]) {
    for (const v of [[0, 0, 0], [3, 2, 4], [10, 7, 1]] as Vec3[]) assert.deepEqual(mmToVox(A, voxToMm(A, v)), v);
  }
  assert.deepEqual(voxToMm(coronal, [1, 2, 3]), [59.2, 22.5, -192]);
});
