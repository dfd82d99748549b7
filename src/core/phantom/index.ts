/**
 * UMD-mini: a small synthetic paired PET/CT + PET/MRI dataset, generated deterministically from a seed.
 *
 * Anatomy (anatomy.ts). Each subject is one continuous body in a body frame (mm, +x patient right, +y anterior,
 * +z superior): an elliptical torso (pelvis to shoulders, no legs or arms) with a subcutaneous fat layer, neck
 * and head. Bones: a segmented vertebral column, ribs (a striped ring around the chest), iliac wings and sacrum,
 * and the skull. The 13 organs (label ids of DEFAULT_ORGANS) are deformed ellipsoids (liver, spleen, kidneys,
 * heart with a blood pool, lungs, brain, bladder, stomach, gallbladder) or capsule tubes (aorta with its arch,
 * pancreas), plus unlabelled bowel with gas pockets and perirenal fat. Per subject the body is rescaled
 * (width, depth, height) and every organ is shifted (~7 mm), resized (+-12%) and reshaped (shear, taper, bend).
 * Overlaps are resolved by a fixed priority (bones, aorta, heart, pancreas, bladder, gallbladder, kidneys,
 * spleen, stomach, liver, lungs), so every organ keeps a plausible volume.
 *
 * Sessions. The PET/CT and PET/MRI of a subject are the same person scanned twice: the body sits at a slightly
 * different position (and a small rotation about z) in the PET/MRI session. Each modality has its own grid
 * (spacing, size, origin); nothing shares voxels, all alignment is through the NIfTI affines (world mm, RAS+).
 *
 * Modalities (modalities.ts), each evaluated at voxel centres of its own grid:
 * - CT, 4 mm: contrast-enhanced HU per tissue (air -1000, lung -850, fat -105, soft tissue 30..60, enhancing
 *   kidneys/aorta/blood pool 140..165, bone 250..850), per-subject enhancement jitter, a 3-tap partial-volume
 *   blur and gaussian noise (15 HU); int16.
 * - PET, 6 mm (PET/CT) or 5.5 mm (PET/MRI): FDG-like SUV per tissue (bladder 18, brain 8.5, myocardium 6.5,
 *   kidneys 4.5, liver 2.4, muscle 0.75, lung 0.35), a per-subject global uptake scale and per-organ jitter,
 *   sampled on a 2x finer grid, blurred by a binomial PSF (FWHM ~7 mm) and averaged into PET voxels, then
 *   Poisson-like noise (variance proportional to the signal); float32 SUV.
 * - MRI, 4.5 x 4.5 x 5 mm: T1-weighted signal (fat and marrow bright, pancreas/brain/liver bright-ish, fluid
 *   and flow voids dark), a smooth quadratic multiplicative bias field, partial-volume blur and Rician noise;
 *   float32 arbitrary units.
 * Labels: PETCT labels on the CT grid, PETMRI labels on the MRI grid (uint8, 0 = background).
 *
 * Determinism: one mulberry32 stream per subject and purpose (hashSeed), integer/IEEE arithmetic only (no
 * Math.random, no transcendental functions), float32/int16 storage and writeNifti's mtime-0 gzip: a seed gives
 * the same bytes on any machine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { axisAlignedAffine, type Grid, type GridDims } from '../geometry/affine';
import { writeNifti } from '../nifti/write';
import { DEFAULT_ORGANS } from '../dataset/organs';
import { LABEL_OF_TISSUE, makeAnatomy } from './anatomy';
import { fineGrid, makeContrast, rasterize, smallRotation, synthCT, synthMRI, synthPET, type Session } from './modalities';
import { hashSeed, Rng } from '../random/rng';

export { makeAnatomy, classify, TISSUE, LABEL_OF_TISSUE } from './anatomy';
export { hashSeed, Rng } from '../random/rng';

export interface PhantomOptions {
  outDir: string;
  /** number of subjects (default 6) */
  subjects?: number;
  /** seed (default 1) */
  seed?: number;
  onProgress?: (msg: string) => void;
}

export interface PhantomResult {
  /** subject names, e.g. sub-001 */
  subjects: string[];
  /** every file written, absolute or relative as outDir was given, in write order */
  files: string[];
}

/** A grid of `dims` voxels of `spacing` mm centred on the world origin, shifted by `offset` mm. */
function centredGrid(dims: GridDims, spacing: [number, number, number], offset: [number, number, number]): Grid {
  const origin = [0, 1, 2].map((a) => -(dims[a] * spacing[a]) / 2 + spacing[a] / 2 + offset[a]) as unknown as [number, number, number];
  return { dims, affine: axisAlignedAffine(spacing, origin) };
}

/** Scanner grids (field of view ~384 x 260 x 960 mm, torso and head). */
export const PHANTOM_GRIDS = {
  CT: { dims: [96, 64, 240] as GridDims, spacing: [4, 4, 4] as [number, number, number], offset: [0, 0, 0] as [number, number, number] },
  PETCT_PET: { dims: [64, 44, 160] as GridDims, spacing: [6, 6, 6] as [number, number, number], offset: [1, -1, 1] as [number, number, number] },
  MRI: { dims: [86, 58, 196] as GridDims, spacing: [4.5, 4.5, 5] as [number, number, number], offset: [1.3, -0.7, 2] as [number, number, number] },
  PETMRI_PET: { dims: [70, 48, 178] as GridDims, spacing: [5.5, 5.5, 5.5] as [number, number, number], offset: [-0.8, 1.1, -1.5] as [number, number, number] },
};

function scannerGrid(name: keyof typeof PHANTOM_GRIDS, rng: Rng): Grid {
  const g = PHANTOM_GRIDS[name];
  // table position and FOV centring differ a little per subject
  const off = g.offset.map((o) => o + Math.round(rng.jitter(2) * 100) / 100) as [number, number, number];
  return centredGrid(g.dims, g.spacing, off);
}

/** Body-to-world placement in one session: body z = 480 mm (mid-body) at world z ~ 0. */
function session(rng: Rng, shift: number, zShift: number, maxTheta: number): Session {
  const { cos, sin } = smallRotation(rng.jitter(maxTheta));
  return { cos, sin, t: [rng.jitter(shift), rng.jitter(shift), -480 + rng.jitter(zShift)] };
}

function toLabels(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(codes.length);
  for (let v = 0; v < codes.length; v++) out[v] = LABEL_OF_TISSUE[codes[v]];
  return out;
}

export function subjectName(n: number): string {
  return `sub-${String(n + 1).padStart(3, '0')}`;
}

/** Writes UMD-mini (the UMD layout) under opts.outDir. */
export async function generatePhantom(opts: PhantomOptions): Promise<PhantomResult> {
  const count = opts.subjects ?? 6;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new Error(`subjects must be a positive integer, got ${count}`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  const out = opts.outDir;
  const progress = opts.onProgress ?? (() => undefined);
  fs.mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const subjects: string[] = [];
  const write = (file: string, vol: Parameters<typeof writeNifti>[1], description: string) => {
    writeNifti(file, vol, description);
    files.push(file);
  };
  for (let n = 0; n < count; n++) {
    const sub = subjectName(n);
    subjects.push(sub);
    progress(`${sub}: anatomy`);
    const anatomy = makeAnatomy(new Rng(hashSeed(seed, n, 'anatomy')));
    const contrast = makeContrast(new Rng(hashSeed(seed, n, 'contrast')));
    const place = new Rng(hashSeed(seed, n, 'placement'));
    const petct = session(place, 4, 8, 0);
    const petmri = session(place, 8, 15, 0.05);
    const grids = {
      ct: scannerGrid('CT', place),
      ctPet: scannerGrid('PETCT_PET', place),
      mri: scannerGrid('MRI', place),
      mriPet: scannerGrid('PETMRI_PET', place),
    };

    progress(`${sub}: PET/CT`);
    const ctDir = path.join(out, 'PETCT', sub);
    const ctCodes = rasterize(grids.ct, anatomy, petct);
    const ct = synthCT(ctCodes, grids.ct.dims, contrast, new Rng(hashSeed(seed, n, 'CT')));
    write(path.join(ctDir, 'CT.nii.gz'), { ...grids.ct, data: ct }, 'UMD-mini CT (HU)');
    const ctPetFine = fineGrid(grids.ctPet);
    const ctPet = synthPET(rasterize(ctPetFine, anatomy, petct), ctPetFine, grids.ctPet, contrast, new Rng(hashSeed(seed, n, 'PETCT-PET')));
    write(path.join(ctDir, 'PET.nii.gz'), { ...grids.ctPet, data: ctPet }, 'UMD-mini PET (SUV)');
    write(path.join(ctDir, 'labels.nii.gz'), { ...grids.ct, data: toLabels(ctCodes) }, 'UMD-mini labels');

    progress(`${sub}: PET/MRI`);
    const mrDir = path.join(out, 'PETMRI', sub);
    const mrCodes = rasterize(grids.mri, anatomy, petmri);
    const mri = synthMRI(mrCodes, grids.mri, contrast, new Rng(hashSeed(seed, n, 'MRI')));
    write(path.join(mrDir, 'MRI.nii.gz'), { ...grids.mri, data: mri }, 'UMD-mini MRI (T1, a.u.)');
    const mrPetFine = fineGrid(grids.mriPet);
    const mrPet = synthPET(rasterize(mrPetFine, anatomy, petmri), mrPetFine, grids.mriPet, contrast, new Rng(hashSeed(seed, n, 'PETMRI-PET')));
    write(path.join(mrDir, 'PET.nii.gz'), { ...grids.mriPet, data: mrPet }, 'UMD-mini PET (SUV)');
    write(path.join(mrDir, 'labels.nii.gz'), { ...grids.mri, data: toLabels(mrCodes) }, 'UMD-mini labels');
    // let the event loop breathe between subjects (progress UIs, cancellation)
    await new Promise((r) => setImmediate(r));
  }
  const organs: Record<string, string> = {};
  for (const o of DEFAULT_ORGANS) organs[String(o.id)] = o.name;
  const manifest = path.join(out, 'umd.json');
  fs.writeFileSync(manifest, JSON.stringify({ name: 'UMD-mini', organs }, null, 2) + '\n');
  files.push(manifest);
  progress(`wrote ${subjects.length} subjects to ${out}`);
  return { subjects, files };
}
