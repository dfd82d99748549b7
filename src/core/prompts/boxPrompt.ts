/** The "box" prompt: the organ's axis-aligned bounding box in voxels, each face optionally jittered in mm. */
import { spacingMm, voxelToWorld, type Grid, type VoxelIndex, type WorldMm } from '../geometry/affine';
import { hashSeed, Rng } from '../random/rng';
import { checkMask } from './promptPoint';

/**
 * Inclusive voxel bounds [min, max] per axis (i, j, k) and the world positions of those two corner voxels' centres.
 */
export interface PromptBox {
  min: VoxelIndex;
  max: VoxelIndex;
  minMm: WorldMm;
  maxMm: WorldMm;
}

/**
 * The tight bounding box of `mask`; with jitterMm > 0 each of the six faces moves independently by a uniform
 * offset in [-jitterMm, jitterMm) mm, rounded to whole voxels of that axis's spacing, then clamped to the grid and
 * kept non-empty (min <= max). The stream is Rng(hashSeed(seed, subject, organ, "box")). Null when absent.
 */
export function boxPrompt(mask: Uint8Array, grid: Grid, organ: string, jitterMm: number, seed: number, subject: string): PromptBox | null {
  checkMask(mask, grid, organ);
  if (!(jitterMm >= 0)) throw new Error(`box prompt for ${organ}: jitter must be a non-negative number of mm (got ${jitterMm})`);
  const [n0, n1, n2] = grid.dims;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  for (let k = 0, v = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      for (let i = 0; i < n0; i++, v++) {
        if (!mask[v]) continue;
        if (i < lo[0]) lo[0] = i;
        if (i > hi[0]) hi[0] = i;
        if (j < lo[1]) lo[1] = j;
        if (j > hi[1]) hi[1] = j;
        if (k < lo[2]) lo[2] = k;
        if (k > hi[2]) hi[2] = k;
      }
    }
  }
  if (hi[0] < 0) return null;
  if (jitterMm > 0) {
    const rng = new Rng(hashSeed(seed, subject, organ, 'box'));
    const sp = spacingMm(grid.affine);
    for (let a = 0; a < 3; a++) {
      const last = grid.dims[a] - 1;
      const l = Math.min(last, Math.max(0, lo[a] + Math.round(rng.jitter(jitterMm) / sp[a])));
      const h = Math.min(last, Math.max(0, hi[a] + Math.round(rng.jitter(jitterMm) / sp[a])));
      lo[a] = Math.min(l, h);
      hi[a] = Math.max(l, h);
    }
  }
  const min: VoxelIndex = [lo[0], lo[1], lo[2]];
  const max: VoxelIndex = [hi[0], hi[1], hi[2]];
  return { min, max, minMm: voxelToWorld(grid.affine, min), maxMm: voxelToWorld(grid.affine, max) };
}
