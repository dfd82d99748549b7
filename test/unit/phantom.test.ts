import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generatePhantom } from '../../src/core/phantom';
import { readImage, readLabels } from '../../src/core/nifti/read';
import { DEFAULT_ORGANS } from '../../src/core/dataset/organs';
import { spacingMm, voxelToWorld, worldToVoxel, voxelVolumeMm3, invert, type Grid } from '../../src/core/geometry/affine';
import type { ImageVolume, LabelVolume } from '../../src/core/geometry/volume';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-phantom-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const hashes = (root: string, files: string[]) => Object.fromEntries(files.map((f) => [path.relative(root, f), sha(f)]));

// generated once, shared by the tests below
const A = path.join(tmp, 'a');
const gen = generatePhantom({ outDir: A, subjects: 2, seed: 7 });

/** Plausible organ volumes (mL) of an adult. */
const ML: Record<string, [number, number]> = {
  liver: [1000, 2600], spleen: [90, 450], 'left kidney': [70, 260], 'right kidney': [70, 260], heart: [300, 1000],
  aorta: [70, 400], 'left lung': [1200, 3500], 'right lung': [1200, 3500], brain: [900, 1700], bladder: [90, 450],
  stomach: [200, 750], pancreas: [30, 140], gallbladder: [10, 80],
};

function centroid(lab: LabelVolume, id: number): [number, number, number] {
  const [ni, nj] = lab.dims;
  let n = 0, si = 0, sj = 0, sk = 0;
  for (let v = 0; v < lab.data.length; v++) {
    if (lab.data[v] !== id) continue;
    n++;
    si += v % ni;
    sj += Math.floor(v / ni) % nj;
    sk += Math.floor(v / (ni * nj));
  }
  return voxelToWorld(lab.affine, [si / n, sj / n, sk / n]) as [number, number, number];
}

/** Mean of `img` (nearest voxel) at the world positions of the voxels labelled `id` in `lab`. */
function meanAt(img: ImageVolume, lab: LabelVolume, id: number): number {
  const [ni, nj] = lab.dims;
  const m = invert(img.affine);
  let s = 0, n = 0;
  for (let v = 0; v < lab.data.length; v++) {
    if (lab.data[v] !== id) continue;
    const w = voxelToWorld(lab.affine, [v % ni, Math.floor(v / ni) % nj, Math.floor(v / (ni * nj))]);
    const p = voxelToWorld(m, w as unknown as [number, number, number]).map(Math.round);
    if (p.some((q, a) => q < 0 || q >= img.dims[a])) continue;
    s += img.data[p[0] + img.dims[0] * (p[1] + img.dims[1] * p[2])];
    n++;
  }
  assert.ok(n > 0, `label ${id} falls outside the image`);
  return s / n;
}

const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

test('phantom writes the UMD layout and umd.json', async () => {
  const r = await gen;
  assert.deepEqual(r.subjects, ['sub-001', 'sub-002']);
  const rel = r.files.map((f) => path.relative(A, f)).sort();
  const want = ['umd.json'];
  for (const s of r.subjects) {
    for (const f of ['CT', 'PET', 'labels']) want.push(`PETCT/${s}/${f}.nii.gz`);
    for (const f of ['MRI', 'PET', 'labels']) want.push(`PETMRI/${s}/${f}.nii.gz`);
  }
  assert.deepEqual(rel, want.sort());
  for (const f of r.files) if (f.endsWith('.nii.gz')) assert.ok(fs.statSync(f).size > 1000, f);
  const manifest = JSON.parse(fs.readFileSync(path.join(A, 'umd.json'), 'utf8'));
  assert.equal(manifest.name, 'UMD-mini');
  assert.deepEqual(manifest.organs, Object.fromEntries(DEFAULT_ORGANS.map((o) => [String(o.id), o.name])));
});

test('same seed gives identical bytes; another seed differs', async () => {
  const r = await gen;
  const B = path.join(tmp, 'b');
  const rb = await generatePhantom({ outDir: B, subjects: 2, seed: 7 });
  assert.deepEqual(hashes(B, rb.files), hashes(A, r.files));
  const C = path.join(tmp, 'c');
  const rc = await generatePhantom({ outDir: C, subjects: 1, seed: 8 });
  const hc = hashes(C, rc.files);
  const ha = hashes(A, r.files);
  for (const f of ['PETCT/sub-001/CT.nii.gz', 'PETCT/sub-001/labels.nii.gz', 'PETMRI/sub-001/MRI.nii.gz', 'PETMRI/sub-001/PET.nii.gz']) {
    assert.notEqual(hc[f], ha[f], f);
  }
  assert.equal(hc['umd.json'], ha['umd.json']);
});

test('every labels file holds all 13 organs with plausible volumes', async () => {
  const r = await gen;
  for (const s of r.subjects) {
    for (const study of ['PETCT', 'PETMRI']) {
      const lab = readLabels(path.join(A, study, s, 'labels.nii.gz'));
      const counts = new Array<number>(256).fill(0);
      for (const v of lab.data) counts[v]++;
      const ml = voxelVolumeMm3(lab.affine) / 1000;
      for (const o of DEFAULT_ORGANS) {
        const vol = counts[o.id] * ml;
        const [lo, hi] = ML[o.name];
        assert.ok(vol >= lo && vol <= hi, `${study}/${s} ${o.name}: ${vol.toFixed(0)} mL outside [${lo}, ${hi}]`);
      }
      assert.equal(counts.slice(14).reduce((a, b) => a + b, 0), 0, 'no label above 13');
    }
    // same person in both sessions: organ volumes agree within resampling error
    const ct = readLabels(path.join(A, 'PETCT', s, 'labels.nii.gz'));
    const mr = readLabels(path.join(A, 'PETMRI', s, 'labels.nii.gz'));
    const vol = (l: LabelVolume, id: number) => {
      let n = 0;
      for (let v = 0; v < l.data.length; v++) if (l.data[v] === id) n++;
      return n * voxelVolumeMm3(l.affine);
    };
    for (const id of [1, 7, 9]) {
      const a = vol(ct, id), b = vol(mr, id);
      assert.ok(Math.abs(a - b) / a < 0.06, `organ ${id}: ${a} vs ${b} mm3 between sessions`);
    }
  }
});

test('each modality has its own grid; PET is coarser than CT', async () => {
  const r = await gen;
  const grid = (f: string): Grid => readImage(f);
  for (const s of r.subjects) {
    const ct = grid(path.join(A, 'PETCT', s, 'CT.nii.gz'));
    const pet = grid(path.join(A, 'PETCT', s, 'PET.nii.gz'));
    const ctLab = readLabels(path.join(A, 'PETCT', s, 'labels.nii.gz'));
    const mri = grid(path.join(A, 'PETMRI', s, 'MRI.nii.gz'));
    const pet2 = grid(path.join(A, 'PETMRI', s, 'PET.nii.gz'));
    const mrLab = readLabels(path.join(A, 'PETMRI', s, 'labels.nii.gz'));
    const sp = (g: Grid) => spacingMm(g.affine);
    for (let a = 0; a < 3; a++) {
      assert.ok(sp(pet)[a] > sp(ct)[a] * 1.3, 'PET/CT PET coarser than CT');
      assert.ok(sp(pet2)[a] > 5, 'PET/MRI PET coarse');
    }
    assert.deepEqual(ctLab.dims, ct.dims);
    assert.deepEqual(ctLab.affine.map((v) => Math.fround(v)), ct.affine.map((v) => Math.fround(v)));
    assert.deepEqual(mrLab.dims, mri.dims);
    assert.notDeepEqual(mri.dims, ct.dims);
    assert.notDeepEqual(sp(mri), sp(ct));
    assert.notDeepEqual(sp(pet2), sp(pet));
    for (const g of [ct, pet, mri, pet2]) assert.ok(g.dims[0] * g.dims[1] * g.dims[2] <= 2_000_000, 'at most 2 M voxels');
  }
});

test('labels align with every image in world space', async () => {
  const r = await gen;
  for (const s of r.subjects) {
    const d = path.join(A, 'PETCT', s);
    const ct = readImage(path.join(d, 'CT.nii.gz'));
    const pet = readImage(path.join(d, 'PET.nii.gz'));
    const lab = readLabels(path.join(d, 'labels.nii.gz'));
    // CT: organ-specific HU inside each label
    const hu = (id: number) => meanAt(ct, lab, id);
    assert.ok(hu(1) > 70 && hu(1) < 130, `liver ${hu(1)} HU`);
    assert.ok(hu(7) < -650 && hu(8) < -650, 'lungs are air');
    assert.ok(hu(6) > 120, `aorta enhances: ${hu(6)} HU`);
    assert.ok(hu(3) > 120 && hu(4) > 120, 'kidneys enhance');
    assert.ok(hu(10) < 40, `bladder is urine: ${hu(10)}`);
    // PET on its own coarse grid, sampled where the CT-grid labels are
    const suv = (id: number) => meanAt(pet, lab, id);
    assert.ok(suv(9) > 4 * suv(7), `brain ${suv(9)} vs lung ${suv(7)}`);
    assert.ok(suv(10) > suv(1) && suv(1) > suv(7), 'bladder > liver > lung uptake');
    assert.ok(suv(3) > suv(12), 'kidney > pancreas uptake');

    const m = path.join(A, 'PETMRI', s);
    const mri = readImage(path.join(m, 'MRI.nii.gz'));
    const pet2 = readImage(path.join(m, 'PET.nii.gz'));
    const lab2 = readLabels(path.join(m, 'labels.nii.gz'));
    const t1 = (id: number) => meanAt(mri, lab2, id);
    assert.ok(t1(1) > 3 * t1(7), `MRI liver ${t1(1)} vs lung ${t1(7)}`);
    assert.ok(t1(12) > t1(6) * 2, 'T1: pancreas bright, aorta flow void');
    const suv2 = (id: number) => meanAt(pet2, lab2, id);
    assert.ok(suv2(9) > 4 * suv2(7), 'PET/MRI PET: brain vs lung');

    // the hottest head region of each PET lies on its session's brain label
    for (const [img, l] of [[pet, lab], [pet2, lab2]] as const) {
      const brain = centroid(l, 9);
      const [ni, nj, nk] = img.dims;
      let s = 0, sx = 0, sy = 0, sz = 0, max = 0;
      const near: number[] = [];
      for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) {
        const w = voxelToWorld(img.affine, [i, j, k]);
        if (dist(w, brain) < 110) near.push(i + ni * (j + nj * k));
      }
      for (const v of near) max = Math.max(max, img.data[v]);
      for (const v of near) {
        if (img.data[v] < 0.5 * max) continue;
        const w = voxelToWorld(img.affine, [v % ni, Math.floor(v / ni) % nj, Math.floor(v / (ni * nj))]);
        s++; sx += w[0]; sy += w[1]; sz += w[2];
      }
      const hot = [sx / s, sy / s, sz / s];
      assert.ok(dist(hot, brain) < 6, `PET brain uptake ${hot} vs brain label ${brain}`);
    }
    // same person, second session: organs move a little, not a lot
    const shift = dist(centroid(lab, 1), centroid(lab2, 1));
    assert.ok(shift > 0.5 && shift < 30, `liver moved ${shift} mm between sessions`);
    // a voxel index is not a position: the brain sits at different indices in the two label grids
    const b1 = worldToVoxel(lab.affine, centroid(lab, 9));
    const b2 = worldToVoxel(lab2.affine, centroid(lab2, 9));
    assert.ok(dist(b1, b2) > 3, 'grids differ');
  }
});
