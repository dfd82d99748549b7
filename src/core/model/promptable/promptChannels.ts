/**
 * The dense prompt channels a promptable card asks for (`prompt.channels`, docs/foundation-models.md section 2),
 * each a 0/1 (or decayed, below) volume on the crop grid, i fastest:
 *   positive / negative  balls around the clicks of that label: voxel v is inside when
 *                        |v - c|^2 <= r^2 with c the click's crop voxel (not rounded) and the distance in mm
 *                        (`radiusMm`, default 5) or in crop voxels (`radiusVoxels`, nnInteractive's point_radius)
 *   box                  1 inside the box (its corner voxel centres mapped into the crop, rounded outward)
 *   previous             the previous 0/1 prediction on this crop (OrganPromptState.previousMask), zeros before
 *                        the first interaction
 *   box-negative, empty  all zeros: interactions no protocol simulates (a negative box; scribbles, lasso), there so
 *                        that the channel count matches the network
 * With `radiusVoxels` the click is rounded to the nearest crop voxel first, as nnInteractive's
 * add_point_interaction rounds its coordinates before placing skimage's ball(r).
 *
 * `interactionDecay` d (nnInteractive's interaction_decay, 0.98 in its current checkpoints): the k-th of n
 * interactions (clicks in order, the box counting as the first) is stamped with d^(n - 1 - k) instead of 1, the
 * newest at 1, overlaps keeping the maximum (nnInteractive stamps with a growing intensity and divides it out
 * before each run, the same values). Absent or 1 = every interaction at 1.
 */
import { worldToVoxel, type Grid } from '../../geometry/affine';
import type { PromptBox } from '../../prompts/boxPrompt';
import type { PromptPoint } from '../../prompts/promptPoint';
import type { PromptChannel, PromptInputs } from '../card/modelCard';

/** A ball radius: in mm (with the crop's spacing) or in crop voxels. */
export type BallRadius = { mm: number; spacing: readonly number[] } | { voxels: number };

/** 0/1 (or `values[n]`) balls around `points` on `grid` (i-fastest), the maximum where balls overlap. */
export function ballChannel(grid: Grid, radius: BallRadius, points: readonly PromptPoint[], values?: readonly number[]): Float32Array {
  const [n0, n1, n2] = grid.dims;
  const out = new Float32Array(n0 * n1 * n2);
  const inVoxels = 'voxels' in radius;
  const s = inVoxels ? [1, 1, 1] : radius.spacing;
  const r = inVoxels ? radius.voxels : radius.mm;
  points.forEach((p, n) => {
    const raw = worldToVoxel(grid.affine, p.mm);
    const c = inVoxels ? raw.map(Math.round) : raw;
    const value = values?.[n] ?? 1;
    for (let k = 0; k < n2; k++) {
      const dk = (k - c[2]) * s[2];
      for (let j = 0; j < n1; j++) {
        const dj = (j - c[1]) * s[1];
        for (let i = 0; i < n0; i++) {
          const di = (i - c[0]) * s[0];
          const v = i + n0 * (j + n1 * k);
          if (di * di + dj * dj + dk * dk <= r * r && out[v] < value) out[v] = value;
        }
      }
    }
  });
  return out;
}

/** Dense box channel: `value` inside the box (corner voxel centres mapped into the crop, rounded outward), else 0. */
export function boxChannel(grid: Grid, box: PromptBox | undefined, value = 1): Float32Array {
  const [n0, n1, n2] = grid.dims;
  const out = new Float32Array(n0 * n1 * n2);
  if (!box) return out;
  const a = worldToVoxel(grid.affine, box.minMm);
  const b = worldToVoxel(grid.affine, box.maxMm);
  const lo = [0, 1, 2].map((x) => Math.max(0, Math.floor(Math.min(a[x], b[x]))));
  const hi = [0, 1, 2].map((x) => Math.min(grid.dims[x] - 1, Math.ceil(Math.max(a[x], b[x]))));
  for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) out[i + n0 * (j + n1 * k)] = value;
  return out;
}

/** What one organ's channels are made from. */
export interface ChannelSources {
  points: readonly PromptPoint[];
  box?: PromptBox;
  /** The previous 0/1 prediction on this same crop grid (i fastest); absent before the first interaction. */
  previousMask?: Uint8Array;
}

/** The card's ball radius: radiusVoxels when given, else radiusMm (default 5 mm) on the crop's spacing. */
export function ballRadius(prompt: PromptInputs, cropSpacing: readonly number[]): BallRadius {
  return prompt.radiusVoxels !== undefined ? { voxels: prompt.radiusVoxels } : { mm: prompt.radiusMm ?? 5, spacing: cropSpacing };
}

/**
 * Every channel of `prompt.channels`, in order, on the crop grid (i fastest). `cropSpacing` is the crop's voxel
 * size in mm along i, j, k.
 */
export function promptChannels(prompt: PromptInputs, grid: Grid, cropSpacing: readonly number[], src: ChannelSources): Float32Array[] {
  const n = grid.dims[0] * grid.dims[1] * grid.dims[2];
  const radius = ballRadius(prompt, cropSpacing);
  const decay = prompt.interactionDecay ?? 1;
  // interaction order: the box first, then the clicks in the order given
  const total = (src.box ? 1 : 0) + src.points.length;
  const stamp = (order: number) => (decay === 1 ? 1 : decay ** (total - 1 - order));
  const first = src.box ? 1 : 0;
  const values = src.points.map((_, i) => stamp(first + i));
  const ofLabel = (label: 0 | 1) => {
    const idx = src.points.map((p, i) => (p.label === label ? i : -1)).filter((i) => i >= 0);
    return ballChannel(grid, radius, idx.map((i) => src.points[i]), idx.map((i) => values[i]));
  };
  const one = (kind: PromptChannel): Float32Array => {
    switch (kind) {
      case 'positive': return ofLabel(1);
      case 'negative': return ofLabel(0);
      case 'box': return boxChannel(grid, src.box, stamp(0));
      case 'previous': {
        const out = new Float32Array(n);
        if (!src.previousMask) return out;
        if (src.previousMask.length !== n) throw new Error(`previous mask has ${src.previousMask.length} voxels; the crop has ${n}`);
        for (let v = 0; v < n; v++) out[v] = src.previousMask[v];
        return out;
      }
      case 'box-negative':
      case 'empty':
        return new Float32Array(n);
    }
  };
  return (prompt.channels ?? []).map(one);
}
