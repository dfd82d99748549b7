/**
 * The accumulators of sliding-window blending (slidingWindow.ts) for a ring of d0-slabs, and the add of one
 * window's weighted logits into them:
 *   acc[c][slot(s0 + a)][(s1 + b) * full2 + s2 + e] += f32(logits[c][a][b][e] * weights[a][b][e])
 *   count[slot(s0 + a)][(s1 + b) * full2 + s2 + e] += weights[a][b][e]
 * with slot(x) = (x mod ring) * full1 * full2 and every product rounded to float32 before the add, as PyTorch does
 * for MONAI's float32 `importance_map * logits` and `+=`.
 *
 * Two implementations giving the same bits: WebAssembly SIMD (blendKernel.wat; the band lives in the module's
 * memory, four voxels per instruction, about twice the speed of the scalar loop, which is most of the time spent
 * outside the network on small models) and plain JavaScript, used where the band does not fit a 32-bit
 * WebAssembly memory (4 GiB) or when UMD_LENS_BLEND=js asks for it; the tests hold the two equal.
 */
import kernelBytes from './blendKernel.wat';

type Shape3 = readonly [number, number, number];

export interface BlendBand {
  readonly kind: 'wasm' | 'js';
  /** [channels][ring][full1 * full2] weighted logit sums. */
  readonly acc: Float32Array;
  /** [ring][full1 * full2] summed weights. */
  readonly count: Float32Array;
  /** Adds one window's logits [channels, p0, p1, p2] at `start`. */
  add(start: Shape3, logits: Float32Array): void;
}

export interface BandGeometry {
  channels: number;
  patch: Shape3;
  /** Padded image shape [d0, d1, d2]. */
  full: Shape3;
  /** Slabs held (the patch's d0 size). */
  ring: number;
}

const PAGE = 65536;
const MAX_PAGES = 65536; // a 32-bit memory: 4 GiB
let compiled: WebAssembly.Module | null | undefined;

function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(kernelBytes);
    } catch {
      compiled = null; // no WebAssembly SIMD in this runtime: the JavaScript band does the same
    }
  }
  return compiled;
}

export function createBand(geom: BandGeometry, weights: Float32Array, prefer: 'wasm' | 'js' = process.env.UMD_LENS_BLEND === 'js' ? 'js' : 'wasm'): BlendBand {
  if (prefer === 'wasm') {
    const band = wasmBand(geom, weights);
    if (band) return band;
  }
  return jsBand(geom, weights);
}

function wasmBand({ channels, patch, full, ring }: BandGeometry, weights: Float32Array): BlendBand | null {
  const module = kernelModule();
  if (!module) return null;
  const plane = full[1] * full[2];
  const nPatch = patch[0] * patch[1] * patch[2];
  const floats = [channels * ring * plane, ring * plane, channels * nPatch, nPatch];
  const bytes = floats.reduce((s, n) => s + n * 4, 0);
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) return null;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    return null; // the allocation failed: the JavaScript band may still fit as separate arrays
  }
  const { accumulate } = new WebAssembly.Instance(module, { env: { memory } }).exports as {
    accumulate: (...args: number[]) => void;
  };
  let offset = 0;
  const take = (n: number): Float32Array => {
    const view = new Float32Array(memory.buffer, offset, n);
    offset += n * 4;
    return view;
  };
  const [acc, count, logitsIn, w] = floats.map(take);
  w.set(weights);
  return {
    kind: 'wasm',
    acc,
    count,
    add([s0, s1, s2], logits) {
      logitsIn.set(logits);
      accumulate(acc.byteOffset, count.byteOffset, logitsIn.byteOffset, w.byteOffset, channels, patch[0], patch[1], patch[2], ring, plane, full[2], s0, s1, s2);
    },
  };
}

function jsBand({ channels, patch, full, ring }: BandGeometry, weights: Float32Array): BlendBand {
  const plane = full[1] * full[2];
  const nPatch = patch[0] * patch[1] * patch[2];
  const acc = new Float32Array(channels * ring * plane);
  const count = new Float32Array(ring * plane);
  return {
    kind: 'js',
    acc,
    count,
    add([s0, s1, s2], logits) {
      const W = weights;
      const p12 = patch[1] * patch[2];
      const n2 = patch[2];
      for (let a = 0; a < patch[0]; a++) {
        const r = ((s0 + a) % ring) * plane;
        const w0 = a * p12;
        for (let c = 0; c < channels; c++) {
          const accBase = c * ring * plane + r;
          const from0 = c * nPatch + w0;
          for (let b = 0; b < patch[1]; b++) {
            const to = accBase + (s1 + b) * full[2] + s2;
            const w = w0 + b * n2;
            const from = from0 + b * n2;
            for (let e = 0; e < n2; e++) acc[to + e] += Math.fround(logits[from + e] * W[w + e]);
          }
        }
        for (let b = 0; b < patch[1]; b++) {
          const to = r + (s1 + b) * full[2] + s2;
          const w = w0 + b * n2;
          for (let e = 0; e < n2; e++) count[to + e] += W[w + e];
        }
      }
    },
  };
}
