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
 * Window order and the band. MONAI adds the windows in the order of their starts with d0 slowest. Here they are
 * taken with the sweep axis s slowest (the longest axis of the padded image, axis 0 on ties; blendBand.ts
 * sweepAxis), then the other two axes u < v in tensor order, so that only a band of patch[s] slabs across s needs
 * accumulators: 96 x 320 x 320 voxels per class for a 320 x 320 x 1000 CT whichever of its axes the card's
 * spatialOrder puts first. Where s is 0 the order is MONAI's own and every value is MONAI's bit for bit; where it
 * is not, each window and each product is the same and only the order of the (up to 2^3 at 50 % overlap) float32
 * additions per voxel differs, i.e. the blended logits equal MONAI's up to float32 rounding of those sums (~1e-7
 * relative), and bit for bit those of a whole-volume float32 accumulator taking the windows in this order.
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
 * Shapes are in tensor spatial order [d0, d1, d2]; results are contiguous, d2 fastest, logits channel-major
 * [C, d0, d1, d2]. The input may be read with other strides (`opts.strides`: a storage-order volume read in (i, j, k)
 * order without a transposed copy) and in its stored type (an int16 CT), normalized per window (`opts.transform`).
 */

import { planeAxes, sweepAxis } from './blendBand';
import { padToPatch } from './padToPatch';
import { runWindows } from './runWindows';
import type { IntensityArray, Logits, RunPatch, Shape3, WindowOptions } from './types';

function checkOverlap(overlap: number): void {
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`overlap must be in [0, 1) (got ${overlap})`);
}

/**
 * Where a finished slab lands in the unpadded tensor: the slab's index along s there (null for padding), and for
 * each row u of the unpadded plane the index of its first voxel in the padded plane and in the tensor (v steps
 * `step` there).
 */
function slabPlacement(shape: Shape3, full: Shape3, before: Shape3) {
  const s = sweepAxis(full);
  const [u, v] = planeAxes(s);
  const tensorStride = [shape[1] * shape[2], shape[2], 1];
  return {
    s, u, v,
    step: tensorStride[v],
    /** Index along s of the unpadded tensor, or -1 for a padding slab. */
    at: (x: number): number => {
      const a = x - before[s];
      return a >= 0 && a < shape[s] ? a : -1;
    },
    padRow: (pu: number): number => (before[u] + pu) * full[v] + before[v],
    tensorRow: (a: number, pu: number): number => a * tensorStride[s] + pu * tensorStride[u],
  };
}

/** Sliding-window logits for `input` (shape), MONAI-equivalent as described in this module's header. */
export async function slidingWindowLogits(input: IntensityArray, shape: Shape3, patch: Shape3, run: RunPatch, opts: WindowOptions = {}): Promise<Logits> {
  const overlap = opts.overlap ?? 0.5;
  checkOverlap(overlap);
  const { image, full, before, opts: windowOpts } = padToPatch(input, shape, patch, opts);
  const n = shape[0] * shape[1] * shape[2];
  const place = slabPlacement(shape, full, before);
  const plane = full[place.u] * full[place.v];
  let logits: Float32Array | undefined;
  let channels = 0;
  await runWindows(image, full, patch, overlap, run, {
    slab(x, slab, c) {
      channels = c;
      logits ??= new Float32Array(c * n);
      const a = place.at(x);
      if (a < 0) return; // padding
      for (let ch = 0; ch < c; ch++) {
        for (let pu = 0; pu < shape[place.u]; pu++) {
          const from = ch * plane + place.padRow(pu);
          let o = ch * n + place.tensorRow(a, pu);
          for (let pv = 0; pv < shape[place.v]; pv++, o += place.step) logits[o] = slab[from + pv];
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
export async function slidingWindowClasses(input: IntensityArray, shape: Shape3, patch: Shape3, run: RunPatch, opts: WindowOptions = {}): Promise<Uint8Array | Uint16Array> {
  const overlap = opts.overlap ?? 0.5;
  checkOverlap(overlap);
  const { image, full, before, opts: windowOpts } = padToPatch(input, shape, patch, opts);
  const n = shape[0] * shape[1] * shape[2];
  const place = slabPlacement(shape, full, before);
  const { u, v, step } = place;
  const plane = full[u] * full[v];
  const probs = opts.probabilities;
  let planes: Float32Array[] | undefined;
  let classes: Uint8Array | Uint16Array | undefined;
  await runWindows(image, full, patch, overlap, run, {
    slab(x, slab, channels) {
      classes ??= channels <= 256 ? new Uint8Array(n) : new Uint16Array(n);
      const a = place.at(x);
      if (a < 0) return;
      const asked = probs?.channels;
      if (asked) {
        const bad = asked.find((c) => !Number.isInteger(c) || c < 0 || c >= channels);
        if (bad !== undefined) throw new Error(`probabilities asked for channel ${bad}; the model outputs ${channels}`);
        planes ??= asked.map(() => new Float32Array(shape[u] * shape[v]));
      }
      for (let pu = 0; pu < shape[u]; pu++) {
        const row = place.padRow(pu);
        let o = place.tensorRow(a, pu);
        for (let e = 0; e < shape[v]; e++, o += step) {
          let best = slab[row + e];
          let arg = 0;
          for (let c = 1; c < channels; c++) {
            const q = slab[c * plane + row + e];
            if (q > best) { best = q; arg = c; }
          }
          classes[o] = arg;
          if (asked) {
            let sum = 0;
            for (let c = 0; c < channels; c++) sum += Math.exp(slab[c * plane + row + e] - best);
            const at = pu * shape[v] + e;
            for (let i = 0; i < asked.length; i++) planes![i][at] = Math.exp(slab[asked[i] * plane + row + e] - best) / sum;
          }
        }
      }
      if (asked) probs!.slab(a, planes!);
    },
    // without probabilities the kernel's own argmax is enough
    classes: probs ? undefined : (x, slabClasses) => {
      classes ??= new Uint8Array(n);
      const a = place.at(x);
      if (a < 0) return;
      for (let pu = 0; pu < shape[u]; pu++) {
        const row = place.padRow(pu);
        let o = place.tensorRow(a, pu);
        if (step === 1) classes.set(slabClasses.subarray(row, row + shape[v]), o);
        else for (let e = 0; e < shape[v]; e++, o += step) classes[o] = slabClasses[row + e];
      }
    },
  }, windowOpts);
  return classes!;
}

/** The tensor axis slidingWindowClasses sweeps for an image of `shape` and this patch (its probability slabs lie across it). */
export function slidingWindowSweep(shape: Shape3, patch: Shape3): 0 | 1 | 2 {
  return sweepAxis([0, 1, 2].map((a) => Math.max(shape[a], patch[a])) as unknown as Shape3);
}
