/**
 * Intensity normalization before inference, as the model card's `normalization` entry prescribes.
 *
 * - none: values as read (scl_slope/inter applied).
 * - minmax: (x - min) / (max - min) over the whole volume, to 0..1; a constant volume becomes all 0.
 * - zscore: (x - mean) / std, with the card's mean/std when given, else the volume's own (population std).
 * - clip-zscore: x clipped to [lower, upper], then z-scored with the card's mean/std (nnU-Net's CT scheme),
 *   or, when the card gives none, with the clipped volume's own.
 * A std of (nearly) 0 only subtracts the mean, as MONAI's NormalizeIntensity does, instead of dividing by 0.
 * Statistics are accumulated in float64; the result is float32.
 */
import type { Normalization } from './card';

export class NormalizationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NormalizationError';
  }
}

const TINY_STD = 1e-8;

function countNonFinite(data: Float32Array): number {
  let bad = 0;
  for (let v = 0; v < data.length; v++) if (!Number.isFinite(data[v])) bad++;
  return bad;
}

function meanStd(data: Float32Array): { mean: number; std: number } {
  // two passes: the one-pass sum-of-squares formula loses all precision on CT-sized offsets
  let sum = 0;
  for (let v = 0; v < data.length; v++) sum += data[v];
  const mean = data.length ? sum / data.length : 0;
  let sq = 0;
  for (let v = 0; v < data.length; v++) {
    const d = data[v] - mean;
    sq += d * d;
  }
  return { mean, std: data.length ? Math.sqrt(sq / data.length) : 0 };
}

function zscoreInPlace(out: Float32Array, mean: number, std: number): void {
  const scale = std > TINY_STD ? 1 / std : 1;
  for (let v = 0; v < out.length; v++) out[v] = (out[v] - mean) * scale;
}

/**
 * Returns the normalized intensities in a new array (the input is never modified). Throws NormalizationError
 * when the image holds NaN or ±Inf, naming how many voxels: a network fed NaN returns NaN everywhere and
 * argmax would silently call it all background.
 */
export function normalize(data: Float32Array, n: Normalization): Float32Array {
  const bad = countNonFinite(data);
  if (bad) throw new NormalizationError(`image has ${bad} non-finite voxel${bad === 1 ? '' : 's'} (NaN or Inf) of ${data.length}; cannot normalize or run the model on it`);
  const out = new Float32Array(data);
  switch (n.method) {
    case 'none':
      return out;
    case 'minmax': {
      let min = Infinity;
      let max = -Infinity;
      for (let v = 0; v < out.length; v++) {
        if (out[v] < min) min = out[v];
        if (out[v] > max) max = out[v];
      }
      const range = max - min;
      if (!(range > 0)) return out.fill(0);
      for (let v = 0; v < out.length; v++) out[v] = (out[v] - min) / range;
      return out;
    }
    case 'zscore': {
      const s = n.mean !== undefined && n.std !== undefined ? { mean: n.mean, std: n.std } : meanStd(out);
      zscoreInPlace(out, s.mean, s.std);
      return out;
    }
    case 'clip-zscore': {
      const lower = n.lower ?? -Infinity;
      const upper = n.upper ?? Infinity;
      for (let v = 0; v < out.length; v++) out[v] = out[v] < lower ? lower : out[v] > upper ? upper : out[v];
      const s = n.mean !== undefined && n.std !== undefined ? { mean: n.mean, std: n.std } : meanStd(out);
      zscoreInPlace(out, s.mean, s.std);
      return out;
    }
    default:
      throw new NormalizationError(`unknown normalization method ${JSON.stringify((n as { method: unknown }).method)}`);
  }
}
