/**
 * The window loop: every window cut, run (in batches, mirrored for TTA) and blended into a band of d0-slabs that is
 * finished slab by slab into a sink (slidingWindow.ts makes the sinks).
 */
import { createBand, type BlendBand } from './blendBand';
import { extract } from './cutWindow';
import { gaussianImportanceMap } from './importanceMap';
import { addUnmirrored, ttaMirrors } from './mirroring';
import type { MirrorAxis, RunPatch, Shape3, WindowOptions } from './types';
import { scanInterval, windowStarts } from './windowGrid';

const clock = () => Number(process.hrtime.bigint()) / 1e9;

function checkBatchSize(b: number): void {
  if (!Number.isInteger(b) || b < 1) throw new Error(`batch size must be a positive integer (got ${b})`);
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('inference cancelled', 'AbortError');
}

/**
 * Receives the finished slabs (index along d0 of the padded image) in order: either the blended logits of one
 * slab, channel-major [C, full1, full2], already divided by the summed weights (as MONAI divides), or, when the
 * sink only needs classes, their argmax [full1, full2] straight from the blending kernel.
 */
export interface SlabSink {
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
export async function runWindows(image: Float32Array, full: Shape3, patch: Shape3, overlap: number, run: RunPatch, sink: SlabSink, opts: WindowOptions): Promise<void> {
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
