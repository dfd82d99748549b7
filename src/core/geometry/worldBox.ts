/**
 * Where a grid lies in the world: the box its voxels cover (voxel edges, not centres), and how much of one grid's box
 * another grid's box covers. Used to tell a prediction or an image of the wrong file (no overlap at all) from one on
 * another grid (partial or full overlap, resampled through the affines).
 */
import { voxelToWorld, type Grid, type WorldMm } from './affine';

/** The axis-aligned world box (mm, RAS+) around every voxel of a grid, edges included. */
export interface WorldBox {
  lo: WorldMm;
  hi: WorldMm;
}

export function worldBox(g: Grid): WorldBox {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const i of [-0.5, g.dims[0] - 0.5]) for (const j of [-0.5, g.dims[1] - 0.5]) for (const k of [-0.5, g.dims[2] - 0.5]) {
    const w = voxelToWorld(g.affine, [i, j, k]);
    for (let a = 0; a < 3; a++) { lo[a] = Math.min(lo[a], w[a]); hi[a] = Math.max(hi[a], w[a]); }
  }
  return { lo: [lo[0], lo[1], lo[2]], hi: [hi[0], hi[1], hi[2]] };
}

/** True when the two boxes share a volume (touching faces do not count). */
export function boxesOverlap(a: WorldBox, b: WorldBox): boolean {
  return [0, 1, 2].every((ax) => a.hi[ax] > b.lo[ax] && b.hi[ax] > a.lo[ax]);
}

/**
 * The fraction of `of`'s world box inside `by`'s world box, in [0, 1]. Exact for axis-aligned grids; for oblique
 * ones it is the fraction of the bounding boxes, an upper bound of the voxels shared.
 */
export function overlapFraction(of: Grid, by: Grid): number {
  const a = worldBox(of);
  const b = worldBox(by);
  let shared = 1;
  let whole = 1;
  for (let ax = 0; ax < 3; ax++) {
    shared *= Math.max(0, Math.min(a.hi[ax], b.hi[ax]) - Math.max(a.lo[ax], b.lo[ax]));
    whole *= a.hi[ax] - a.lo[ax];
  }
  return whole > 0 ? Math.min(1, shared / whole) : 0;
}

/** "x -10.0..90.0, y ... mm": a box as a reader compares two of them. */
export function formatWorldBox(b: WorldBox): string {
  return ['x', 'y', 'z'].map((n, ax) => `${n} ${b.lo[ax].toFixed(1)}..${b.hi[ax].toFixed(1)}`).join(', ') + ' mm';
}
