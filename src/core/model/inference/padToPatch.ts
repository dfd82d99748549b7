/** MONAI's zero padding of axes shorter than the patch (step 1 of slidingWindow.ts). */
import { transformed } from './cutWindow';
import type { Shape3, WindowOptions } from './types';

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

/** Pads the image as MONAI does (axes shorter than the patch; floor(diff / 2) before). */
export function padToPatch(input: Float32Array, shape: Shape3, patch: Shape3, opts: WindowOptions): { image: Float32Array; full: Shape3; before: Shape3; opts: WindowOptions } {
  const full = [0, 1, 2].map((a) => Math.max(shape[a], patch[a])) as unknown as Shape3;
  const before = [0, 1, 2].map((a) => Math.floor((full[a] - shape[a]) / 2)) as unknown as Shape3;
  const padded = full.some((d, a) => d !== shape[a]);
  if (!padded) return { image: input, full, before, opts };
  // the zero padding must stay 0 after the transform: transform first, then pad (a volume smaller than a patch)
  return { image: pad(transformed(input, opts.transform), shape, full, before), full, before, opts: { ...opts, transform: undefined } };
}
