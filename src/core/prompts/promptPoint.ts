/**
 * The shared shape of a prompt made from the ground truth: every point and box is recorded both as a voxel index
 * of the ground-truth grid and in world millimetres (through the grid's affine), so a case record can be replayed
 * on another grid or read by a person in a viewer.
 */
import { voxelToWorld, type Grid, type VoxelIndex, type WorldMm } from '../geometry/affine';

/** A click: positive (label 1, "this is the organ") or negative (label 0, "this is not"). */
export interface PromptPoint {
  voxel: VoxelIndex;
  mm: WorldMm;
  label: 0 | 1;
}

/** Voxel index of a flat offset on `dims` (i fastest, NIfTI storage order). */
export function voxelOf(offset: number, dims: Grid['dims']): VoxelIndex {
  const i = offset % dims[0];
  const rest = (offset - i) / dims[0];
  const j = rest % dims[1];
  return [i, j, (rest - j) / dims[1]];
}

export function pointAt(grid: Grid, offset: number, label: 0 | 1): PromptPoint {
  const voxel = voxelOf(offset, grid.dims);
  return { voxel, mm: voxelToWorld(grid.affine, voxel), label };
}

/** Checks that a binary mask matches the grid; every generator calls it so a mismatch names the organ. */
export function checkMask(mask: Uint8Array, grid: Grid, organ: string): void {
  const n = grid.dims[0] * grid.dims[1] * grid.dims[2];
  if (mask.length !== n) throw new Error(`prompt for ${organ}: mask has ${mask.length} voxels, grid ${grid.dims.join('x')} needs ${n}`);
}
