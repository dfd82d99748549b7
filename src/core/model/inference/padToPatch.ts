/** MONAI's zero padding of axes shorter than the patch (step 1 of slidingWindow.ts). */
import { contiguous, transformed } from './cutWindow';
import type { Shape3, SourceVolume, WindowOptions } from './types';

/** Zero-pads `src` (shape, contiguous) into `padded` shape with `before` voxels in front on each axis. */
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
 * Pads the image as MONAI does (axes shorter than the patch; floor(diff / 2) before). The image is read with
 * `opts.strides` (contiguous when absent); a padded one becomes a contiguous float32 copy, already transformed.
 */
export function padToPatch(input: SourceVolume['data'], shape: Shape3, patch: Shape3, opts: WindowOptions): { image: SourceVolume; full: Shape3; before: Shape3; opts: WindowOptions } {
  const full = [0, 1, 2].map((a) => Math.max(shape[a], patch[a])) as unknown as Shape3;
  const before = [0, 1, 2].map((a) => Math.floor((full[a] - shape[a]) / 2)) as unknown as Shape3;
  const source: SourceVolume = opts.strides ? { data: input, strides: opts.strides } : contiguous(input, shape);
  const padded = full.some((d, a) => d !== shape[a]);
  if (!padded) return { image: source, full, before, opts };
  // the zero padding must stay 0 after the transform: transform first, then pad (a volume smaller than a patch)
  const image = pad(transformed(source, shape, opts.transform), shape, full, before);
  return { image: contiguous(image, full), full, before, opts: { ...opts, transform: undefined } };
}
