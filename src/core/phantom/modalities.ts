/**
 * Imaging physics of the phantom: rasterizing the anatomy onto a scanner grid, and turning tissue into
 * CT Hounsfield units, PET uptake (SUV) and T1-weighted MRI signal. Blurs use exact rational kernels and noise
 * comes from the seeded Rng, so every image is bit-identical across machines.
 */
import { voxelToWorld, type Grid } from '../geometry/affine';
import { classify, TISSUE, TISSUE_COUNT, type Anatomy } from './anatomy';
import { Rng } from '../random/rng';

/** Where the body lies in a scanning session: world = Rz(theta) * body + t. cos/sin given directly. */
export interface Session {
  cos: number;
  sin: number;
  t: [number, number, number];
}

/** sin and cos of a small angle (|theta| < 0.2 rad) by Taylor series: arithmetic only, identical everywhere. */
export function smallRotation(theta: number): { cos: number; sin: number } {
  const t2 = theta * theta;
  return {
    sin: theta * (1 - (t2 / 6) * (1 - (t2 / 20) * (1 - t2 / 42))),
    cos: 1 - (t2 / 2) * (1 - (t2 / 12) * (1 - t2 / 30)),
  };
}

/** Tissue code of every voxel centre of `grid` (storage order, i fastest). */
export function rasterize(grid: Grid, a: Anatomy, s: Session): Uint8Array {
  const [ni, nj, nk] = grid.dims;
  const out = new Uint8Array(ni * nj * nk);
  const m = grid.affine;
  const [tx, ty, tz] = s.t;
  let v = 0;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, v++) {
        // voxelToWorld, inlined (same operation order, so the same bits)
        const dx = m[0] * i + m[1] * j + m[2] * k + m[3] - tx;
        const dy = m[4] * i + m[5] * j + m[6] * k + m[7] - ty;
        const wz = m[8] * i + m[9] * j + m[10] * k + m[11];
        out[v] = classify(a, s.cos * dx + s.sin * dy, -s.sin * dx + s.cos * dy, wz - tz);
      }
    }
  }
  return out;
}

/** Per-subject tissue properties of each modality, indexed by tissue code. */
export interface Contrast {
  ct: Float64Array;
  pet: Float64Array;
  mri: Float64Array;
}

function table(entries: Array<[number, number]>): Float64Array {
  const t = new Float64Array(TISSUE_COUNT);
  for (const [code, value] of entries) t[code] = value;
  return t;
}

const T = TISSUE;
/** Contrast-enhanced (portal venous) CT, HU. */
const CT_HU = table([
  [T.AIR, -1000], [T.LIVER, 100], [T.SPLEEN, 115], [T.LEFT_KIDNEY, 170], [T.RIGHT_KIDNEY, 170], [T.HEART, 85],
  [T.HEART_BLOOD, 150], [T.AORTA, 180], [T.LEFT_LUNG, -850], [T.RIGHT_LUNG, -850], [T.BRAIN, 32], [T.BLADDER, 8],
  [T.STOMACH, 25], [T.PANCREAS, 80], [T.GALLBLADDER, 6], [T.FAT, -105], [T.MUSCLE, 50], [T.CORTICAL_BONE, 850],
  [T.MARROW, 250], [T.GAS, -900], [T.BOWEL, 15], [T.CSF, 8],
]);
/** FDG uptake, SUV. */
const PET_SUV = table([
  [T.AIR, 0], [T.LIVER, 2.4], [T.SPLEEN, 1.9], [T.LEFT_KIDNEY, 4.5], [T.RIGHT_KIDNEY, 4.5], [T.HEART, 6.5],
  [T.HEART_BLOOD, 1.7], [T.AORTA, 1.7], [T.LEFT_LUNG, 0.35], [T.RIGHT_LUNG, 0.35], [T.BRAIN, 8.5], [T.BLADDER, 18],
  [T.STOMACH, 1.6], [T.PANCREAS, 1.4], [T.GALLBLADDER, 0.4], [T.FAT, 0.35], [T.MUSCLE, 0.75], [T.CORTICAL_BONE, 0.5],
  [T.MARROW, 1.3], [T.GAS, 0], [T.BOWEL, 1.3], [T.CSF, 0.3],
]);
/** T1-weighted gradient echo signal, arbitrary units (fat bright, fluid dark, flow voids in vessels). */
const MRI_T1 = table([
  [T.AIR, 0], [T.LIVER, 560], [T.SPLEEN, 400], [T.LEFT_KIDNEY, 450], [T.RIGHT_KIDNEY, 450], [T.HEART, 330],
  [T.HEART_BLOOD, 200], [T.AORTA, 90], [T.LEFT_LUNG, 40], [T.RIGHT_LUNG, 40], [T.BRAIN, 600], [T.BLADDER, 90],
  [T.STOMACH, 260], [T.PANCREAS, 620], [T.GALLBLADDER, 150], [T.FAT, 950], [T.MUSCLE, 330], [T.CORTICAL_BONE, 30],
  [T.MARROW, 780], [T.GAS, 0], [T.BOWEL, 300], [T.CSF, 120],
]);

/** Draws a subject's contrast: enhancement, uptake and scanner gain vary between people and sessions. */
export function makeContrast(rng: Rng): Contrast {
  const ct = CT_HU.map((hu, code) => (code === T.AIR || code === T.GAS || code === T.CORTICAL_BONE ? hu : hu + rng.jitter(6)));
  const petScale = rng.uniform(0.8, 1.25);
  const pet = PET_SUV.map((suv) => suv * petScale * (1 + rng.jitter(0.15)));
  const gain = rng.uniform(0.8, 1.2);
  const mri = MRI_T1.map((s) => s * gain * (1 + rng.jitter(0.1)));
  return { ct, pet, mri };
}

/** In-place separable filter along one axis with edge clamping; `kernel` is odd-length. */
function filterAxis(data: Float32Array, dims: readonly number[], axis: 0 | 1 | 2, kernel: readonly number[]): void {
  const [ni, nj, nk] = dims;
  const n = dims[axis];
  const stride = axis === 0 ? 1 : axis === 1 ? ni : ni * nj;
  const half = (kernel.length - 1) / 2;
  const line = new Float64Array(n);
  const lines = (ni * nj * nk) / n;
  for (let l = 0; l < lines; l++) {
    // start offset of line l: enumerate the two other axes
    let start: number;
    if (axis === 0) start = l * ni;
    else if (axis === 1) start = (l % ni) + Math.floor(l / ni) * ni * nj;
    else start = l;
    for (let p = 0; p < n; p++) line[p] = data[start + p * stride];
    for (let p = 0; p < n; p++) {
      let s = 0;
      for (let q = -half; q <= half; q++) {
        const r = p + q < 0 ? 0 : p + q >= n ? n - 1 : p + q;
        s += kernel[q + half] * line[r];
      }
      data[start + p * stride] = s;
    }
  }
}

function smooth(data: Float32Array, dims: readonly number[], kernel: readonly number[]): void {
  filterAxis(data, dims, 0, kernel);
  filterAxis(data, dims, 1, kernel);
  filterAxis(data, dims, 2, kernel);
}

/** Partial-volume smoothing of a scanner image on its own grid (sigma ~0.7 voxel). */
const PARTIAL_VOLUME = [0.25, 0.5, 0.25];
/** Binomial approximation of a gaussian with sigma = 1 voxel (the PET point-spread function on the fine grid). */
const PSF = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];

/** CT: HU per tissue, partial-volume blur, gaussian quantum noise; stored as int16 HU. */
export function synthCT(codes: Uint8Array, dims: readonly number[], c: Contrast, rng: Rng, noiseHu = 15): Int16Array {
  const img = new Float32Array(codes.length);
  for (let v = 0; v < codes.length; v++) img[v] = c.ct[codes[v]];
  smooth(img, dims, PARTIAL_VOLUME);
  const out = new Int16Array(codes.length);
  for (let v = 0; v < codes.length; v++) {
    const hu = Math.round(img[v] + noiseHu * rng.gauss());
    out[v] = hu < -1024 ? -1024 : hu > 3071 ? 3071 : hu;
  }
  return out;
}

/**
 * T1 MRI: signal per tissue times a smooth multiplicative bias field (coil sensitivity, quadratic in world
 * position), partial-volume blur, then Rician noise (magnitude of complex gaussian noise).
 */
export function synthMRI(codes: Uint8Array, grid: Grid, c: Contrast, rng: Rng, sigma = 22): Float32Array {
  const [ni, nj, nk] = grid.dims;
  const b = Array.from({ length: 6 }, () => rng.jitter(0.18));
  const img = new Float32Array(codes.length);
  let v = 0;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, v++) {
        const w = voxelToWorld(grid.affine, [i, j, k]);
        const u = w[0] / 200, s = w[1] / 200, z = w[2] / 500;
        let bias = 1 + b[0] * u + b[1] * s + b[2] * z + b[3] * u * u - Math.abs(b[4]) * z * z + b[5] * u * z;
        bias = bias < 0.6 ? 0.6 : bias > 1.4 ? 1.4 : bias;
        img[v] = c.mri[codes[v]] * bias;
      }
    }
  }
  smooth(img, grid.dims, PARTIAL_VOLUME);
  for (let n = 0; n < img.length; n++) {
    const re = img[n] + sigma * rng.gauss();
    const im = sigma * rng.gauss();
    img[n] = Math.sqrt(re * re + im * im);
  }
  return img;
}

/**
 * PET: uptake per tissue on a 2x finer grid, blurred by the scanner PSF (sigma = one fine voxel, i.e. half a
 * PET voxel), averaged into the PET voxels, then count noise whose variance grows with the signal (Poisson-like).
 * `fine` must be the PET grid at half spacing, offset by a quarter voxel (see `fineGrid`).
 */
export function synthPET(fineCodes: Uint8Array, fine: Grid, pet: Grid, c: Contrast, rng: Rng, gain = 0.05): Float32Array {
  const img = new Float32Array(fineCodes.length);
  for (let v = 0; v < fineCodes.length; v++) img[v] = c.pet[fineCodes[v]];
  smooth(img, fine.dims, PSF);
  const [ni, nj, nk] = pet.dims;
  const [fi, fj] = fine.dims;
  const out = new Float32Array(ni * nj * nk);
  let v = 0;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, v++) {
        let s = 0;
        for (let dk = 0; dk < 2; dk++) {
          for (let dj = 0; dj < 2; dj++) {
            const row = ((2 * k + dk) * fj + 2 * j + dj) * fi + 2 * i;
            s += img[row] + img[row + 1];
          }
        }
        const mean = s / 8;
        const noisy = mean + Math.sqrt(mean * gain) * rng.gauss() + 0.01 * rng.gauss();
        out[v] = noisy > 0 ? noisy : 0;
      }
    }
  }
  return out;
}

/** The grid at half the spacing of `g` whose 2x2x2 blocks average onto g's voxel centres. */
export function fineGrid(g: Grid): Grid {
  const a = g.affine.slice();
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < 3; r++) {
      a[r * 4 + 3] -= a[r * 4 + c] * 0.25;
      a[r * 4 + c] *= 0.5;
    }
  }
  return { dims: [g.dims[0] * 2, g.dims[1] * 2, g.dims[2] * 2], affine: a };
}
