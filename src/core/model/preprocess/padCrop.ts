/**
 * Crop or pad a volume to a size the network accepts (card `pad`), and the exact inverse for the prediction.
 * Follows MONAI: DivisiblePad / SpatialPad with method "symmetric" put floor(total / 2) voxels before and the
 * rest after; CenterSpatialCrop keeps the window starting at floor(n / 2) - floor(size / 2). The affine moves
 * with the data, so every kept voxel keeps its world position.
 */
import type { GridDims } from '../../geometry/affine';
import type { Volume, VoxelData } from '../../geometry/volume';
import type { PadSpec } from '../card/modelCard';

/** Voxels added before each axis (negative: cropped from its start), and the resulting dims. */
export interface PadPlan {
  before: [number, number, number];
  dims: [number, number, number];
}

/** The plan for `dims` under `spec`, both in the same axis order. */
export function planPad(dims: readonly number[], spec: PadSpec): PadPlan {
  const target = [0, 1, 2].map((a) => ('divisibleBy' in spec ? Math.ceil(dims[a] / spec.divisibleBy[a]) * spec.divisibleBy[a] : spec.size[a]));
  const before = [0, 1, 2].map((a) => {
    const total = target[a] - dims[a];
    return total >= 0 ? Math.floor(total / 2) : Math.floor(target[a] / 2) - Math.floor(dims[a] / 2);
  });
  return { before: before as PadPlan['before'], dims: target as PadPlan['dims'] };
}

export function isNoop(plan: PadPlan, dims: readonly number[]): boolean {
  return plan.before.every((b) => b === 0) && plan.dims.every((d, a) => d === dims[a]);
}

/**
 * The volume on a grid of `dims` whose voxel n is the source's voxel n - before; voxels with no source hold
 * `fill`. Used both ways: pad/crop the image, and (before negated, original dims) put the prediction back.
 */
export function shiftWindow<T extends VoxelData>(vol: Volume<T>, before: readonly number[], dims: readonly number[], fill = 0): Volume<T> {
  const [si, sj, sk] = vol.dims;
  const [ni, nj, nk] = dims;
  const data = new (vol.data.constructor as { new (n: number): T })(ni * nj * nk);
  if (fill !== 0) data.fill(fill);
  const i0 = Math.max(0, before[0]);
  const i1 = Math.min(ni, si + before[0]);
  for (let k = 0; k < nk; k++) {
    const ks = k - before[2];
    if (ks < 0 || ks >= sk) continue;
    for (let j = 0; j < nj; j++) {
      const js = j - before[1];
      if (js < 0 || js >= sj) continue;
      if (i1 > i0) {
        const src = (ks * sj + js) * si + (i0 - before[0]);
        data.set(vol.data.subarray(src, src + (i1 - i0)), (k * nj + j) * ni + i0);
      }
    }
  }
  const a = vol.affine;
  const affine = a.slice();
  for (let r = 0; r < 3; r++) affine[r * 4 + 3] = a[r * 4 + 3] - a[r * 4] * before[0] - a[r * 4 + 1] * before[1] - a[r * 4 + 2] * before[2];
  return { dims: [ni, nj, nk] as unknown as GridDims, affine, data };
}
