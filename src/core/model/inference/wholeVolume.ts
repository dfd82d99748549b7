/** Inference without windows: the whole image in one network run, for cards whose patchSize is null. */
import { contiguous, extract, transformed } from './cutWindow';
import { addUnmirrored, ttaMirrors } from './mirroring';
import { throwIfAborted } from './runWindows';
import type { IntensityArray, Logits, RunPatch, Shape3, WindowOptions } from './types';

/** The whole image in one run, no padding (the network must accept its size); mirrored as `opts.tta` asks. */
export async function wholeVolumeLogits(raw: IntensityArray, shape: Shape3, run: RunPatch, opts: WindowOptions = {}): Promise<Logits> {
  const input = transformed(opts.strides ? { data: raw, strides: opts.strides } : contiguous(raw, shape), shape, opts.transform);
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
