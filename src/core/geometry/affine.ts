/**
 * Voxel grids and the affines that place them in the world.
 *
 * World coordinates are NIfTI's scanner space: millimetres, RAS+ (x grows towards the patient's
 * Right, y Anterior, z Superior). Voxel indices (i, j, k) are
 * NIfTI storage order with i fastest. Keeping the two in distinct types stops the classic bug of treating a
 * voxel index as a position, which silently works while every grid happens to be 1 mm and identically placed.
 */

/** A position in world space, millimetres (RAS+). */
export type WorldMm = readonly [x: number, y: number, z: number];
/** A (possibly fractional) voxel position: i fastest in memory. */
export type VoxelIndex = readonly [i: number, j: number, k: number];
/** Extent of a grid in voxels along i, j, k. */
export type GridDims = readonly [ni: number, nj: number, nk: number];
/** Row-major 4x4 matrix mapping homogeneous voxel index -> world mm. */
export type Affine = readonly number[];

/** A sampling grid: dimensions and its voxel-to-world affine. */
export interface Grid {
  readonly dims: GridDims;
  readonly affine: Affine;
}

export function voxelCount(dims: GridDims): number {
  return dims[0] * dims[1] * dims[2];
}

export function multiply(a: Affine, b: Affine): number[] {
  const out = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 4 + c];
      out[r * 4 + c] = s;
    }
  }
  return out;
}

/** Inverse of an affine (last row 0 0 0 1). Throws on a singular matrix. */
export function invert(m: Affine): number[] {
  const [a, b, c, tx, d, e, f, ty, g, h, i, tz] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error('singular affine (determinant 0)');
  const inv = [
    A, -(b * i - c * h), b * f - c * e,
    B, a * i - c * g, -(a * f - c * d),
    C, -(a * h - b * g), a * e - b * d,
  ].map((v) => v / det);
  const r = (row: number) => -(inv[row * 3] * tx + inv[row * 3 + 1] * ty + inv[row * 3 + 2] * tz);
  return [inv[0], inv[1], inv[2], r(0), inv[3], inv[4], inv[5], r(1), inv[6], inv[7], inv[8], r(2), 0, 0, 0, 1];
}

export function voxelToWorld(affine: Affine, v: VoxelIndex): WorldMm {
  const [i, j, k] = v;
  return [
    affine[0] * i + affine[1] * j + affine[2] * k + affine[3],
    affine[4] * i + affine[5] * j + affine[6] * k + affine[7],
    affine[8] * i + affine[9] * j + affine[10] * k + affine[11],
  ];
}

export function worldToVoxel(affine: Affine, w: WorldMm): VoxelIndex {
  return voxelToWorld(invert(affine), w as unknown as VoxelIndex) as unknown as VoxelIndex;
}

/** Length of each voxel axis in mm (column norms of the affine's linear part). */
export function spacingMm(affine: Affine): [number, number, number] {
  const col = (c: number) => Math.hypot(affine[c], affine[4 + c], affine[8 + c]);
  return [col(0), col(1), col(2)];
}

/** Volume of one voxel in mm^3 (absolute determinant of the linear part). */
export function voxelVolumeMm3(affine: Affine): number {
  const [a, b, c, , d, e, f, , g, h, i] = affine;
  return Math.abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g));
}

/** Affine from per-axis spacing and the world position of voxel (0,0,0), axes along +x,+y,+z. */
export function axisAlignedAffine(spacing: readonly number[], origin: WorldMm): number[] {
  return [spacing[0], 0, 0, origin[0], 0, spacing[1], 0, origin[1], 0, 0, spacing[2], origin[2], 0, 0, 0, 1];
}

/**
 * A grid covering the same world box as `grid`, with the same axis directions, resampled to `spacing` mm.
 * Voxel centres of the new grid start half a new voxel inside the old grid's outer boundary, so the field of
 * view is kept (as SimpleITK/nnU-Net resampling does) rather than the first voxel centre.
 */
export function regrid(grid: Grid, spacing: readonly number[]): Grid {
  const old = spacingMm(grid.affine);
  const dims = [0, 1, 2].map((a) => Math.max(1, Math.round((grid.dims[a] * old[a]) / spacing[a]))) as unknown as GridDims;
  const a = grid.affine;
  const out = a.slice();
  for (let c = 0; c < 3; c++) {
    const scale = spacing[c] / old[c];
    // the new voxel 0 centre, in old voxel units, along axis c: -0.5 + 0.5*scale
    const shift = -0.5 + 0.5 * scale;
    for (let r = 0; r < 3; r++) {
      out[r * 4 + c] = a[r * 4 + c] * scale;
      out[r * 4 + 3] += a[r * 4 + c] * shift;
    }
  }
  return { dims, affine: out };
}
