import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'fflate';
import { axisAlignedAffine, invert, multiply, regrid, spacingMm, voxelToWorld, worldToVoxel } from '../../src/core/geometry/affine';
import { readImage, readLabels, NiftiError } from '../../src/core/nifti/read';
import { encodeNifti, writeNifti } from '../../src/core/nifti/write';
import { realDataDir } from '../helpers/realData';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-nifti-'));
const close = (a: readonly number[], b: readonly number[], tol = 1e-4) => a.every((v, n) => Math.abs(v - b[n]) <= tol);

test('affine inverse and world/voxel round trip', () => {
  const a = [0, -2, 0, 10, 0, 0, 3, -5, 1.5, 0, 0, 7, 0, 0, 0, 1];
  assert.ok(close(multiply(a, invert(a)), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 1e-12));
  const w = voxelToWorld(a, [4, 5, 6]);
  assert.deepEqual(w, [0 * 4 - 2 * 5 + 0 + 10, 3 * 6 - 5, 1.5 * 4 + 7]);
  assert.ok(close(worldToVoxel(a, w), [4, 5, 6], 1e-9));
  assert.throws(() => invert([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), /singular/);
});

test('regrid keeps the field of view: 10 voxels of 3 mm -> 15 voxels of 2 mm, outer edge fixed', () => {
  const g = regrid({ dims: [10, 10, 4], affine: axisAlignedAffine([3, 3, 5], [0, 0, 0]) }, [2, 2, 5]);
  assert.deepEqual(g.dims, [15, 15, 4]);
  // old outer edge at -1.5 mm; new first centre half a new voxel inside: -0.5 mm
  assert.ok(close(voxelToWorld(g.affine, [0, 0, 0]), [-0.5, -0.5, 0]));
  assert.deepEqual(spacingMm(g.affine), [2, 2, 5]);
});

test('NIfTI write/read round trip: datatypes, affine with rotation and flip, .nii and .nii.gz', () => {
  // LPS-like flip plus a 90 degree rotation in-plane: exercises qfac and the quaternion
  const affine = [0, -1.5, 0, 30, -0.8, 0, 0, 12, 0, 0, 2.5, -40, 0, 0, 0, 1];
  const dims = [3, 4, 5] as const;
  for (const data of [Float32Array.from({ length: 60 }, (_, v) => v * 0.5 - 7), Int16Array.from({ length: 60 }, (_, v) => v - 30)]) {
    for (const ext of ['.nii', '.nii.gz']) {
      const f = path.join(tmp, `rt-${data.constructor.name}${ext}`);
      writeNifti(f, { dims, affine, data });
      const back = readImage(f);
      assert.deepEqual(back.dims, dims);
      assert.ok(close(back.affine, affine), `affine ${back.affine}`);
      assert.deepEqual(Array.from(back.data), Array.from(data, Number));
    }
  }
  const labels = Uint8Array.from({ length: 60 }, (_, v) => v % 4);
  writeNifti(path.join(tmp, 'lab.nii.gz'), { dims, affine, data: labels });
  assert.deepEqual(Array.from(readLabels(path.join(tmp, 'lab.nii.gz')).data), Array.from(labels));
});

test('qform is used when there is no sform, and gives the same affine the sform did', () => {
  const affine = [-2, 0, 0, 50, 0, -2, 0, 60, 0, 0, 3, -10, 0, 0, 0, 1];
  const bytes = encodeNifti({ dims: [2, 2, 2], affine, data: new Uint8Array(8) });
  new DataView(bytes.buffer).setInt16(254, 0, true); // sform_code = 0
  const f = path.join(tmp, 'qonly.nii');
  fs.writeFileSync(f, bytes);
  assert.ok(close(readLabels(f).affine, affine));
});

test('scl_slope and scl_inter are applied to images', () => {
  const bytes = encodeNifti({ dims: [2, 1, 1], affine: axisAlignedAffine([1, 1, 1], [0, 0, 0]), data: Int16Array.from([10, 20]) });
  const v = new DataView(bytes.buffer);
  v.setFloat32(112, 0.5, true);
  v.setFloat32(116, -1024, true);
  const f = path.join(tmp, 'scaled.nii');
  fs.writeFileSync(f, bytes);
  assert.deepEqual(Array.from(readImage(f).data), [-1019, -1014]);
});

test('bad files give errors naming the file and the problem', () => {
  const good = encodeNifti({ dims: [4, 4, 4], affine: axisAlignedAffine([1, 1, 1], [0, 0, 0]), data: new Uint8Array(64) });
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['truncated.nii', good.subarray(0, 352 + 10), /truncated/],
    ['truncated.nii.gz', gzipSync(good).subarray(0, 60), /corrupt or truncated gzip/],
    ['magic.nii', Uint8Array.from(good).fill(0, 344, 348), /bad magic/],
  ];
  const fourD = Uint8Array.from(good);
  new DataView(fourD.buffer).setInt16(40, 4, true);
  new DataView(fourD.buffer).setInt16(48, 2, true);
  cases.push(['4d.nii', fourD, /4D image/]);
  const float = encodeNifti({ dims: [2, 1, 1], affine: axisAlignedAffine([1, 1, 1], [0, 0, 0]), data: Float32Array.from([1, 2.5]) });
  cases.push(['fraction-labels.nii', float, /labels must be integers/]);
  for (const [name, bytes, re] of cases) {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, bytes);
    assert.throws(() => readLabels(f), (e: Error) => e instanceof NiftiError && re.test(e.message) && e.message.startsWith(f), name);
  }
  assert.throws(() => readImage(path.join(tmp, 'absent.nii.gz')), /absent\.nii\.gz: cannot read file \(ENOENT\)/);
});

test('real STS PET/CT/MRI headers: sform affines and spacings as documented', () => {
  const dir = path.join(realDataDir(), 'sts-petctmr', 'STS_002');
  const ct = readImage(path.join(dir, 'CT_image.nii.gz'));
  const pet = readImage(path.join(dir, 'PET_image.nii.gz'));
  assert.deepEqual(ct.dims, [161, 143, 48]);
  assert.deepEqual(pet.dims, [30, 27, 48]);
  assert.ok(close(spacingMm(ct.affine), [0.977, 0.977, 3.27], 0.005));
  assert.ok(close(spacingMm(pet.affine), [5.47, 5.47, 3.27], 0.01));
  // LPS storage: i runs to the patient's left, so the affine's x column is negative in RAS+
  assert.ok(ct.affine[0] < 0 && ct.affine[5] < 0 && ct.affine[10] > 0);
  // PET in SUV: plausible uptake range
  let max = 0;
  for (const v of pet.data) if (v > max) max = v;
  assert.ok(max > 2 && max < 100, `PET max SUV ${max}`);
});
