/**
 * The "center" prompt: the interior point farthest from the organ's boundary, as the CVPR 2025 interactive
 * challenge places its first click.
 */
import { spacingMm, type Grid } from '../geometry/affine';
import { squaredDistanceMm2 } from '../geometry/distanceTransform';
import { checkMask, pointAt, type PromptPoint } from './promptPoint';

/**
 * Flat offset of the voxel of `mask` whose exact Euclidean distance (in mm, with the grid's anisotropic spacing)
 * to the nearest background voxel is largest. Voxels outside the grid count as background (the mask is padded
 * by one background voxel on every side), so an organ cut by the field of view is measured to that edge: the
 * same as argmax(scipy.ndimage.distance_transform_edt(np.pad(mask, 1), sampling=spacing)) on the padded array,
 * and what the CVPR 2025 interactive challenge does before placing a click. Ties go to the lowest flat offset
 * (i fastest, NIfTI storage order). Returns -1 for an empty mask.
 */
export function farthestInteriorOffset(mask: Uint8Array, dims: Grid['dims'], spacing: readonly [number, number, number]): number {
  const [n0, n1, n2] = dims;
  const p0 = n0 + 2, p1 = n1 + 2, p2 = n2 + 2;
  const background = new Uint8Array(p0 * p1 * p2).fill(1);
  let any = false;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      const src = n0 * (j + n1 * k);
      const dst = 1 + p0 * (j + 1 + p1 * (k + 1));
      for (let i = 0; i < n0; i++) {
        if (mask[src + i]) {
          background[dst + i] = 0;
          any = true;
        }
      }
    }
  }
  if (!any) return -1;
  const d2 = squaredDistanceMm2(background, [p0, p1, p2], spacing);
  let best = -1;
  let bestD = -1;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      const src = n0 * (j + n1 * k);
      const dst = 1 + p0 * (j + 1 + p1 * (k + 1));
      for (let i = 0; i < n0; i++) {
        if (mask[src + i] && d2[dst + i] > bestD) {
          bestD = d2[dst + i];
          best = src + i;
        }
      }
    }
  }
  return best;
}

/** The center click of `organ` (positive), or null when the organ is absent from the ground truth. */
export function centerPoint(mask: Uint8Array, grid: Grid, organ: string): PromptPoint | null {
  checkMask(mask, grid, organ);
  const at = farthestInteriorOffset(mask, grid.dims, spacingMm(grid.affine));
  return at < 0 ? null : pointAt(grid, at, 1);
}
