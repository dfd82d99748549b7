/**
 * A promptable model's output logits -> the organ's 0/1 mask on the crop: resized from the card's `logits.size`
 * (low resolution, SAM-Med3D's 32^3 for a 128^3 crop) to the crop as PyTorch resizes it, then the card's
 * `logits.activation` (docs/foundation-models.md, section 1).
 */
import type * as ort from 'onnxruntime-node';
import type { Grid } from '../../geometry/affine';
import type { LogitsSpec, ModelCard } from '../card/modelCard';
import { ModelError } from '../session';

/** Three spatial sizes in tensor order (last fastest). */
export type Size3 = readonly [number, number, number];

/**
 * Source index and weight of each output position along one axis, as PyTorch computes them (float32 opmath,
 * upsample kernels with an output size and no scale factor):
 * - linear (align_corners=False): scale = in / out; src = max(0, scale * (dst + 0.5) - 0.5); i0 = floor(src),
 *   i1 = min(i0 + 1, in - 1), w1 = src - i0 (0 at the last input voxel: edge values repeat);
 * - nearest (legacy "nearest", not "nearest-exact"): src = min(floor(dst * scale), in - 1), w1 = 0.
 */
function axisWeights(nIn: number, nOut: number, mode: 'trilinear' | 'nearest'): { i0: Int32Array; i1: Int32Array; w1: Float32Array } {
  const i0 = new Int32Array(nOut);
  const i1 = new Int32Array(nOut);
  const w1 = new Float32Array(nOut);
  const scale = Math.fround(nIn / nOut);
  for (let d = 0; d < nOut; d++) {
    if (mode === 'nearest') {
      i0[d] = i1[d] = nOut === nIn ? d : Math.min(Math.floor(Math.fround(d * scale)), nIn - 1);
      continue;
    }
    const src = Math.max(0, Math.fround(Math.fround(scale * (d + 0.5)) - 0.5));
    const lo = Math.min(Math.floor(src), nIn - 1);
    i0[d] = lo;
    i1[d] = lo < nIn - 1 ? lo + 1 : lo;
    w1[d] = Math.min(Math.max(Math.fround(src - lo), 0), 1);
  }
  return { i0, i1, w1 };
}

/** One axis: [outer, nIn, inner] -> [outer, nOut, inner], out = (1 - w1) * x[i0] + w1 * x[i1]. */
function resizeAxis(src: Float32Array, outer: number, nIn: number, inner: number, nOut: number, mode: 'trilinear' | 'nearest'): Float32Array {
  if (nIn === nOut) return src;
  const { i0, i1, w1 } = axisWeights(nIn, nOut, mode);
  const out = new Float32Array(outer * nOut * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * nIn * inner;
    for (let d = 0; d < nOut; d++) {
      const a = base + i0[d] * inner;
      const b = base + i1[d] * inner;
      const w = w1[d];
      const w0 = 1 - w;
      const dst = (o * nOut + d) * inner;
      if (w === 0) out.set(src.subarray(a, a + inner), dst);
      else for (let x = 0; x < inner; x++) out[dst + x] = w0 * src[a + x] + w * src[b + x];
    }
  }
  return out;
}

/**
 * Resizes `channels` volumes of size `from` (tensor layout [C, d0, d1, d2], d2 fastest) to `to`, with the
 * semantics of PyTorch's `F.interpolate(x, size=to, mode="trilinear", align_corners=False)` (or
 * `mode="nearest"`). Trilinear is separable: the last axis first, then d1, then d0, which is the order of
 * PyTorch's own nested interpolation; each pass is computed in float64 and stored as float32. Against torch 1.13's
 * own values (test/unit/encoderDecoder.test.ts, test/fixtures/interpolate): bit-identical for SAM-Med3D's
 * 32^3 -> 128^3 (its weights are multiples of 1/8), within 2 float32 ulps (1.9e-6 on values in [-8, 8]) for
 * factors like 2 -> 5.
 */
export function resizeLogits(data: Float32Array, channels: number, from: Size3, to: Size3, mode: 'trilinear' | 'nearest' = 'trilinear'): Float32Array {
  if (data.length !== channels * from[0] * from[1] * from[2]) throw new Error(`resizeLogits: ${data.length} values do not fill ${channels} x [${from.join(', ')}]`);
  const a = resizeAxis(data, channels * from[0] * from[1], from[2], 1, to[2], mode);
  const b = resizeAxis(a, channels * from[0], from[1], to[2], to[1], mode);
  return resizeAxis(b, channels, from[0], to[1] * to[2], to[0], mode);
}

/**
 * Foreground per voxel of [C, n] logits: C = 1, logit > 0 (sigmoid > 0.5); C >= 2 with activation "sigmoid",
 * channel 1's logit > 0; C >= 2 otherwise (softmax), channel 1 is the argmax (the first channel wins ties, as
 * numpy's argmax).
 */
export function foreground(logits: Float32Array, channels: number, n: number, activation: LogitsSpec['activation']): Uint8Array {
  const mask = new Uint8Array(n);
  if (channels === 1 || activation === 'sigmoid') {
    const off = channels === 1 ? 0 : n;
    for (let v = 0; v < n; v++) mask[v] = logits[off + v] > 0 ? 1 : 0;
    return mask;
  }
  for (let v = 0; v < n; v++) {
    let best = 0;
    for (let ch = 1; ch < channels; ch++) if (logits[ch * n + v] > logits[best * n + v]) best = ch;
    mask[v] = best === 1 ? 1 : 0;
  }
  return mask;
}

/** The crop's spatial size in tensor order ((i, j, k) dims of `grid` in the card's spatialOrder). */
export function cropTensorSize(card: ModelCard, grid: Grid): Size3 {
  const [n0, n1, n2] = grid.dims;
  return card.spatialOrder === 'kji' ? [n2, n1, n0] : [n0, n1, n2];
}

/**
 * The model's output `out` ([1, C, ...] logits at the card's `logits.size`, else at the crop's size) -> the 0/1
 * mask on `grid`, i fastest: resized to the crop (`logits.upsample`, default trilinear), activated, and brought
 * from the tensor's spatial order to (i, j, k).
 */
export function cropMaskFromLogits(out: ort.Tensor, card: ModelCard, grid: Grid, onnxPath: string): Uint8Array {
  const crop = cropTensorSize(card, grid);
  const size = card.logits?.size ?? crop;
  const n = crop[0] * crop[1] * crop[2];
  const nOut = size[0] * size[1] * size[2];
  let logits = out.data as Float32Array;
  const c = out.dims.length === 5 ? out.dims[1] : 1;
  const spatialOk = out.dims.length !== 5 || (out.dims[2] === size[0] && out.dims[3] === size[1] && out.dims[4] === size[2]);
  if (logits.length !== c * nOut || !spatialOk) {
    throw new ModelError(onnxPath, `output "${card.outputs.logits}" has shape [${out.dims.join(', ')}]; expected [1, C, ${size.join(', ')}]${card.logits?.size ? ' (the card\'s logits.size)' : ''}`);
  }
  if (nOut !== n || size.some((s, a) => s !== crop[a])) logits = resizeLogits(logits, c, size, crop, card.logits?.upsample ?? 'trilinear');
  const maskT = foreground(logits, c, n, card.logits?.activation);
  if (card.spatialOrder === 'kji') return maskT;
  // (i, j, k) tensor order (k fastest) back to i fastest
  const [n0, n1, n2] = grid.dims;
  const mask = new Uint8Array(n);
  for (let k = 0; k < n2; k++) for (let j = 0; j < n1; j++) for (let i = 0; i < n0; i++) mask[i + n0 * (j + n1 * k)] = maskT[k + n2 * (j + n1 * i)];
  return mask;
}
