/**
 * Metrics on cases with known answers: overlap counts, the exact distance transform against brute force, surface
 * metrics on shapes whose distances are known by construction, symmetry, borders and the empty-mask rules.
 * Agreement with DeepMind's own library on spheres, cubes and real labels is in metricsReference.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { axisAlignedAffine } from '../../src/core/geometry/affine';
import { resampleNearest } from '../../src/core/geometry/resample';
import { readLabels } from '../../src/core/nifti/read';
import { realDataDir } from '../helpers/realData';
import { caseMetrics } from '../../src/core/metrics/caseMetrics';
import { squaredDistanceMm2 } from '../../src/core/geometry/distanceTransform';
import { squaredDistanceAtMm2, type Dims3 } from '../../src/core/metrics/edt';
import { cropLabel, scanLabels } from '../../src/core/metrics/labelScan';
import { pairwiseSum } from '../../src/core/metrics/numpySum';
import { makeProtocol, parseToleranceArg, toleranceFor } from '../../src/core/metrics/protocol';
import { scoreSurfaces, surfaceDistances } from '../../src/core/metrics/surface';
import { surfelAreaTable } from '../../src/core/metrics/surfelAreas';
import { deriveAreaVectors } from '../../src/core/metrics/surfelGeometry';
import embeddedAreaVectors from 'surfel-area-vectors';
import { SurfacePool } from '../../src/core/metrics/surfacePool';
import { lcg } from '../helpers/random';

type Box = [number, number, number, number, number, number];

/** Label map of `dims` with axis-aligned boxes [i0, j0, k0, i1, j1, k1) set to their labels. */
function labelMap(dims: Dims3, boxes: Array<[number, Box]>): Uint8Array {
  const out = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (const [label, [i0, j0, k0, i1, j1, k1]] of boxes) {
    for (let k = k0; k < k1; k++) for (let j = j0; j < j1; j++) for (let i = i0; i < i1; i++) out[i + dims[0] * (j + dims[1] * k)] = label;
  }
  return out;
}

function surfaceOf(dims: Dims3, gt: Uint8Array, pred: Uint8Array, spacing: [number, number, number], tau: number) {
  const scan = scanLabels(gt, pred, dims);
  return scoreSurfaces(surfaceDistances(cropLabel(gt, pred, dims, 1, scan.boxes.get(1)!), spacing), tau);
}

test('one pass counts tp/fp/fn and finds the union box per label', () => {
  const dims: Dims3 = [20, 20, 20];
  const gt = labelMap(dims, [[1, [2, 2, 2, 12, 12, 12]], [2, [15, 15, 15, 17, 18, 19]]]);
  const pred = labelMap(dims, [[1, [4, 2, 2, 14, 12, 12]], [3, [0, 0, 0, 1, 1, 1]]]);
  const { counts, boxes } = scanLabels(gt, pred, dims);
  assert.deepEqual(counts.get(1), { tp: 800, fp: 200, fn: 200 });
  assert.deepEqual(counts.get(2), { tp: 0, fp: 0, fn: 2 * 3 * 4 });
  assert.deepEqual(counts.get(3), { tp: 0, fp: 1, fn: 0 });
  assert.deepEqual(boxes.get(1), { lo: [2, 2, 2], hi: [13, 11, 11] });
  assert.deepEqual(boxes.get(2), { lo: [15, 15, 15], hi: [16, 17, 18] });
  assert.throws(() => scanLabels(gt, pred.subarray(1), dims), /differ in size/);
});

test('exact EDT equals brute force on random features at anisotropic spacing, bit for bit', () => {
  const dims: Dims3 = [9, 7, 6];
  const s: [number, number, number] = [0.7, 1.3, 2.9];
  const rand = lcg(12345, 'uint32');
  const f = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let v = 0; v < f.length; v++) f[v] = rand() < 0.04 ? 1 : 0;
  const feats: number[][] = [];
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) if (f[i + dims[0] * (j + dims[1] * k)]) feats.push([i, j, k]);
  assert.ok(feats.length > 3);
  const d = squaredDistanceMm2(f, dims, s);
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) {
    let best = Infinity;
    // summed in scipy's order: ((d0 s0)^2 + (d1 s1)^2) + (d2 s2)^2
    for (const [a, b, c] of feats) best = Math.min(best, ((i - a) * s[0]) ** 2 + ((j - b) * s[1]) ** 2 + ((k - c) * s[2]) ** 2);
    assert.equal(d[i + dims[0] * (j + dims[1] * k)], best, `voxel ${i},${j},${k}`);
  }
  assert.ok(squaredDistanceMm2(new Uint8Array(8), [2, 2, 2], s).every((x) => x === Infinity), 'no feature: infinite');
  // the search at query voxels gives the full transform's values bit for bit
  const featIdx = Int32Array.from(f.keys()).filter((v) => f[v] === 1);
  const queries = Int32Array.from({ length: 60 }, () => Math.floor(rand() * f.length));
  const at = squaredDistanceAtMm2(featIdx, queries, dims, s);
  queries.forEach((q, x) => assert.equal(at[x], d[q], `query ${q}`));
  // features in one corner, queries far away: past the work budget the full transform answers, same values
  const corner = Int32Array.of(0);
  const far = Int32Array.from({ length: f.length }, (_, v) => v);
  const all = squaredDistanceAtMm2(corner, far, dims, s);
  const one = new Uint8Array(f.length); one[0] = 1;
  assert.deepEqual(all, squaredDistanceMm2(one, dims, s));
});

test('pairwise sum rounds as numpy.sum does (differs from a running sum)', () => {
  const xs = Float64Array.from({ length: 1000 }, (_, i) => 0.1 * ((i % 7) + 1) + 1e-3 * i);
  let running = 0;
  for (const x of xs) running += x;
  // numpy 1.24: np.sum(xs) == 899.2 while a running sum gives 899.1999999999999
  assert.equal(pairwiseSum(xs), 899.2);
  assert.equal(running, 899.1999999999999);
  assert.notEqual(running, pairwiseSum(xs));
});

test('surfel areas: the geometry embedded at build time is the derivation, number for number', () => {
  // JSON writes -0 as 0 (squared in every area, so the same areas)
  const derived = deriveAreaVectors().map((v) => v.map((x) => x + 0));
  assert.equal(embeddedAreaVectors.length, 256);
  assert.deepEqual(embeddedAreaVectors, derived);
  // a single-voxel code: 8 triangles (the octahedron's face in this cell), 3 numbers each
  assert.equal(derived[1].length, 3);
  assert.equal(derived[0].length, 0);
});

test('surfel areas: a single voxel is the marching-cubes octahedron, sqrt(b²c² + a²c² + a²b²) mm²', () => {
  for (const [a, b, c] of [[1, 1, 1], [0.8, 1.0, 2.5], [3, 0.5, 1.25]] as const) {
    const t = surfelAreaTable([a, b, c]);
    const single = [1, 2, 4, 8, 16, 32, 64, 128].map((code) => t[code]);
    const expected = Math.sqrt(b * b * c * c + a * a * c * c + a * a * b * b) / 8;
    for (const x of single) assert.ok(Math.abs(x - expected) < 1e-12, `${x} vs ${expected}`);
    assert.equal(t[0], 0);
    assert.equal(t[255], 0);
    // a flat face: 4 corners on one side of x0 -> a square of area b*c inside the cell
    assert.ok(Math.abs(t[0b11110000] - b * c) < 1e-12 && Math.abs(t[0b00001111] - b * c) < 1e-12);
  }
});

test('single voxels 3 voxels apart along k (3 mm): distances 6 and 9 mm, known NSD, HD95, HD, ASSD', () => {
  const dims: Dims3 = [5, 5, 9];
  const spacing: [number, number, number] = [1, 2, 3];
  const gt = labelMap(dims, [[1, [2, 2, 2, 3, 3, 3]]]);
  const pred = labelMap(dims, [[1, [2, 2, 5, 3, 3, 6]]]);
  const s = surfaceOf(dims, gt, pred, spacing, 6);
  // each voxel's 8 surfels have equal area; 4 corners face the other voxel (6 mm), 4 are one voxel further (9 mm)
  assert.equal(s.hd, 9);
  assert.equal(s.hd95, 9);
  assert.equal(s.assd, 7.5);
  assert.equal(s.nsd, 0.5);
  assert.equal(surfaceOf(dims, gt, pred, spacing, 5.99).nsd, 0);
  assert.ok(Math.abs(s.surface_gt_mm2 - Math.sqrt(36 + 9 + 4)) < 1e-12, `area ${s.surface_gt_mm2}`);
});

test('identical masks score perfectly; swapping gt and prediction changes no surface score', () => {
  const dims: Dims3 = [24, 20, 16];
  const spacing: [number, number, number] = [0.8, 1.1, 2.5];
  const a = labelMap(dims, [[1, [3, 4, 2, 15, 14, 10]], [1, [10, 2, 6, 20, 8, 14]]]);
  const b = labelMap(dims, [[1, [5, 3, 3, 17, 15, 9]], [1, [12, 5, 8, 21, 9, 15]]]);
  const same = surfaceOf(dims, a, a, spacing, 1);
  assert.deepEqual([same.nsd, same.hd95, same.hd, same.assd], [1, 0, 0, 0]);
  const ab = surfaceOf(dims, a, b, spacing, 1.5);
  const ba = surfaceOf(dims, b, a, spacing, 1.5);
  assert.ok(ab.nsd > 0.2 && ab.nsd < 0.9, `nsd ${ab.nsd}`);
  assert.ok(Math.abs(ab.nsd - ba.nsd) < 1e-12 && ab.hd95 === ba.hd95 && ab.hd === ba.hd && Math.abs(ab.assd - ba.assd) < 1e-12);
  assert.ok(ab.hd >= ab.hd95 && ab.hd95 >= ab.assd);
});

test('a mask touching the volume border has a closed surface: same scores as inside a larger volume', () => {
  const small: Dims3 = [10, 10, 10];
  const gt = labelMap(small, [[1, [0, 0, 0, 6, 7, 10]]]);
  const pred = labelMap(small, [[1, [0, 1, 0, 7, 7, 9]]]);
  const big: Dims3 = [14, 14, 14];
  const gtBig = labelMap(big, [[1, [2, 2, 2, 8, 9, 12]]]);
  const predBig = labelMap(big, [[1, [2, 3, 2, 9, 9, 11]]]);
  const spacing: [number, number, number] = [1.5, 1, 0.5];
  assert.deepEqual(surfaceOf(small, gt, pred, spacing, 1), surfaceOf(big, gtBig, predBig, spacing, 1));
});

test('empty-mask rules: both-empty null, false-positive and missed score 0 with null distances; pool = inline', async () => {
  const dims: Dims3 = [16, 16, 16];
  const gt = labelMap(dims, [[1, [2, 2, 2, 8, 8, 8]], [2, [9, 9, 9, 12, 12, 12]]]);
  const pred = labelMap(dims, [[1, [3, 2, 2, 9, 8, 8]], [3, [0, 0, 0, 2, 2, 2]]]);
  const grid = { dims, affine: axisAlignedAffine([1.5, 1.5, 2], [0, 0, 0]) };
  const protocol = makeProtocol('umd', [['cli', { '1': 3 }]]);
  const labels = [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }];
  const pool = new SurfacePool(2);
  const inWorkers = await caseMetrics(grid, gt, pred, labels, protocol, pool);
  await pool.close();
  const inline = await caseMetrics(grid, gt, pred, labels, protocol);
  assert.ok(pool.threads === 0, 'closed');
  assert.deepEqual(inWorkers, inline, 'workers and inline give identical scores');
  const [ok, missed, fp, none] = [1, 2, 3, 4].map((id) => inline.get(id)!);
  assert.equal(ok.status, 'ok');
  assert.equal(ok.tau_mm, 3);
  assert.equal(ok.nsd, 1, 'a 1.5 mm shift is within 3 mm everywhere');
  assert.equal(ok.hd, 1.5);
  assert.ok(Math.abs(ok.volume_error_ml) < 1e-12);
  assert.deepEqual([missed.status, missed.dice, missed.iou, missed.nsd, missed.hd95, missed.hd, missed.assd, missed.tau_mm], ['missed', 0, 0, 0, null, null, null, 1]);
  assert.deepEqual([fp.status, fp.dice, fp.nsd, fp.hd95], ['false-positive', 0, 0, null]);
  assert.ok(Math.abs(fp.volume_pred_ml - 8 * 4.5 / 1000) < 1e-15);
  assert.deepEqual([none.status, none.dice, none.iou, none.nsd, none.hd95, none.volume_gt_ml], ['both-empty', null, null, null, null, 0]);
});

test('protocols: umd 1 mm, cvpr25 2 mm, overrides by organ with their source; --tau syntax', () => {
  assert.equal(makeProtocol('umd').toleranceMm.default, 1);
  assert.equal(makeProtocol('cvpr25').toleranceMm.default, 2);
  const p = makeProtocol('umd', [['card', { liver: 2, '*': 1.5 }], ['cli', { pancreas: 0.5 }]]);
  assert.equal(p.custom, true);
  assert.equal(toleranceFor(p, 'liver', 5), 2);
  assert.equal(toleranceFor(p, 'pancreas', 7), 0.5);
  assert.equal(toleranceFor(p, 'spleen', 1), 1.5);
  assert.equal(p.toleranceMm.organs.liver.source, 'card');
  assert.deepEqual(parseToleranceArg('2'), { '*': 2 });
  assert.deepEqual(parseToleranceArg('liver=2, 5=1.5'), { liver: 2, '5': 1.5 });
  assert.throws(() => parseToleranceArg('liver=-1'), /--tau: "liver=-1"/);
  assert.throws(() => makeProtocol('umd', [['card', { liver: Number.NaN }]]), /"liver" from the card/);
});

test('real STS GTV masks across grids: PET mask on the CT grid is within half a PET voxel; the MR mask is the same contour', async () => {
  const protocol = makeProtocol('cvpr25');
  for (const sts of ['STS_002', 'STS_008']) {
    const dir = path.join(realDataDir(), 'sts-petctmr', sts);
    const ct = readLabels(path.join(dir, 'CT_mask.nii.gz'));
    const pet = readLabels(path.join(dir, 'PET_mask.nii.gz'));
    const mr = readLabels(path.join(dir, 'MR_T1_mask.nii.gz'));
    const petMm = Math.hypot(pet.affine[0], pet.affine[4], pet.affine[8]);
    const onCt = async (m: typeof pet) => (await caseMetrics(ct, ct.data, resampleNearest(m, ct).data, [{ id: 1 }], protocol)).get(1)!;
    const p = await onCt(pet);
    assert.ok(p.dice! > 0.9 && p.dice! < 0.95, `${sts} PET dice ${p.dice}`);
    // the PET contour is drawn on 4.7-5.5 mm voxels: boundaries disagree by up to about half a PET voxel
    assert.ok(p.hd95! > 0 && p.hd95! <= petMm / 2, `${sts} hd95 ${p.hd95} vs PET voxel ${petMm}`);
    assert.ok(p.hd! <= petMm && p.assd! < 1 && p.nsd! > 0.8 && p.nsd! < 1, JSON.stringify(p));
    const m = await onCt(mr);
    assert.deepEqual([m.dice, m.nsd, m.hd95, m.hd, m.assd], [1, 1, 0, 0, 0], `${sts} MR mask`);
    // ignoring the affines (same voxel index = same place) puts the PET mask centimetres away
    const byIndex = { ...pet, affine: ct.affine };
    const wrong = await onCt(byIndex);
    assert.ok(wrong.hd95 === null || wrong.hd95 > 20, `${sts} index-aligned hd95 ${wrong.hd95}`);
  }
});
