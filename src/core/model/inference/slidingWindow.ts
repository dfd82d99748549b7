/**
 * Patch-wise inference with the semantics of MONAI's `sliding_window_inference` (MONAI 1.x) for one image,
 * mode "gaussian", sigma_scale 0.125, padding_mode "constant" with cval 0, any sw_batch_size (below):
 *
 * 1. An axis shorter than the patch is padded with 0 to the patch size, split as MONAI does:
 *    floor(diff / 2) before, the rest after. (Padding happens after normalization, so 0 is the normalized 0.)
 * 2. Scan interval per axis: the patch size when the (padded) image equals it, else
 *    max(1, floor(patch * (1 - overlap))) (`_get_scan_interval`).
 * 3. Window starts per axis (`dense_patch_slices`): idx * interval for idx = 0.. until a window reaches the
 *    end, each start pulled back so the window ends inside the image; so the last window is end-aligned.
 *    Windows are the Cartesian product of the per-axis starts.
 * 4. Each window's logits are weighted by a separable gaussian importance map (sigma = 0.125 * patch per
 *    axis, centred at (patch - 1) / 2, peak 1 on odd sizes, every value clamped to at least
 *    max(min(map), 1e-3)), summed, and divided by the summed weights. All in float32 as PyTorch does it:
 *    each product rounded to float32, then added in window order (blendBand.ts).
 * 5. The padding is cropped away.
 *
 * Batch size (MONAI's `sw_batch_size`): windows are fed `batchSize` at a time as one [B, 1, d0, d1, d2] input
 * (the last batch may be smaller). Each window's logits are added in the same window order as with batch 1, so
 * the blended result is the same whatever the batch size (given a network whose output for a sample does not
 * depend on the other samples of its batch).
 *
 * Mirroring test-time augmentation (`tta`, nnU-Net v2's `_internal_maybe_mirror_and_predict`): with mirror axes
 * A (tensor spatial axes, default all three), a window's logits are
 *   (net(x) + sum over S in combos(A) of flip_S(net(flip_S(x)))) / (1 + |combos(A)|)
 * where combos(A) are the non-empty subsets of A in itertools order ((0), (1), (2), (0,1), (0,2), (1,2),
 * (0,1,2) for all three axes: 8 inputs), summed in float32 in that order and divided once; this average then
 * takes the place of net(x) in step 4 (mirrored before the gaussian blending, as nnU-Net does per patch).
 *
 * Shapes are in tensor spatial order [d0, d1, d2], d2 fastest in memory; logits are channel-major [C, d0, d1, d2].
 */

import { padToPatch } from './padToPatch';
import { runWindows } from './runWindows';
import type { Logits, RunPatch, Shape3, WindowOptions } from './types';

function checkOverlap(overlap: number): void {
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`overlap must be in [0, 1) (got ${overlap})`);
}

/** Sliding-window logits for `input` (shape), MONAI-equivalent as described in this module's header. */
export async function slidingWindowLogits(input: Float32Array, shape: Shape3, patch: Shape3, run: RunPatch, opts: WindowOptions = {}): Promise<Logits> {
  const overlap = opts.overlap ?? 0.5;
  checkOverlap(overlap);
  const { image, full, before, opts: windowOpts } = padToPatch(input, shape, patch, opts);
  const n = shape[0] * shape[1] * shape[2];
  let logits: Float32Array | undefined;
  let channels = 0;
  await runWindows(image, full, patch, overlap, run, {
    slab(d0, slab, c) {
      channels = c;
      logits ??= new Float32Array(c * n);
      const a = d0 - before[0];
      if (a < 0 || a >= shape[0]) return; // padding
      for (let ch = 0; ch < c; ch++) {
        for (let b = 0; b < shape[1]; b++) {
          const from = ch * full[1] * full[2] + (before[1] + b) * full[2] + before[2];
          logits.set(slab.subarray(from, from + shape[2]), ch * n + (a * shape[1] + b) * shape[2]);
        }
      }
    },
  }, windowOpts);
  return { data: logits!, channels };
}

/**
 * Sliding-window classes (argmax of the blended logits, first channel on ties), never holding more logits than one
 * band of slabs: what whole-body volumes need (full float32 logits of 14 classes on 320x320x1000 would be 5.7 GB).
 * Equal to argmaxChannels(slidingWindowLogits(...)) voxel for voxel.
 */
export async function slidingWindowClasses(input: Float32Array, shape: Shape3, patch: Shape3, run: RunPatch, opts: WindowOptions = {}): Promise<Uint8Array | Uint16Array> {
  const overlap = opts.overlap ?? 0.5;
  checkOverlap(overlap);
  const { image, full, before, opts: windowOpts } = padToPatch(input, shape, patch, opts);
  const n = shape[0] * shape[1] * shape[2];
  const probs = opts.probabilities;
  let planes: Float32Array[] | undefined;
  let classes: Uint8Array | Uint16Array | undefined;
  await runWindows(image, full, patch, overlap, run, {
    slab(d0, slab, channels) {
      classes ??= channels <= 256 ? new Uint8Array(n) : new Uint16Array(n);
      const a = d0 - before[0];
      if (a < 0 || a >= shape[0]) return;
      const plane = full[1] * full[2];
      const asked = probs?.channels;
      if (asked) {
        const bad = asked.find((c) => !Number.isInteger(c) || c < 0 || c >= channels);
        if (bad !== undefined) throw new Error(`probabilities asked for channel ${bad}; the model outputs ${channels}`);
        planes ??= asked.map(() => new Float32Array(shape[1] * shape[2]));
      }
      for (let b = 0; b < shape[1]; b++) {
        const row = (before[1] + b) * full[2] + before[2];
        let o = (a * shape[1] + b) * shape[2];
        for (let e = 0; e < shape[2]; e++, o++) {
          let best = slab[row + e];
          let arg = 0;
          for (let c = 1; c < channels; c++) {
            const x = slab[c * plane + row + e];
            if (x > best) { best = x; arg = c; }
          }
          classes[o] = arg;
          if (asked) {
            let sum = 0;
            for (let c = 0; c < channels; c++) sum += Math.exp(slab[c * plane + row + e] - best);
            const at = b * shape[2] + e;
            for (let i = 0; i < asked.length; i++) planes![i][at] = Math.exp(slab[asked[i] * plane + row + e] - best) / sum;
          }
        }
      }
      if (asked) probs!.slab(a, planes!);
    },
    // without probabilities the kernel's own argmax is enough
    classes: probs ? undefined : (d0, plane) => {
      classes ??= new Uint8Array(n);
      const a = d0 - before[0];
      if (a < 0 || a >= shape[0]) return;
      for (let b = 0; b < shape[1]; b++) {
        const row = (before[1] + b) * full[2] + before[2];
        classes.set(plane.subarray(row, row + shape[2]), (a * shape[1] + b) * shape[2]);
      }
    },
  }, windowOpts);
  return classes!;
}
