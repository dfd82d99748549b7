/**
 * Resampling a volume onto another grid through both affines (world space), never by voxel index.
 *
 * For every target voxel v: source position = A_s⁻¹ · A_t · v. The composed matrix is built once and stepped
 * along i (one addition per voxel), so the inner loops allocate nothing.
 *
 * A source voxel owns the box of ±0.5 voxel around its centre: a target centre falling in [-0.5, n-0.5) along
 * every source axis is "inside" the source; anything else is "outside" and gets the fill value.
 */
import { invert, multiply, voxelCount, type Grid, type GridDims } from './affine';
import type { ImageVolume, IntensityData, Volume, VoxelData } from './volume';

/** Target voxel index -> fractional source voxel index, row-major 4x4. */
function targetToSource(src: Grid, target: Grid): number[] {
  return multiply(invert(src.affine), target.affine);
}

type TypedCtor<T extends VoxelData> = { new (n: number): T };

/**
 * Nearest-neighbour resampling (labels, or any volume whose values must not be blended).
 *
 * Each target voxel takes the source voxel whose centre is nearest in world space (ties at exactly half a
 * voxel go to the higher index, as floor(x + 0.5)). Target voxels outside the source grid are 0 (background).
 * The result has the source's typed-array type, `target`'s dims and a copy of `target`'s affine.
 */
export function resampleNearest<T extends VoxelData>(src: Volume<T>, target: Grid): Volume<T> {
  const [ni, nj, nk] = target.dims;
  const [si, sj, sk] = src.dims;
  const out = new (src.data.constructor as TypedCtor<T>)(voxelCount(target.dims));
  const s = src.data;
  const m = targetToSource(src, target);
  const sij = si * sj;
  let o = 0;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      // +0.5 folded into the row start turns rounding into a floor
      let x = m[1] * j + m[2] * k + m[3] + 0.5;
      let y = m[5] * j + m[6] * k + m[7] + 0.5;
      let z = m[9] * j + m[10] * k + m[11] + 0.5;
      for (let i = 0; i < ni; i++, o++, x += m[0], y += m[4], z += m[8]) {
        const a = Math.floor(x);
        const b = Math.floor(y);
        const c = Math.floor(z);
        if (a < 0 || b < 0 || c < 0 || a >= si || b >= sj || c >= sk) continue; // stays 0
        out[o] = s[a + b * si + c * sij];
      }
    }
  }
  return { dims: [...target.dims] as unknown as GridDims, affine: [...target.affine], data: out };
}

/** Smallest finite value of the data (0 for an empty or all-non-finite volume). */
function finiteMin(data: IntensityData): number {
  let min = Infinity;
  for (let v = 0; v < data.length; v++) if (data[v] < min) min = data[v];
  return Number.isFinite(min) ? min : 0;
}

/**
 * Trilinear resampling of an intensity image.
 *
 * Inside the source (a target centre within [-0.5, n-0.5] along every source axis) the value is the trilinear
 * blend of the 8 surrounding source voxels, with the position clamped to [0, n-1] first: the half-voxel rim
 * beyond the outermost centres repeats the edge value (as ITK's linear interpolator does) instead of blending
 * with the fill. That matters for `regrid` to a finer spacing, whose first centres lie in that rim.
 * Outside, the value is `outside`, by default the image's minimum (air in CT, 0 in PET/MRI), so padding does
 * not invent tissue.
 */
export function resampleLinear(src: Volume<IntensityData>, target: Grid, outside?: number): ImageVolume {
  const fill = outside ?? finiteMin(src.data);
  const [ni, nj, nk] = target.dims;
  const [si, sj, sk] = src.dims;
  const out = new Float32Array(voxelCount(target.dims));
  const s = src.data;
  const m = targetToSource(src, target);
  const sij = si * sj;
  // tolerance so that a centre exactly on the grid's outer boundary, give or take rounding, counts as inside
  const eps = 1e-6;
  const lo = -0.5 - eps;
  const hiI = si - 0.5 + eps;
  const hiJ = sj - 0.5 + eps;
  const hiK = sk - 0.5 + eps;
  let o = 0;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      let x = m[1] * j + m[2] * k + m[3];
      let y = m[5] * j + m[6] * k + m[7];
      let z = m[9] * j + m[10] * k + m[11];
      for (let i = 0; i < ni; i++, o++, x += m[0], y += m[4], z += m[8]) {
        if (x < lo || y < lo || z < lo || x > hiI || y > hiJ || z > hiK) {
          out[o] = fill;
          continue;
        }
        const cx = x < 0 ? 0 : x > si - 1 ? si - 1 : x;
        const cy = y < 0 ? 0 : y > sj - 1 ? sj - 1 : y;
        const cz = z < 0 ? 0 : z > sk - 1 ? sk - 1 : z;
        const a0 = Math.floor(cx);
        const b0 = Math.floor(cy);
        const c0 = Math.floor(cz);
        const fx = cx - a0;
        const fy = cy - b0;
        const fz = cz - c0;
        // on the last index the upper neighbour has weight 0; pointing it at the same voxel stays in bounds
        const da = a0 + 1 < si ? 1 : 0;
        const db = b0 + 1 < sj ? si : 0;
        const dc = c0 + 1 < sk ? sij : 0;
        const p = a0 + b0 * si + c0 * sij;
        const v00 = s[p] + (s[p + da] - s[p]) * fx;
        const v10 = s[p + db] + (s[p + db + da] - s[p + db]) * fx;
        const v01 = s[p + dc] + (s[p + dc + da] - s[p + dc]) * fx;
        const v11 = s[p + dc + db] + (s[p + dc + db + da] - s[p + dc + db]) * fx;
        const v0 = v00 + (v10 - v00) * fy;
        const v1 = v01 + (v11 - v01) * fy;
        out[o] = v0 + (v1 - v0) * fz;
      }
    }
  }
  return { dims: [...target.dims] as unknown as GridDims, affine: [...target.affine], data: out };
}
