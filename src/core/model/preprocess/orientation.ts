/**
 * Reorientation to the axes a model expects, by permuting and flipping voxel axes: exact (no interpolation),
 * and undone exactly on the prediction. Axis codes are nibabel's aff2axcodes letters: for each voxel axis, the
 * world direction it points to in RAS+ space (R/L = x, A/P = y, S/I = z).
 */
import type { Affine, GridDims } from '../../geometry/affine';
import type { Volume, VoxelData } from '../../geometry/volume';
import { LETTERS } from '../card/axisCodes';

/**
 * The axis codes of an affine. Each voxel axis takes the world axis its direction leans on most; for an oblique
 * affine the largest |component| left over is assigned first, so two voxel axes never share a world axis (as
 * nibabel's io_orientation does after its orthogonalisation; identical for the axis-aligned and mildly oblique
 * affines that scanners write).
 */
export function axisCodes(affine: Affine): string {
  const norm = [0, 1, 2].map((c) => Math.hypot(affine[c], affine[4 + c], affine[8 + c]) || 1);
  const cell = (r: number, c: number) => affine[r * 4 + c] / norm[c];
  const codes = ['', '', ''];
  const usedRow = new Set<number>();
  const usedCol = new Set<number>();
  for (let n = 0; n < 3; n++) {
    let best = { r: -1, c: -1, v: -1 };
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
      if (usedRow.has(r) || usedCol.has(c)) continue;
      const v = Math.abs(cell(r, c));
      if (v > best.v) best = { r, c, v };
    }
    usedRow.add(best.r);
    usedCol.add(best.c);
    codes[best.c] = LETTERS[best.r][cell(best.r, best.c) >= 0 ? 0 : 1];
  }
  return codes.join('');
}

/**
 * An axis permutation with flips: new axis t reads source axis perm[t], reversed when flip[t]. New voxel n maps
 * to source voxel m with m[perm[t]] = flip[t] ? dims[perm[t]] - 1 - n[t] : n[t].
 */
export interface AxisTransform {
  perm: [number, number, number];
  flip: [boolean, boolean, boolean];
}

/** The transform taking a grid with axis codes `from` to one with axis codes `to`. */
export function transformBetween(from: string, to: string): AxisTransform {
  const worldAxis = (c: string) => LETTERS.findIndex((pair) => (pair as readonly string[]).includes(c));
  const perm = [0, 1, 2].map((t) => [...from].findIndex((c) => worldAxis(c) === worldAxis(to[t]))) as AxisTransform['perm'];
  const flip = [0, 1, 2].map((t) => from[perm[t]] !== to[t]) as AxisTransform['flip'];
  return { perm, flip };
}

export function isIdentity(t: AxisTransform): boolean {
  return t.perm.every((p, a) => p === a) && t.flip.every((f) => !f);
}

/** The transform that undoes `t`. */
export function inverse(t: AxisTransform): AxisTransform {
  const perm = [0, 0, 0] as AxisTransform['perm'];
  for (let a = 0; a < 3; a++) perm[t.perm[a]] = a;
  const flip = perm.map((p) => t.flip[p]) as AxisTransform['flip'];
  return { perm, flip };
}

/** Applies `t` to a volume: data permuted and flipped, affine changed so every voxel keeps its world position. */
export function transformVolume<T extends VoxelData>(vol: Volume<T>, t: AxisTransform): Volume<T> {
  const src = vol.dims;
  const dims = t.perm.map((p) => src[p]) as unknown as GridDims;
  // source stride of each new axis, and the source offset of new voxel (0, 0, 0)
  const srcStride = [1, src[0], src[0] * src[1]];
  const stride = [0, 1, 2].map((a) => (t.flip[a] ? -1 : 1) * srcStride[t.perm[a]]);
  const origin = [0, 1, 2].reduce((o, a) => o + (t.flip[a] ? (src[t.perm[a]] - 1) * srcStride[t.perm[a]] : 0), 0);
  const data = new (vol.data.constructor as { new (n: number): T })(vol.data.length);
  let o = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      let s = origin + j * stride[1] + k * stride[2];
      for (let i = 0; i < dims[0]; i++, s += stride[0]) data[o++] = vol.data[s];
    }
  }
  const a = vol.affine;
  const affine = a.slice();
  for (let c = 0; c < 3; c++) {
    const p = t.perm[c];
    const sign = t.flip[c] ? -1 : 1;
    for (let r = 0; r < 3; r++) affine[r * 4 + c] = sign * a[r * 4 + p];
  }
  for (let r = 0; r < 3; r++) {
    // the new origin is the world position of the source voxel that new voxel (0, 0, 0) reads
    let w = a[r * 4 + 3];
    for (let c = 0; c < 3; c++) if (t.flip[c]) w += a[r * 4 + t.perm[c]] * (src[t.perm[c]] - 1);
    affine[r * 4 + 3] = w;
  }
  return { dims, affine, data };
}
