/**
 * Mirroring test-time augmentation (`tta`, nnU-Net v2's): which mirrors a window is run with, and the mirrored
 * logits added back unmirrored (slidingWindow.ts's header has the formula).
 */
import type { MirrorAxis, Shape3, WindowOptions } from './types';

/** nnU-Net's mirror combinations: the non-empty subsets of `axes` in itertools.combinations order, by size. */
export function mirrorCombinations(axes: readonly MirrorAxis[]): MirrorAxis[][] {
  const sorted = [...new Set(axes)];
  const out: MirrorAxis[][] = [];
  const combos = (k: number, from: number, acc: MirrorAxis[]): void => {
    if (acc.length === k) { out.push([...acc]); return; }
    for (let i = from; i < sorted.length; i++) combos(k, i + 1, [...acc, sorted[i]]);
  };
  for (let k = 1; k <= sorted.length; k++) combos(k, 0, []);
  return out;
}

/** The mirrors a window is run with: [] (identity) first, then mirrorCombinations; just [[]] without TTA. */
export function ttaMirrors(tta: WindowOptions['tta']): MirrorAxis[][] {
  if (!tta) return [[]];
  const axes: readonly MirrorAxis[] = tta === true ? [0, 1, 2] : tta;
  for (const a of axes) if (a !== 0 && a !== 1 && a !== 2) throw new Error(`mirror axes must be 0, 1 or 2 (got ${String(a)})`);
  return [[], ...mirrorCombinations(axes)];
}

/** sum[c, a, b, e] += logits[c, mirrored (a, b, e)] for one window's [C, p0, p1, p2] logits (float32 sums). */
export function addUnmirrored(sum: Float32Array, logits: Float32Array, channels: number, size: Shape3, mirror: readonly MirrorAxis[]): void {
  const [f0, f1, f2] = [0, 1, 2].map((a) => mirror.includes(a as MirrorAxis));
  const n = size[0] * size[1] * size[2];
  for (let c = 0; c < channels; c++) {
    let o = c * n;
    for (let a = 0; a < size[0]; a++) {
      const sa = f0 ? size[0] - 1 - a : a;
      for (let b = 0; b < size[1]; b++) {
        const from = c * n + (sa * size[1] + (f1 ? size[1] - 1 - b : b)) * size[2];
        if (!f2) for (let e = 0; e < size[2]; e++, o++) sum[o] += logits[from + e];
        else for (let e = 0; e < size[2]; e++, o++) sum[o] += logits[from + size[2] - 1 - e];
      }
    }
  }
}
