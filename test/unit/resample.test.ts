/**
 * Resampling through affines: exact synthetic cases, then the real STS_002 PET/CT/MRI case, whose three
 * modalities sit on three different grids of one patient frame (GTV_Mass = manual RTSTRUCT contour,
 * voxelised per modality by IBSI/MIRP).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { axisAlignedAffine, regrid, voxelToWorld, voxelVolumeMm3, type Affine, type Grid, type GridDims } from '../../src/core/geometry/affine';
import { resampleLinear, resampleNearest } from '../../src/core/geometry/resample';
import { readImage, readLabels } from '../../src/core/nifti/read';
import type { ImageVolume, LabelVolume } from '../../src/core/geometry/volume';
import { realDataDir } from '../helpers/realData';

const dims: GridDims = [5, 4, 3];
const idx = (i: number, j: number, k: number, d: GridDims = dims) => i + j * d[0] + k * d[0] * d[1];
/** An oblique LPS-like affine: exercises a non-diagonal inverse. */
const oblique: Affine = [-0.9, 0.2, 0, 31.5, -0.1, -1.1, 0.3, 12, 0, 0.05, 2.5, -40, 0, 0, 0, 1];

function ramp(d: GridDims, affine: Affine): ImageVolume {
  const data = new Float32Array(d[0] * d[1] * d[2]);
  for (let k = 0; k < d[2]; k++) for (let j = 0; j < d[1]; j++) for (let i = 0; i < d[0]; i++) data[idx(i, j, k, d)] = 1 + i + 10 * j + 100 * k;
  return { dims: d, affine, data };
}

/** The same affine with voxel (di, dj, dk) of the old grid as the new origin. */
function shifted(a: Affine, di: number, dj: number, dk: number): number[] {
  const o = voxelToWorld(a, [di, dj, dk]);
  const out = [...a];
  out[3] = o[0];
  out[7] = o[1];
  out[11] = o[2];
  return out;
}

test('identity resample returns the same data (nearest exactly, linear to float rounding)', () => {
  const img = ramp(dims, oblique);
  const labels: LabelVolume = { dims, affine: oblique, data: Uint16Array.from(img.data, (v) => v % 7) };
  const n = resampleNearest(labels, img);
  assert.ok(n.data instanceof Uint16Array);
  assert.deepEqual(n.data, labels.data);
  const l = resampleLinear(img, img);
  for (let v = 0; v < img.data.length; v++) assert.ok(Math.abs(l.data[v] - img.data[v]) < 1e-4, `voxel ${v}: ${l.data[v]} vs ${img.data[v]}`);
});

test('a target shifted by whole voxels reads the shifted source voxels; beyond the source: 0 / fill', () => {
  const img = ramp(dims, oblique);
  const target: Grid = { dims, affine: shifted(oblique, 2, -1, 1) };
  const labels: LabelVolume = { dims, affine: oblique, data: Uint8Array.from(img.data, (v) => v % 251) };
  const n = resampleNearest(labels, target);
  const l = resampleLinear(img, target, -5);
  for (let k = 0; k < 3; k++) for (let j = 0; j < 4; j++) for (let i = 0; i < 5; i++) {
    const [si, sj, sk] = [i + 2, j - 1, k + 1];
    const inside = si < 5 && sj >= 0 && sk < 3;
    const want = inside ? img.data[idx(si, sj, sk)] : undefined;
    assert.equal(n.data[idx(i, j, k)], inside ? want! % 251 : 0, `nearest at ${i},${j},${k}`);
    assert.ok(Math.abs(l.data[idx(i, j, k)] - (inside ? want! : -5)) < 1e-3, `linear at ${i},${j},${k}: ${l.data[idx(i, j, k)]}`);
  }
  assert.deepEqual(n.affine, target.affine);
  assert.deepEqual(n.dims, target.dims);
});

test('a flipped axis (LPS source onto an RAS target over the same box) mirrors the voxels', () => {
  const lps = axisAlignedAffine([-2, -2, 3], [10, 20, 30]);
  const img = ramp(dims, lps);
  // RAS grid over the same voxel centres: i and j run the other way
  const ras = axisAlignedAffine([2, 2, 3], [10 - 2 * 4, 20 - 2 * 3, 30]);
  const n = resampleNearest({ dims, affine: lps, data: Uint8Array.from(img.data) }, { dims, affine: ras });
  const l = resampleLinear(img, { dims, affine: ras });
  for (let k = 0; k < 3; k++) for (let j = 0; j < 4; j++) for (let i = 0; i < 5; i++) {
    const want = img.data[idx(4 - i, 3 - j, k)];
    assert.equal(n.data[idx(i, j, k)], want);
    assert.ok(Math.abs(l.data[idx(i, j, k)] - want) < 1e-4);
  }
});

test('nearest rounds to the nearest source centre; linear blends and reproduces linear ramps exactly', () => {
  const src = axisAlignedAffine([1, 1, 1], [0, 0, 0]);
  const img = ramp(dims, src);
  // target centres at 0.4 and 0.6 voxel along i: nearest picks voxel 0 and 1
  const t = (x: number): Grid => ({ dims: [1, 1, 1], affine: axisAlignedAffine([1, 1, 1], [x, 1, 1]) });
  const lab: LabelVolume = { dims, affine: src, data: Uint8Array.from(img.data) };
  assert.equal(resampleNearest(lab, t(0.4)).data[0], img.data[idx(0, 1, 1)]);
  assert.equal(resampleNearest(lab, t(0.6)).data[0], img.data[idx(1, 1, 1)]);
  // a half-voxel regrid-like target, oblique, wholly inside: trilinear of a linear function is exact
  const inner: Grid = { dims: [3, 2, 2], affine: [0.9, 0.3, 0, 0.7, 0, 0.8, 0.2, 0.4, 0.1, 0, 0.6, 0.3, 0, 0, 0, 1] };
  const out = resampleLinear(img, inner);
  for (let k = 0; k < 2; k++) for (let j = 0; j < 2; j++) for (let i = 0; i < 3; i++) {
    const [x, y, z] = voxelToWorld(inner.affine, [i, j, k]);
    assert.ok(Math.abs(out.data[idx(i, j, k, inner.dims)] - (1 + x + 10 * y + 100 * z)) < 1e-3);
  }
});

test('upsampling keeps the edge: the half-voxel rim beyond the outer centres repeats the edge, not the fill', () => {
  const img: ImageVolume = { dims, affine: oblique, data: new Float32Array(60).fill(7) };
  const fine = regrid(img, [0.25, 0.3, 0.5]);
  const out = resampleLinear(img, fine, -1000);
  assert.ok(out.data.every((v) => Math.abs(v - 7) < 1e-5), 'a constant image stays constant on a finer grid of the same box');
  // default fill is the image minimum
  const shiftedOut = resampleLinear(ramp(dims, oblique), { dims, affine: shifted(oblique, 10, 0, 0) });
  assert.ok(shiftedOut.data.every((v) => v === 1));
});

// ---- real multi-grid data ------------------------------------------------------------------------------

function volumeMl(m: LabelVolume): number {
  let n = 0;
  for (const v of m.data) if (v) n++;
  return (n * voxelVolumeMm3(m.affine)) / 1000;
}

function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let both = 0;
  let na = 0;
  let nb = 0;
  for (let v = 0; v < a.length; v++) {
    if (a[v]) na++;
    if (b[v]) nb++;
    if (a[v] && b[v]) both++;
  }
  return (2 * both) / (na + nb);
}

function worldCentroid(m: LabelVolume): number[] {
  const [ni, nj] = m.dims;
  const sum = [0, 0, 0];
  let n = 0;
  for (let v = 0; v < m.data.length; v++) {
    if (!m.data[v]) continue;
    const w = voxelToWorld(m.affine, [v % ni, Math.floor(v / ni) % nj, Math.floor(v / (ni * nj))]);
    for (let a = 0; a < 3; a++) sum[a] += w[a];
    n++;
  }
  return sum.map((s) => s / n);
}

test('STS_002 GTV: about 53 mL on the CT grid, 54 mL on the PET grid (voxel count x affine voxel volume)', () => {
  const dir = path.join(realDataDir(), 'sts-petctmr', 'STS_002');
  const ct = readLabels(path.join(dir, 'CT_mask.nii.gz'));
  const pet = readLabels(path.join(dir, 'PET_mask.nii.gz'));
  const mr = readLabels(path.join(dir, 'MR_T1_mask.nii.gz'));
  assert.deepEqual(ct.dims, [161, 143, 48]);
  assert.deepEqual(pet.dims, [30, 27, 48]);
  // nibabel: 53.295 mL (CT), 54.277 mL (PET), 53.295 mL (MR)
  assert.ok(Math.abs(volumeMl(ct) - 53.3) < 0.1, `CT ${volumeMl(ct)}`);
  assert.ok(Math.abs(volumeMl(pet) - 54.28) < 0.1, `PET ${volumeMl(pet)}`);
  assert.ok(Math.abs(volumeMl(mr) - 53.3) < 0.1, `MR ${volumeMl(mr)}`);
});

test('STS_002: PET and MR masks resampled onto the CT grid through the affines match the CT mask; index alignment does not', () => {
  const dir = path.join(realDataDir(), 'sts-petctmr', 'STS_002');
  const ct = readLabels(path.join(dir, 'CT_mask.nii.gz'));
  const pet = readLabels(path.join(dir, 'PET_mask.nii.gz'));
  const mr = readLabels(path.join(dir, 'MR_T1_mask.nii.gz'));
  const ctCentroid = worldCentroid(ct);

  const petOnCt = resampleNearest(pet, ct);
  const mrOnCt = resampleNearest(mr, ct);
  const dPet = dice(ct.data, petOnCt.data);
  const dMr = dice(ct.data, mrOnCt.data);
  const dist = (c: number[]) => Math.hypot(...c.map((x, a) => x - ctCentroid[a]));
  // measured: PET 0.9273 (scipy map_coordinates order 0 through the same affines: 0.9273 too; the loss is the
  // 5.5 mm PET voxels staircasing the contour), MR 1.0000 (same in-plane spacing, origin whole voxels away);
  // resampled PET centroid 0.42 mm from the CT one. A misalignment of even one PET voxel drops Dice below 0.9.
  assert.ok(dPet > 0.9, `PET->CT Dice ${dPet.toFixed(4)}`);
  assert.ok(dMr > 0.97, `MR->CT Dice ${dMr.toFixed(4)}`);
  assert.ok(dist(worldCentroid(petOnCt)) < 1, `PET->CT centroid off by ${dist(worldCentroid(petOnCt)).toFixed(2)} mm`);
  assert.ok(dist(worldCentroid(mrOnCt)) < 1, `MR->CT centroid off by ${dist(worldCentroid(mrOnCt)).toFixed(2)} mm`);
  // and the masks' own centroids agree in world space before any resampling (the README: < 0.2 mm)
  assert.ok(dist(worldCentroid(pet)) < 0.5 && dist(worldCentroid(mr)) < 0.5);

  // the classic mistakes: voxel index taken as position (the PET voxels put on the CT grid as they are) ...
  const sameIndex = resampleNearest({ ...pet, affine: ct.affine }, ct);
  // ... or, for MR (same 0.977 mm in-plane spacing as CT, origin ~30 mm away), the origins ignored
  const mrSameIndex = resampleNearest({ ...mr, affine: ct.affine }, ct);
  // ... or off by one PET voxel (5.5 mm)
  const dOneVoxel = dice(ct.data, resampleNearest({ ...pet, affine: shifted(pet.affine, 1, 0, 0) }, ct).data);
  assert.ok(dOneVoxel < 0.9, `one-PET-voxel shift Dice ${dOneVoxel.toFixed(4)}`);
  const dSame = dice(ct.data, sameIndex.data);
  const dNoOrigin = dice(ct.data, mrSameIndex.data);
  assert.ok(dSame < 0.3, `index-aligned Dice ${dSame.toFixed(4)}`);
  assert.ok(dNoOrigin < 0.6, `MR index-aligned Dice ${dNoOrigin.toFixed(4)}`);
  console.log(`STS_002 Dice vs CT mask: PET ${dPet.toFixed(4)}, MR ${dMr.toFixed(4)}, same-index ${dSame.toFixed(4)}, MR same-index ${dNoOrigin.toFixed(4)}, PET one voxel off ${dOneVoxel.toFixed(4)}`);
});


test('STS_002 PET image resampled linearly onto the CT grid keeps its SUV range and fills outside with the minimum', () => {
  const dir = path.join(realDataDir(), 'sts-petctmr', 'STS_002');
  const pet = readImage(path.join(dir, 'PET_image.nii.gz'));
  const ct = readLabels(path.join(dir, 'CT_mask.nii.gz'));
  const out = resampleLinear(pet, ct);
  let min = Infinity;
  let max = -Infinity;
  for (const v of pet.data) { min = Math.min(min, v); max = Math.max(max, v); }
  for (const v of out.data) assert.ok(v >= min - 1e-4 && v <= max + 1e-4);
  // the tumour is FDG-avid: mean SUV inside the CT contour clearly above the mean outside
  let inS = 0, inN = 0, outS = 0, outN = 0;
  for (let v = 0; v < out.data.length; v++) {
    if (ct.data[v]) { inS += out.data[v]; inN++; } else { outS += out.data[v]; outN++; }
  }
  assert.ok(inS / inN > 2 * (outS / outN), `SUV in ${inS / inN} vs out ${outS / outN}`);
});
