/**
 * Patch-wise inference with the semantics of MONAI's `sliding_window_inference` (MONAI 1.x) for one image,
 * sw_batch_size 1, mode "gaussian", sigma_scale 0.125, padding_mode "constant" with cval 0:
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
 *    max(min(map), 1e-3)), summed, and divided by the summed weights.
 * 5. The padding is cropped away.
 *
 * Shapes are in tensor spatial order [d0, d1, d2], d2 fastest in memory; logits are channel-major [C, d0, d1, d2].
 */

export type Shape3 = readonly [number, number, number];

/** Runs the network on one [1, 1, d0, d1, d2] input; returns [1, C, d0, d1, d2] logits, channel-major. */
export type RunPatch = (input: Float32Array, shape: Shape3) => Promise<{ data: Float32Array; channels: number }>;

export interface WindowOptions {
  overlap?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
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

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('inference cancelled', 'AbortError');
}

/** Copies the box [start, start + size) of a [d0, d1, d2] array into a compact array. */
function extract(src: Float32Array, shape: Shape3, start: Shape3, size: Shape3): Float32Array {
  const out = new Float32Array(size[0] * size[1] * size[2]);
  let o = 0;
  for (let a = 0; a < size[0]; a++) {
    for (let b = 0; b < size[1]; b++) {
      const from = ((start[0] + a) * shape[1] + start[1] + b) * shape[2] + start[2];
      out.set(src.subarray(from, from + size[2]), o);
      o += size[2];
    }
  }
  return out;
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
 * Receives the finished slabs (index along d0 of the padded image) in order: the blended logits of one slab,
 * channel-major [C, full1, full2], already divided by the summed weights (as MONAI divides), and the geometry.
 */
interface SlabSink {
  slab(d0: number, logits: Float32Array, channels: number): void;
}

/**
 * Runs every window, accumulating only the band of d0-slabs that windows still overlap: windows are taken in order
 * of their d0 start, so once the next start is past a slab no later window can touch it, and that slab is divided,
 * handed to the sink and its memory reused (a ring of `patch[0]` slabs). Memory is bounded by
 * channels x patch[0] x full1 x full2, not by channels x the whole volume. The per-voxel sums add the windows in
 * the same order as a whole-volume accumulator would, so the values are identical.
 */
async function runWindows(image: Float32Array, full: Shape3, patch: Shape3, overlap: number, run: RunPatch, sink: SlabSink, opts: WindowOptions): Promise<void> {
  const starts = [0, 1, 2].map((a) => windowStarts(full[a], patch[a], scanInterval(full[a], patch[a], overlap)));
  const total = starts[0].length * starts[1].length * starts[2].length;
  const weights = gaussianImportanceMap(patch);
  const plane = full[1] * full[2];
  const ring = patch[0];
  const nPatch = patch[0] * patch[1] * patch[2];
  const count = new Float32Array(ring * plane);
  let acc: Float32Array | undefined;
  let channels = 0;
  let done = 0;
  let next = 0; // first slab not yet handed to the sink
  const slabOut = (): Float32Array => new Float32Array(channels * plane);
  let out: Float32Array | undefined;
  const finish = (upTo: number): void => {
    for (; next < upTo; next++) {
      const r = (next % ring) * plane;
      out ??= slabOut();
      for (let c = 0; c < channels; c++) {
        const base = c * ring * plane + r;
        for (let v = 0; v < plane; v++) out[c * plane + v] = acc![base + v] / count[r + v];
        acc!.fill(0, base, base + plane);
      }
      count.fill(0, r, r + plane);
      sink.slab(next, out, channels);
    }
  };
  opts.onProgress?.(0, total);
  for (const s0 of starts[0]) {
    if (acc) finish(s0);
    for (const s1 of starts[1]) {
      for (const s2 of starts[2]) {
        throwIfAborted(opts.signal);
        const result = await run(extract(image, full, [s0, s1, s2], patch), patch);
        if (!acc) {
          channels = result.channels;
          acc = new Float32Array(channels * ring * plane);
        } else if (result.channels !== channels) {
          throw new Error(`model returned ${result.channels} channels for one window and ${channels} for another`);
        }
        if (result.data.length !== channels * nPatch) {
          throw new Error(`model output has ${result.data.length} values for a ${patch.join('x')} window of ${channels} channels`);
        }
        for (let a = 0; a < patch[0]; a++) {
          const r = ((s0 + a) % ring) * plane;
          for (let c = 0; c < channels; c++) {
            const accBase = c * ring * plane + r;
            let w = a * patch[1] * patch[2];
            let from = c * nPatch + w;
            for (let b = 0; b < patch[1]; b++) {
              let to = accBase + (s1 + b) * full[2] + s2;
              for (let e = 0; e < patch[2]; e++, w++, to++, from++) acc[to] += result.data[from] * weights[w];
            }
          }
          let w = a * patch[1] * patch[2];
          for (let b = 0; b < patch[1]; b++) {
            let to = r + (s1 + b) * full[2] + s2;
            for (let e = 0; e < patch[2]; e++, w++, to++) count[to] += weights[w];
          }
        }
        opts.onProgress?.(++done, total);
      }
    }
  }
  if (!acc) throw new Error('no windows to run');
  finish(full[0]);
}

/** Pads the image as MONAI does (axes shorter than the patch; floor(diff / 2) before). */
function padToPatch(input: Float32Array, shape: Shape3, patch: Shape3): { image: Float32Array; full: Shape3; before: Shape3 } {
  const full = [0, 1, 2].map((a) => Math.max(shape[a], patch[a])) as unknown as Shape3;
  const before = [0, 1, 2].map((a) => Math.floor((full[a] - shape[a]) / 2)) as unknown as Shape3;
  const padded = full.some((d, a) => d !== shape[a]);
  return { image: padded ? pad(input, shape, full, before) : input, full, before };
}

function checkOverlap(overlap: number): void {
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`overlap must be in [0, 1) (got ${overlap})`);
}

/** Sliding-window logits for `input` (shape), MONAI-equivalent as described in this module's header. */
export async function slidingWindowLogits(input: Float32Array, shape: Shape3, patch: Shape3, run: RunPatch, opts: WindowOptions = {}): Promise<Logits> {
  const overlap = opts.overlap ?? 0.5;
  checkOverlap(overlap);
  const { image, full, before } = padToPatch(input, shape, patch);
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
  }, opts);
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
  const { image, full, before } = padToPatch(input, shape, patch);
  const n = shape[0] * shape[1] * shape[2];
  let classes: Uint8Array | Uint16Array | undefined;
  await runWindows(image, full, patch, overlap, run, {
    slab(d0, slab, channels) {
      classes ??= channels <= 256 ? new Uint8Array(n) : new Uint16Array(n);
      const a = d0 - before[0];
      if (a < 0 || a >= shape[0]) return;
      const plane = full[1] * full[2];
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
        }
      }
    },
  }, opts);
  return classes!;
}

/** The whole image in one run, no padding (the network must accept its size). */
export async function wholeVolumeLogits(input: Float32Array, shape: Shape3, run: RunPatch, opts: WindowOptions = {}): Promise<Logits> {
  throwIfAborted(opts.signal);
  opts.onProgress?.(0, 1);
  const out = await run(input, shape);
  const n = shape[0] * shape[1] * shape[2];
  if (out.data.length !== out.channels * n) throw new Error(`model output has ${out.data.length} values for a ${shape.join('x')} input of ${out.channels} channels`);
  opts.onProgress?.(1, 1);
  return out;
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
