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

import { createBand, type BlendBand } from './blendBand';

export type Shape3 = readonly [number, number, number];

/**
 * Runs the network on a [batch, 1, d0, d1, d2] input (batch 1 when absent); returns [batch, C, d0, d1, d2]
 * logits, channel-major within each sample. The input buffer is reused for the next window once the promise has
 * settled: a runner must not keep it. `output`, when given, is where the blending wants the logits (batch x C x
 * d0 x d1 x d2 floats, in its own memory): a runner that can have the network write there (ONNX Runtime's
 * pre-allocated outputs) returns it as `data` and saves a copy; any other `data` is fine too.
 */
export type RunPatch = (input: Float32Array, shape: Shape3, batch?: number, output?: Float32Array) => Promise<{ data: Float32Array; channels: number }>;

export type MirrorAxis = 0 | 1 | 2;

export interface WindowOptions {
  overlap?: number;
  /** Windows per network run (MONAI's sw_batch_size); default 1. */
  batchSize?: number;
  /** Mirroring test-time augmentation: true for all three tensor axes, or the axes to mirror along. */
  tta?: boolean | readonly MirrorAxis[];
  /** Checked before every network run: cancellation stops within one batch of windows. */
  signal?: AbortSignal;
  /**
   * Pointwise preprocessing (the card's normalization, normalize.ts) applied to the image's voxels as each window
   * is cut, so that no transformed copy of the volume exists; MONAI's zero padding is not transformed (it is
   * added after normalization). Values are stored as float32, exactly as a normalized float32 volume would be.
   */
  transform?: (x: number) => number;
  /**
   * slidingWindowClasses only: softmax probabilities of these channels (exp(l_c - max) / sum_k exp(l_k - max) over
   * the blended logits, in float64, stored as float32), handed over as each d0-slab is finished: the slab's index
   * along d0 of the unpadded tensor and one [d1 * d2] plane per asked channel (d2 fastest, buffers reused). For
   * writing them to disk without ever holding a whole volume of probabilities.
   */
  probabilities?: ProbabilitySink;
  onProgress?: (done: number, total: number) => void;
  /** When given, the seconds spent outside the network are added up here, per stage (for benchmarks). */
  timings?: WindowTimings;
}

/** Seconds outside the network: cutting (and normalizing) windows, blending them into the band, finishing slabs. */
export interface WindowTimings {
  cutS: number;
  blendS: number;
  finishS: number;
}

const clock = () => Number(process.hrtime.bigint()) / 1e9;

export interface ProbabilitySink {
  channels: readonly number[];
  slab(d0: number, planes: readonly Float32Array[]): void;
}

export interface Logits {
  /** Channel-major [C, d0, d1, d2]; may be a view on a larger buffer. */
  data: Float32Array;
  channels: number;
}

/** MONAI `_get_scan_interval` for one axis (imageSize already padded to at least the patch). */
export function scanInterval(imageSize: number, patch: number, overlap: number): number {
  if (patch === imageSize) return patch;
  const interval = Math.floor(patch * (1 - overlap));
  return interval > 0 ? interval : 1;
}

/** MONAI `dense_patch_slices` window starts along one axis. */
export function windowStarts(imageSize: number, patch: number, interval: number): number[] {
  let count = 1;
  if (interval !== 0) {
    const num = Math.ceil(imageSize / interval);
    count = 1;
    for (let d = 0; d < num; d++) {
      if (d * interval + patch >= imageSize) {
        count = d + 1;
        break;
      }
    }
  }
  const starts: number[] = [];
  for (let idx = 0; idx < count; idx++) {
    const s = idx * interval;
    starts.push(s - Math.max(s + patch - imageSize, 0));
  }
  return starts;
}

/** MONAI `compute_importance_map(mode="gaussian", sigma_scale)` for a 3D patch, computed in float32. */
export function gaussianImportanceMap(patch: Shape3, sigmaScale = 0.125): Float32Array {
  const axes = patch.map((p) => {
    const sigma = p * sigmaScale;
    const g = new Float32Array(p);
    for (let n = 0; n < p; n++) {
      const x = n - (p - 1) / 2;
      g[n] = Math.exp((x * x) / (-2 * sigma * sigma));
    }
    return g;
  });
  const [p0, p1, p2] = patch;
  const map = new Float32Array(p0 * p1 * p2);
  let o = 0;
  let min = Infinity;
  for (let a = 0; a < p0; a++) {
    for (let b = 0; b < p1; b++) {
      // float32 products in the same order as MONAI's unsqueeze-multiply
      const ab = Math.fround(axes[0][a] * axes[1][b]);
      for (let c = 0; c < p2; c++, o++) {
        map[o] = ab * axes[2][c];
        if (map[o] < min) min = map[o];
      }
    }
  }
  const floor = Math.max(min, 1e-3);
  for (let v = 0; v < map.length; v++) if (map[v] < floor) map[v] = floor;
  return map;
}

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

function checkBatchSize(b: number): void {
  if (!Number.isInteger(b) || b < 1) throw new Error(`batch size must be a positive integer (got ${b})`);
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('inference cancelled', 'AbortError');
}

/**
 * Copies the box [start, start + size) of a [d0, d1, d2] array into `out` at `offset`, mirrored along `mirror`
 * (window voxel (a, b, e) takes the image voxel at the mirrored position within the box), then applies `transform`
 * to the copy in place. Two passes on purpose: a row copy reads rows far apart in a large array faster than a
 * per-voxel transform reading them (3 against 1.2 ms per 96^3 window with caches flushed); the values are the same
 * (each voxel is a float32 before and after, transformed once).
 */
function extract(src: Float32Array, shape: Shape3, start: Shape3, size: Shape3, out: Float32Array, offset: number, mirror: readonly MirrorAxis[], transform?: (x: number) => number): void {
  const [f0, f1, f2] = [0, 1, 2].map((a) => mirror.includes(a as MirrorAxis));
  let o = offset;
  for (let a = 0; a < size[0]; a++) {
    const sa = start[0] + (f0 ? size[0] - 1 - a : a);
    for (let b = 0; b < size[1]; b++) {
      const from = (sa * shape[1] + start[1] + (f1 ? size[1] - 1 - b : b)) * shape[2] + start[2];
      if (!f2) out.set(src.subarray(from, from + size[2]), o);
      else for (let e = 0; e < size[2]; e++) out[o + e] = src[from + size[2] - 1 - e];
      o += size[2];
    }
  }
  if (transform) for (let v = offset; v < o; v++) out[v] = transform(out[v]);
}

/** The whole volume with `transform` applied (float32), for the paths that need it materialized. */
function transformed(input: Float32Array, transform?: (x: number) => number): Float32Array {
  if (!transform) return input;
  const out = new Float32Array(input.length);
  for (let v = 0; v < input.length; v++) out[v] = transform(input[v]);
  return out;
}

/** sum[c, a, b, e] += logits[c, mirrored (a, b, e)] for one window's [C, p0, p1, p2] logits (float32 sums). */
function addUnmirrored(sum: Float32Array, logits: Float32Array, channels: number, size: Shape3, mirror: readonly MirrorAxis[]): void {
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

/** Zero-pads `src` (shape) into `padded` shape with `before` voxels in front on each axis. */
function pad(src: Float32Array, shape: Shape3, padded: Shape3, before: Shape3): Float32Array {
  const out = new Float32Array(padded[0] * padded[1] * padded[2]);
  let o = 0;
  for (let a = 0; a < shape[0]; a++) {
    for (let b = 0; b < shape[1]; b++) {
      const to = ((before[0] + a) * padded[1] + before[1] + b) * padded[2] + before[2];
      out.set(src.subarray(o, o + shape[2]), to);
      o += shape[2];
    }
  }
  return out;
}

/**
 * Receives the finished slabs (index along d0 of the padded image) in order: either the blended logits of one
 * slab, channel-major [C, full1, full2], already divided by the summed weights (as MONAI divides), or, when the
 * sink only needs classes, their argmax [full1, full2] straight from the blending kernel.
 */
interface SlabSink {
  slab(d0: number, logits: Float32Array, channels: number): void;
  /** Taken instead of `slab` when given and the model has at most 256 classes. */
  classes?(d0: number, plane: Uint8Array): void;
}

/**
 * Runs every window, accumulating only the band of d0-slabs that windows still overlap: windows are taken in order
 * of their d0 start, so once the next start is past a slab no later window can touch it, and that slab is divided,
 * handed to the sink and its memory reused (a ring of `patch[0]` slabs). Memory is bounded by
 * channels x patch[0] x full1 x full2, not by channels x the whole volume. The per-voxel sums add the windows in
 * the same order as a whole-volume accumulator would, so the values are identical.
 */
async function runWindows(image: Float32Array, full: Shape3, patch: Shape3, overlap: number, run: RunPatch, sink: SlabSink, opts: WindowOptions): Promise<void> {
  const batchSize = opts.batchSize ?? 1;
  checkBatchSize(batchSize);
  const mirrors = ttaMirrors(opts.tta);
  const starts = [0, 1, 2].map((a) => windowStarts(full[a], patch[a], scanInterval(full[a], patch[a], overlap)));
  const windows: Shape3[] = [];
  for (const s0 of starts[0]) for (const s1 of starts[1]) for (const s2 of starts[2]) windows.push([s0, s1, s2]);
  const total = windows.length;
  const weights = gaussianImportanceMap(patch);
  const plane = full[1] * full[2];
  const nPatch = patch[0] * patch[1] * patch[2];
  let band: BlendBand | undefined;
  let channels = 0;
  let done = 0;
  let next = 0; // first slab not yet handed to the sink
  let out: Float32Array | undefined;
  let classPlane: Uint8Array | undefined;
  let byClass = false;
  let inputBuffer: Float32Array | undefined;
  const timings = opts.timings;
  // The windows of one (s0, s1) differ only along d2, and their rows at full width are one contiguous block of the
  // image per slab: that block [p0, p1, full2] is copied and normalized once, and each window cut from it, instead
  // of reading short rows spread over thousands of image pages for every window after a network run has evicted
  // them (bench/inference.bench.ts: 3.0 -> 2.7 s of cutting for a whole body).
  const blockShape: Shape3 = [patch[0], patch[1], full[2]];
  let block: Float32Array | undefined;
  let blockAt: readonly [number, number] | undefined;
  const cut = (start: Shape3, out: Float32Array, offset: number, mirror: readonly MirrorAxis[]): void => {
    if (blockAt?.[0] !== start[0] || blockAt[1] !== start[1]) {
      block ??= new Float32Array(blockShape[0] * blockShape[1] * blockShape[2]);
      extract(image, full, [start[0], start[1], 0], blockShape, block, 0, [], opts.transform);
      blockAt = [start[0], start[1]];
    }
    extract(block!, blockShape, [0, 0, start[2]], patch, out, offset, mirror);
  };
  const finish = (upTo: number): void => {
    const t = timings && next < upTo ? clock() : 0;
    for (; next < upTo; next++) {
      if (byClass) {
        classPlane ??= new Uint8Array(plane);
        band!.finishClasses(next, classPlane);
        sink.classes!(next, classPlane);
      } else {
        out ??= new Float32Array(channels * plane);
        band!.finishLogits(next, out);
        sink.slab(next, out, channels);
      }
    }
    if (t) timings!.finishS += clock() - t;
  };
  /** Adds one window's logits [C, p0, p1, p2], weighted, into the band; slabs before its start are finished first. */
  const accumulate = (start: Shape3, logits: Float32Array): void => {
    finish(start[0]);
    const t = timings ? clock() : 0;
    band!.add(start, logits);
    if (t) timings!.blendS += clock() - t;
  };
  const runBatch = async (batch: readonly Shape3[], mirror: readonly MirrorAxis[]): Promise<Float32Array> => {
    throwIfAborted(opts.signal);
    // one input buffer reused: run() has returned before the next window is cut, and every voxel is overwritten
    if (inputBuffer?.length !== batch.length * nPatch) inputBuffer = new Float32Array(batch.length * nPatch);
    const input = inputBuffer;
    const t = timings ? clock() : 0;
    batch.forEach((start, i) => cut(start, input, i * nPatch, mirror));
    if (t) timings!.cutS += clock() - t;
    const result = await run(input, patch, batch.length, band?.outputArea(batch.length));
    if (!band) {
      channels = result.channels;
      byClass = sink.classes !== undefined && channels <= 256;
      band = createBand({ channels, patch, full, starts: starts as [number[], number[], number[]], batchSize }, weights);
    } else if (result.channels !== channels) {
      throw new Error(`model returned ${result.channels} channels for one window and ${channels} for another`);
    }
    if (result.data.length !== batch.length * channels * nPatch) {
      throw new Error(`model output has ${result.data.length} values for ${batch.length} ${patch.join('x')} window(s) of ${channels} channels`);
    }
    return result.data;
  };
  /** Every window in order, then the slabs left; the band's memory is given back however this ends. */
  const runAll = async (): Promise<void> => {
    for (let first = 0; first < total; first += batchSize) {
      const batch = windows.slice(first, first + batchSize);
      let logits = await runBatch(batch, mirrors[0]);
      if (mirrors.length > 1) {
        // float32 sums per window over the mirrors, in nnU-Net's order, then one division
        const sums = logits.slice();
        for (const mirror of mirrors.slice(1)) {
          const m = await runBatch(batch, mirror);
          for (let i = 0; i < batch.length; i++) {
            const len = channels * nPatch;
            addUnmirrored(sums.subarray(i * len, (i + 1) * len), m.subarray(i * len, (i + 1) * len), channels, patch, mirror);
          }
        }
        for (let v = 0; v < sums.length; v++) sums[v] /= mirrors.length;
        logits = sums;
      }
      for (let i = 0; i < batch.length; i++) {
        accumulate(batch[i], logits.subarray(i * channels * nPatch, (i + 1) * channels * nPatch));
        opts.onProgress?.(++done, total);
      }
    }
    if (!band) throw new Error('no windows to run');
    finish(full[0]);
  };
  opts.onProgress?.(0, total);
  try {
    await runAll();
  } finally {
    band?.release();
  }
}

/** Pads the image as MONAI does (axes shorter than the patch; floor(diff / 2) before). */
function padToPatch(input: Float32Array, shape: Shape3, patch: Shape3, opts: WindowOptions): { image: Float32Array; full: Shape3; before: Shape3; opts: WindowOptions } {
  const full = [0, 1, 2].map((a) => Math.max(shape[a], patch[a])) as unknown as Shape3;
  const before = [0, 1, 2].map((a) => Math.floor((full[a] - shape[a]) / 2)) as unknown as Shape3;
  const padded = full.some((d, a) => d !== shape[a]);
  if (!padded) return { image: input, full, before, opts };
  // the zero padding must stay 0 after the transform: transform first, then pad (a volume smaller than a patch)
  return { image: pad(transformed(input, opts.transform), shape, full, before), full, before, opts: { ...opts, transform: undefined } };
}

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

/** The whole image in one run, no padding (the network must accept its size); mirrored as `opts.tta` asks. */
export async function wholeVolumeLogits(raw: Float32Array, shape: Shape3, run: RunPatch, opts: WindowOptions = {}): Promise<Logits> {
  const input = transformed(raw, opts.transform);
  const mirrors = ttaMirrors(opts.tta);
  const n = shape[0] * shape[1] * shape[2];
  opts.onProgress?.(0, 1);
  let sums: Float32Array | undefined;
  let channels = 0;
  for (const mirror of mirrors) {
    throwIfAborted(opts.signal);
    let fed = input;
    if (mirror.length) {
      fed = new Float32Array(n);
      extract(input, shape, [0, 0, 0], shape, fed, 0, mirror);
    }
    const out = await run(fed, shape, 1);
    if (out.data.length !== out.channels * n) throw new Error(`model output has ${out.data.length} values for a ${shape.join('x')} input of ${out.channels} channels`);
    if (!sums) {
      channels = out.channels;
      if (mirrors.length === 1) {
        opts.onProgress?.(1, 1);
        return out;
      }
      sums = out.data.slice();
    } else {
      if (out.channels !== channels) throw new Error(`model returned ${out.channels} channels for one input and ${channels} for another`);
      addUnmirrored(sums, out.data, channels, shape, mirror);
    }
  }
  for (let v = 0; v < sums!.length; v++) sums![v] /= mirrors.length;
  opts.onProgress?.(1, 1);
  return { data: sums!, channels };
}

/**
 * Index of the largest channel per voxel (the first one on ties, as torch.argmax), as uint8 when the
 * channel count allows, else uint16.
 */
export function argmaxChannels(logits: Logits, n: number): Uint8Array | Uint16Array {
  const { data, channels } = logits;
  const out = channels <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  if (channels === 0) return out;
  const best = data.slice(0, n);
  for (let c = 1; c < channels; c++) {
    const base = c * n;
    for (let v = 0; v < n; v++) {
      const x = data[base + v];
      if (x > best[v]) {
        best[v] = x;
        out[v] = c;
      }
    }
  }
  return out;
}

/**
 * The softmax probabilities of `channels` from whole-volume logits [C, d0, d1, d2], handed over slab by slab as
 * slidingWindowClasses does with `probabilities`.
 */
export function probabilitySlabs(logits: Logits, shape: Shape3, sink: ProbabilitySink): void {
  const { data, channels } = logits;
  const n = shape[0] * shape[1] * shape[2];
  const plane = shape[1] * shape[2];
  const bad = sink.channels.find((c) => !Number.isInteger(c) || c < 0 || c >= channels);
  if (bad !== undefined) throw new Error(`probabilities asked for channel ${bad}; the model outputs ${channels}`);
  const planes = sink.channels.map(() => new Float32Array(plane));
  for (let a = 0; a < shape[0]; a++) {
    for (let v = 0; v < plane; v++) {
      const at = a * plane + v;
      let best = data[at];
      for (let c = 1; c < channels; c++) if (data[c * n + at] > best) best = data[c * n + at];
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += Math.exp(data[c * n + at] - best);
      for (let i = 0; i < sink.channels.length; i++) planes[i][v] = Math.exp(data[sink.channels[i] * n + at] - best) / sum;
    }
    sink.slab(a, planes);
  }
}
