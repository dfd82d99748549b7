/** The "random" prompt: a uniformly drawn interior voxel of the organ, from a seeded stream. */
import type { Grid } from '../geometry/affine';
import { hashSeed, Rng } from '../random/rng';
import { checkMask, pointAt, type PromptPoint } from './promptPoint';

/**
 * A positive click on a voxel of `mask` drawn uniformly among the organ's voxels (the n-th foreground voxel in
 * flat order, n = floor(u * count)), with u from Rng(hashSeed(seed, subject, organ)): the same seed, subject and
 * organ always give the same voxel, and organs do not share a stream. Null when the organ is absent.
 */
export function randomPoint(mask: Uint8Array, grid: Grid, organ: string, seed: number, subject: string): PromptPoint | null {
  checkMask(mask, grid, organ);
  let count = 0;
  for (let v = 0; v < mask.length; v++) if (mask[v]) count++;
  if (count === 0) return null;
  const n = Math.floor(new Rng(hashSeed(seed, subject, organ, 'random')).next() * count);
  for (let v = 0, seen = 0; v < mask.length; v++) {
    if (mask[v] && seen++ === n) return pointAt(grid, v, 1);
  }
  throw new Error('unreachable: fewer foreground voxels on the second pass');
}
