/**
 * The window loop: every window cut, run (in batches, mirrored for TTA) and blended into a band of slabs across the
 * sweep axis (the longest, blendBand.ts sweepAxis) that is finished slab by slab into a sink (slidingWindow.ts
 * makes the sinks).
 */
import { createBand, planeAxes, sweepAxis, type BlendBand } from './blendBand';
import { copyBox, extract } from './cutWindow';
import { gaussianImportanceMap } from './importanceMap';
import { addUnmirrored, ttaMirrors } from './mirroring';
import type { MirrorAxis, RunPatch, Shape3, SourceVolume, WindowOptions } from './types';
import { scanInterval, windowStarts } from './windowGrid';

const clock = () => Number(process.hrtime.bigint()) / 1e9;

function checkBatchSize(b: number): void {
  if (!Number.isInteger(b) || b < 1) throw new Error(`batch size must be a positive integer (got ${b})`);
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('inference cancelled', 'AbortError');
}

/**
 * Receives the finished slabs across the sweep axis s (index along s of the padded image) in order: either the
 * blended logits of one slab, channel-major [C, full_u, full_v] (u < v the other two axes), already divided by the
 * summed weights (as MONAI divides), or, when the sink only needs classes, their argmax [full_u, full_v] straight
 * from the blending kernel.
 */
export interface SlabSink {
  slab(x: number, logits: Float32Array, channels: number): void;
  /** Taken instead of `slab` when given and the model has at most 256 classes. */
  classes?(x: number, plane: Uint8Array): void;
}

/** The order windows are taken in: the sweep axis slowest, then the other two in tensor order (slidingWindow.ts). */
export function windowOrder(full: Shape3, patch: Shape3, overlap: number): { sweep: 0 | 1 | 2; starts: [number[], number[], number[]]; windows: Shape3[] } {
  const starts = [0, 1, 2].map((a) => windowStarts(full[a], patch[a], scanInterval(full[a], patch[a], overlap))) as [number[], number[], number[]];
  const sweep = sweepAxis(full);
  const [u, v] = planeAxes(sweep);
  const windows: Shape3[] = [];
  const at = [0, 0, 0];
  for (const ss of starts[sweep]) {
    at[sweep] = ss;
    for (const su of starts[u]) {
      at[u] = su;
      for (const sv of starts[v]) {
        at[v] = sv;
        windows.push([at[0], at[1], at[2]]);
      }
    }
  }
  return { sweep, starts, windows };
}

/**
 * Runs every window, accumulating only the band of slabs that windows still overlap: windows are taken in order of
 * their start along the sweep axis, so once the next start is past a slab no later window can touch it, and that
 * slab is divided, handed to the sink and its memory reused (a ring of `patch[s]` slabs). Memory is bounded by
 * channels x patch[s] x full_u x full_v, not by channels x the whole volume. The per-voxel sums add the windows in
 * the same order as a whole-volume accumulator taking the windows in this order would, so the values are identical
 * to that accumulator's.
 */
export async function runWindows(image: SourceVolume, full: Shape3, patch: Shape3, overlap: number, run: RunPatch, sink: SlabSink, opts: WindowOptions): Promise<void> {
  const batchSize = opts.batchSize ?? 1;
  checkBatchSize(batchSize);
  const mirrors = ttaMirrors(opts.tta);
  const { sweep, starts, windows } = windowOrder(full, patch, overlap);
  const [u, v] = planeAxes(sweep);
  const total = windows.length;
  const weights = gaussianImportanceMap(patch);
  const plane = full[u] * full[v];
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
  // Consecutive windows differ only along v, and together they cover one block of the image, patch-sized on the
  // other axes and full along v: that block is copied (in the image's stored type, along its memory order) and
  // normalized once, and each window cut from it, instead of reading short rows spread over thousands of image
  // pages for every window after a network run has evicted them (bench/inference.bench.ts: 3.0 -> 2.7 s of
  // cutting for a whole body).
  const blockShape = [patch[0], patch[1], patch[2]];
  blockShape[v] = full[v];
  let block: Float32Array | undefined;
  let blockAt: readonly [number, number] | undefined;
  const cut = (start: Shape3, out: Float32Array, offset: number, mirror: readonly MirrorAxis[]): void => {
    if (blockAt?.[0] !== start[sweep] || blockAt[1] !== start[u]) {
      block ??= new Float32Array(blockShape[0] * blockShape[1] * blockShape[2]);
      const from = [start[0], start[1], start[2]];
      from[v] = 0;
      copyBox(image, from as unknown as Shape3, blockShape as unknown as Shape3, block, opts.transform);
      blockAt = [start[sweep], start[u]];
    }
    const within = [0, 0, 0];
    within[v] = start[v];
    extract(block!, blockShape as unknown as Shape3, within as unknown as Shape3, patch, out, offset, mirror);
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
    finish(start[sweep]);
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
      band = createBand({ channels, patch, full, starts, batchSize, sweep, dtype: opts.bandDtype }, weights);
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
    finish(full[sweep]);
  };
  opts.onProgress?.(0, total);
  try {
    await runAll();
  } finally {
    band?.release();
  }
}
