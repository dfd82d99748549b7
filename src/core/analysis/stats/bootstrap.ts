/**
 * Percentile bootstrap confidence interval of a mean (Efron): `resamples` times, draw n values with replacement
 * and take their mean; the interval is the (1 - level)/2 and (1 + level)/2 quantiles of those means, with numpy's
 * default linear interpolation (value at fractional rank (R - 1) q of the sorted means).
 *
 * Deterministic under a seed: draws come from the mulberry32 generator of src/core/random/rng.ts (32-bit
 * integer arithmetic, so the same seed gives the same interval on any machine), seeded with
 * hashSeed("bootstrap-mean", seed); index = floor(u * n) for u uniform in [0, 1).
 * Empty input gives { low: NaN, high: NaN }; a single value gives that value twice.
 */
import { hashSeed, Rng } from '../../random/rng';

export interface BootstrapOptions {
  /** Number of resamples (default 10000). */
  resamples?: number;
  /** PRNG seed (default 0). */
  seed?: number;
  /** Confidence level in (0, 1) (default 0.95). */
  level?: number;
}

/** numpy.percentile's default (linear) quantile of sorted values, q in [0, 1]. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function bootstrapMeanCi(values: readonly number[], opts: BootstrapOptions = {}): { low: number; high: number } {
  const resamples = opts.resamples ?? 10000;
  const level = opts.level ?? 0.95;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`bootstrapMeanCi: resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrapMeanCi: level must be in (0, 1), got ${level}`);
  const n = values.length;
  if (n === 0) return { low: NaN, high: NaN };
  const rng = new Rng(hashSeed('bootstrap-mean', seed));
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(rng.next() * n)];
    means[r] = sum / n;
  }
  means.sort();
  return { low: quantileSorted(means, (1 - level) / 2), high: quantileSorted(means, (1 + level) / 2) };
}
