/**
 * Voxel arithmetic of the failure-case viewer, kept apart from NiiVue so it reads as plain data: the organ's
 * error map (true positive / false positive / false negative), its worst slice and its centroid.
 * Voxel order is NIfTI's: i fastest, then j, then k.
 */

export const ERROR = { none: 0, tp: 1, fp: 2, fn: 3 } as const;

/** Colours of the error map, shared by the NiiVue label colormap and the legend (CSS in media/viewer.css). */
export const ERROR_COLORS = {
  tp: [0, 210, 0],
  fp: [255, 80, 0],
  fn: [30, 120, 255],
} as const;

export type Vec3 = [number, number, number];
/** 4x4 voxel-to-world matrix (row-major, as NiiVue's `hdr.affine`). */
export type Affine = ArrayLike<ArrayLike<number>>;

export interface ErrorCounts { tp: number; fp: number; fn: number }

const inOrgan = (v: number, organId: number) => (organId === 0 ? v > 0 : Math.round(v) === organId);

/**
 * Writes the error map of one organ into `out` (ERROR codes); organId 0 takes every label as the organ.
 * `out` is any writable numeric array (the cloned NiiVue volume's own typed array).
 */
export function writeErrorMap(
  out: { [i: number]: number; length: number },
  gt: ArrayLike<number>,
  pred: ArrayLike<number>,
  organId: number,
): ErrorCounts {
  const counts = { tp: 0, fp: 0, fn: 0 };
  for (let i = 0; i < gt.length; i++) {
    const g = inOrgan(gt[i], organId);
    const p = inOrgan(pred[i], organId);
    if (g && p) { out[i] = ERROR.tp; counts.tp++; }
    else if (p) { out[i] = ERROR.fp; counts.fp++; }
    else if (g) { out[i] = ERROR.fn; counts.fn++; }
    else out[i] = ERROR.none;
  }
  return counts;
}

/** The voxel axis (0 = i, 1 = j, 2 = k) that points most along the world's superior-inferior axis. */
export function axialAxis(affine: Affine): 0 | 1 | 2 {
  const z = [0, 1, 2].map((c) => Math.abs(affine[2][c]));
  return z[2] >= z[0] && z[2] >= z[1] ? 2 : z[1] >= z[0] ? 1 : 0;
}

export interface WorstSlice {
  axis: 0 | 1 | 2;
  /** Slice index along `axis`. */
  index: number;
  /** FP + FN voxels in that slice. */
  errors: number;
  /** Where the crosshair goes: the slice's errors' centroid, rounded to a voxel. */
  voxel: Vec3;
}

/** The axial slice with the most FP + FN voxels (the lowest index on a tie); undefined without errors. */
export function worstSlice(map: ArrayLike<number>, dims: Vec3, axis: 0 | 1 | 2): WorstSlice | undefined {
  const [nx, ny] = dims;
  const perSlice = new Float64Array(dims[axis]);
  const at = (idx: number): Vec3 => [idx % nx, Math.floor(idx / nx) % ny, Math.floor(idx / (nx * ny))];
  for (let idx = 0; idx < map.length; idx++) {
    if (map[idx] === ERROR.fp || map[idx] === ERROR.fn) perSlice[at(idx)[axis]]++;
  }
  let index = -1;
  let errors = 0;
  perSlice.forEach((n, s) => { if (n > errors) { errors = n; index = s; } });
  if (index < 0) return undefined;
  const sum: Vec3 = [0, 0, 0];
  for (let idx = 0; idx < map.length; idx++) {
    if (map[idx] !== ERROR.fp && map[idx] !== ERROR.fn) continue;
    const v = at(idx);
    if (v[axis] !== index) continue;
    sum[0] += v[0]; sum[1] += v[1]; sum[2] += v[2];
  }
  const voxel = sum.map((s) => Math.round(s / errors)) as Vec3;
  voxel[axis] = index;
  return { axis, index, errors, voxel };
}

/** Centroid of the organ's voxels in `labels`, rounded to a voxel; undefined when the organ is absent. */
export function organCentroid(labels: ArrayLike<number>, dims: Vec3, organId: number): Vec3 | undefined {
  const [nx, ny] = dims;
  let si = 0, sj = 0, sk = 0, n = 0;
  for (let idx = 0; idx < labels.length; idx++) {
    if (!inOrgan(labels[idx], organId)) continue;
    si += idx % nx; sj += Math.floor(idx / nx) % ny; sk += Math.floor(idx / (nx * ny)); n++;
  }
  return n ? [Math.round(si / n), Math.round(sj / n), Math.round(sk / n)] : undefined;
}

export function voxToMm(affine: Affine, v: Vec3): Vec3 {
  return [0, 1, 2].map((r) => affine[r][0] * v[0] + affine[r][1] * v[1] + affine[r][2] * v[2] + affine[r][3]) as Vec3;
}

/** World mm to the nearest voxel, through the inverse of the affine's 3x3 part. */
export function mmToVox(affine: Affine, mm: Vec3): Vec3 {
  const a = [0, 1, 2].map((r) => [affine[r][0], affine[r][1], affine[r][2]]);
  const d = [mm[0] - affine[0][3], mm[1] - affine[1][3], mm[2] - affine[2][3]];
  const det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  // Cramer's rule: replace column c by d
  const solve = (c: number) => {
    const m = a.map((row, r) => row.map((v, k) => (k === c ? d[r] : v)));
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])) / det;
  };
  return [0, 1, 2].map((c) => Math.round(solve(c)) || 0) as Vec3; // || 0: no -0
}
