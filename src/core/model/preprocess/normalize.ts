/**
 * Intensity normalization before inference, as the model card's `normalization` entry prescribes.
 *
 * - none: values as read (scl_slope/inter applied).
 * - minmax: (x - min) / (max - min) over the whole volume, to 0..1; a constant volume becomes all 0.
 * - zscore: (x - mean) / std, with the card's mean/std when given, else the volume's own (population std).
 *   With `mask`, the statistics come from the masked voxels only, only those are normalized, and the rest
 *   become 0 (MONAI NormalizeIntensity(nonzero=True), nnU-Net ZScoreNormalization with use_mask_for_norm);
 *   with `outside: "scaled"` the rest are z-scored too (torchio ZNormalization(masking_method=...), whose std is
 *   torch's unbiased one: a factor sqrt(n / (n - 1)) from ours, 5e-7 relative for a million masked voxels).
 * - clip-zscore: x clipped to [lower, upper], then z-scored with the card's mean/std (nnU-Net's CT scheme),
 *   or, when the card gives none, with the clipped volume's own. The bounds may instead be percentiles of this
 *   volume (lowerPercentile/upperPercentile, numpy's linear interpolation). With `mask`, percentiles and
 *   statistics come from the masked voxels, and every voxel is clipped and scaled (as CTNormalization does with
 *   its foreground statistics).
 * - suv-clip: x clipped to [lower (default 0), upper], then scaled linearly to 0..1: (x - lower) / (upper - lower).
 *   For PET in SUV, where a fixed ceiling keeps a hot bladder from compressing every organ's range.
 * A std of (nearly) 0 only subtracts the mean, as MONAI's NormalizeIntensity does, instead of dividing by 0.
 * Statistics are accumulated in float64; the result is float32.
 */
import type { IntensityData } from '../../geometry/volume';
import type { Normalization } from '../card/modelCard';
import { maskedValues, maskOf, meanStd, percentiles, percentilesOfIntegers } from './intensityStats';

export class NormalizationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NormalizationError';
  }
}

const TINY_STD = 1e-8;

function countNonFinite(data: IntensityData): number {
  // integers are always finite
  if (!(data instanceof Float32Array)) return 0;
  let bad = 0;
  for (let v = 0; v < data.length; v++) if (!Number.isFinite(data[v])) bad++;
  return bad;
}

/** A mask that selects nothing would leave the statistics undefined: say so instead of dividing by zero. */
function requireForeground(mask: Uint8Array | null, n: Normalization): void {
  if (mask && !mask.some((m) => m)) throw new NormalizationError(`normalization mask ${JSON.stringify(n.mask)} selects no voxel of this image`);
}

/** Voxel value -> normalized value (float32 once stored), with the volume's statistics already taken. */
export type Pointwise = (x: number) => number;

/**
 * The normalization of this volume as a function of the voxel value: the statistics (mean, std, percentiles,
 * min, max) are taken from the whole of `data` here, once; the function then maps any voxel. `data` may be the
 * stored integers (an int16 CT): every one is exact in float32, so the statistics and the mapped values are those of
 * its float32 copy (percentiles of 8- and 16-bit integers come from a histogram instead of a sorted copy). The sliding window applies it
 * to each window as it is cut (slidingWindow.ts), so no normalized copy of a whole-body volume is ever held.
 * Throws NormalizationError when the image holds NaN or ±Inf, naming how many voxels: a network fed NaN returns
 * NaN everywhere and argmax would silently call it all background.
 */
export function normalizer(data: IntensityData, n: Normalization): Pointwise {
  const bad = countNonFinite(data);
  if (bad) throw new NormalizationError(`image has ${bad} non-finite voxel${bad === 1 ? '' : 's'} (NaN or Inf) of ${data.length}; cannot normalize or run the model on it`);
  switch (n.method) {
    case 'none':
      return (x) => x;
    case 'minmax': {
      let min = Infinity;
      let max = -Infinity;
      for (let v = 0; v < data.length; v++) {
        if (data[v] < min) min = data[v];
        if (data[v] > max) max = data[v];
      }
      const range = max - min;
      if (!(range > 0)) return () => 0;
      return (x) => (x - min) / range;
    }
    case 'zscore': {
      const mask = maskOf(data, n.mask);
      requireForeground(mask, n);
      const { mean, std } = n.mean !== undefined && n.std !== undefined ? { mean: n.mean, std: n.std } : meanStd(data, mask);
      const scale = std > TINY_STD ? 1 / std : 1;
      const m = n.mask;
      // outside "scaled" (torchio): every voxel; else outside the mask 0, as MONAI's nonzero=True and nnU-Net's
      // use_mask_for_norm leave it
      if (m === undefined || n.outside === 'scaled') return (x) => (x - mean) * scale;
      if (m === 'nonzero') return (x) => (x !== 0 ? (x - mean) * scale : 0);
      const above = m.above;
      return (x) => (x > above ? (x - mean) * scale : 0);
    }
    case 'clip-zscore': {
      // the mask only matters for statistics taken from the image; fixed bounds and mean/std ignore it
      const fromImage = n.lowerPercentile !== undefined || n.upperPercentile !== undefined || n.mean === undefined || n.std === undefined;
      const mask = fromImage ? maskOf(data, n.mask) : null;
      requireForeground(mask, n);
      const { lower, upper } = clipBounds(data, mask, n);
      // clipped values are float32, as in a clipped float32 copy
      const clip = (x: number): number => Math.fround(x < lower ? lower : x > upper ? upper : x);
      const { mean, std } = n.mean !== undefined && n.std !== undefined ? { mean: n.mean, std: n.std } : meanStd(data, mask, clip);
      const scale = std > TINY_STD ? 1 / std : 1;
      return (x) => (clip(x) - mean) * scale;
    }
    case 'suv-clip': {
      const lower = n.lower ?? 0;
      const upper = n.upper ?? Infinity;
      const range = upper - lower;
      return (x) => (Math.fround(x < lower ? lower : x > upper ? upper : x) - lower) / range;
    }
    default:
      throw new NormalizationError(`unknown normalization method ${JSON.stringify((n as { method: unknown }).method)}`);
  }
}

/** The normalized intensities in a new float32 array (the input is never modified); see normalizer. */
export function normalize(data: IntensityData, n: Normalization): Float32Array {
  return applyPointwise(data, normalizer(data, n));
}

export function applyPointwise(data: IntensityData, f: Pointwise): Float32Array {
  const out = new Float32Array(data.length);
  for (let v = 0; v < data.length; v++) out[v] = f(data[v]);
  return out;
}

/** clip-zscore's window: the card's fixed bounds, else percentiles of the (masked) volume, else unbounded. */
export function clipBounds(data: IntensityData, mask: Uint8Array | null, n: Normalization): { lower: number; upper: number } {
  const asked = [n.lower === undefined ? n.lowerPercentile : undefined, n.upper === undefined ? n.upperPercentile : undefined];
  const qs = asked.filter((q): q is number => q !== undefined);
  const found = !qs.length ? [] : data instanceof Float32Array ? percentiles(maskedValues(data, mask), qs) : percentilesOfIntegers(data, mask, qs);
  const lower = n.lower ?? (asked[0] !== undefined ? found[0] : -Infinity);
  const upper = n.upper ?? (asked[1] !== undefined ? found[found.length - 1] : Infinity);
  return { lower, upper };
}
