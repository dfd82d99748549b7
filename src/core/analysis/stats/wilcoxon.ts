/**
 * Wilcoxon signed-rank test on paired differences, two-sided, as scipy.stats.wilcoxon(d) computes it with its
 * defaults (scipy 1.10: zero_method "wilcox", correction False, alternative "two-sided", method "auto"), with one
 * deliberate difference on ties (below).
 *
 * - Zero differences are dropped (zero_method "wilcox"); `n` counts the rest, `zeros` the dropped ones.
 * - The absolute differences are ranked, ties getting their average rank (scipy.stats.rankdata "average");
 *   W+ / W- are the rank sums of the positive / negative differences; `statistic` = min(W+, W-).
 * - `exact` when the input has at most 50 differences, no zero and no tied |d|: the p-value is
 *   2 * min(P(W+ <= w), P(W+ >= w)) under the exact null distribution of W+ (all 2^n sign patterns equally
 *   likely), capped at 1, and exactly 1 when w is the distribution's centre. Identical to scipy's defaults.
 * - `normal` otherwise: z = (T - n(n+1)/4) / sqrt((n(n+1)(2n+1) - sum over tie groups of (t^3 - t) / 2) / 24),
 *   no continuity correction, p = 2 * P(Z > |z|). Identical to scipy's defaults when there are zeros or more
 *   than 50 differences. With ties but no zeros and at most 50 differences, scipy 1.10's "auto" stays exact and
 *   truncates the then fractional W+ to an integer; this uses the tie-corrected normal approximation instead
 *   (scipy.stats.wilcoxon(d, method="approx"), and what later scipy versions do for ties).
 * - No difference left (empty input, or every difference zero): p = 1, statistic 0, method "normal". scipy
 *   raises or returns NaN there; "no evidence of a difference" keeps downstream classification simple.
 * NaN differences are an error (scipy would propagate NaN silently).
 */
import { normalSf } from './normal';

export interface WilcoxonResult {
  statistic: number;
  p: number;
  method: 'exact' | 'normal';
  /** Non-zero differences tested, and zero differences dropped. */
  n: number;
  zeros: number;
}

/** Average ranks (1-based) of values, ties sharing the mean of their positions; also the tie group sizes. */
function averageRanks(values: readonly number[]): { ranks: number[]; tieSizes: number[] } {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  const tieSizes: number[] = [];
  for (let i = 0; i < order.length;) {
    let j = i + 1;
    while (j < order.length && values[order[j]] === values[order[i]]) j++;
    const rank = (i + 1 + j) / 2; // mean of positions i+1 .. j
    for (let k = i; k < j; k++) ranks[order[k]] = rank;
    if (j - i > 1) tieSizes.push(j - i);
    i = j;
  }
  return { ranks, tieSizes };
}

/**
 * Counts of sign patterns giving each W+ = 0 .. n(n+1)/2 (the exact null distribution times 2^n). Exact in
 * float64 for n <= 50: every count and partial sum stays below 2^53.
 */
function signedRankCounts(n: number): Float64Array {
  let c = new Float64Array([1]);
  for (let k = 1; k <= n; k++) {
    const next = new Float64Array((k * (k + 1)) / 2 + 1);
    next.set(c);
    for (let r = 0; r < c.length; r++) next[r + k] += c[r];
    c = next;
  }
  return c;
}

export function wilcoxonSignedRank(diffs: readonly number[]): WilcoxonResult {
  for (const [i, d] of diffs.entries()) {
    if (typeof d !== 'number' || Number.isNaN(d)) throw new Error(`wilcoxonSignedRank: difference ${i} is not a number (${d})`);
  }
  const nonZero = diffs.filter((d) => d !== 0);
  const zeros = diffs.length - nonZero.length;
  const n = nonZero.length;
  if (n === 0) return { statistic: 0, p: 1, method: 'normal', n: 0, zeros };

  const { ranks, tieSizes } = averageRanks(nonZero.map(Math.abs));
  let wPlus = 0;
  let wMinus = 0;
  for (let i = 0; i < n; i++) {
    if (nonZero[i] > 0) wPlus += ranks[i];
    else wMinus += ranks[i];
  }
  const statistic = Math.min(wPlus, wMinus);

  if (diffs.length <= 50 && zeros === 0 && tieSizes.length === 0) {
    const counts = signedRankCounts(n);
    const centre = (counts.length - 1) / 2;
    let p: number;
    if (wPlus === centre) p = 1;
    else {
      let below = 0;
      for (let r = 0; r <= wPlus; r++) below += counts[r];
      let above = 0;
      for (let r = wPlus; r < counts.length; r++) above += counts[r];
      p = Math.min(1, (2 * Math.min(below, above)) / 2 ** n);
    }
    return { statistic, p, method: 'exact', n, zeros };
  }

  const mean = (n * (n + 1)) / 4;
  let variance = n * (n + 1) * (2 * n + 1);
  for (const t of tieSizes) variance -= 0.5 * (t * t * t - t);
  const se = Math.sqrt(variance / 24);
  const z = (statistic - mean) / se;
  return { statistic, p: 2 * normalSf(Math.abs(z)), method: 'normal', n, zeros };
}
