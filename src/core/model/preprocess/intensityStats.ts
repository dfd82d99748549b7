/**
 * Per-volume intensity statistics that normalization takes from the image itself: the foreground mask they are
 * taken over, mean and population std, and percentiles. All accumulate in float64.
 */
import type { IntensityData } from '../../geometry/volume';
import type { NormalizationMask } from '../card/modelCard';

/** 1 where the voxel counts for the statistics; null mask = every voxel. */
export function maskOf(data: IntensityData, mask: NormalizationMask | undefined): Uint8Array | null {
  if (mask === undefined) return null;
  const out = new Uint8Array(data.length);
  if (mask === 'nonzero') for (let v = 0; v < data.length; v++) out[v] = data[v] !== 0 ? 1 : 0;
  else for (let v = 0; v < data.length; v++) out[v] = data[v] > mask.above ? 1 : 0;
  return out;
}

/**
 * Mean and population std (numpy's default ddof=0) over the masked voxels, of `map(x)` when given (e.g. the
 * clipped values, without a clipped copy of the volume); {0, 0} when there are none.
 */
export function meanStd(data: IntensityData, mask: Uint8Array | null, map?: (x: number) => number): { mean: number; std: number; count: number } {
  if (map) return meanStdMapped(data, mask, map);
  // two passes: the one-pass sum-of-squares formula loses all precision on CT-sized offsets
  let sum = 0;
  let count = 0;
  for (let v = 0; v < data.length; v++) {
    if (mask && !mask[v]) continue;
    sum += data[v];
    count++;
  }
  const mean = count ? sum / count : 0;
  let sq = 0;
  for (let v = 0; v < data.length; v++) {
    if (mask && !mask[v]) continue;
    const d = data[v] - mean;
    sq += d * d;
  }
  return { mean, std: count ? Math.sqrt(sq / count) : 0, count };
}

function meanStdMapped(data: IntensityData, mask: Uint8Array | null, map: (x: number) => number): { mean: number; std: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let v = 0; v < data.length; v++) {
    if (mask && !mask[v]) continue;
    sum += map(data[v]);
    count++;
  }
  const mean = count ? sum / count : 0;
  let sq = 0;
  for (let v = 0; v < data.length; v++) {
    if (mask && !mask[v]) continue;
    const d = map(data[v]) - mean;
    sq += d * d;
  }
  return { mean, std: count ? Math.sqrt(sq / count) : 0, count };
}

/** A copy of the masked voxels (all voxels when mask is null), for percentiles to reorder. */
export function maskedValues(data: Float32Array, mask: Uint8Array | null): Float32Array {
  if (!mask) return new Float32Array(data);
  let count = 0;
  for (let v = 0; v < mask.length; v++) count += mask[v];
  const values = new Float32Array(count);
  let o = 0;
  for (let v = 0; v < data.length; v++) if (mask[v]) values[o++] = data[v];
  return values;
}

/** numpy's _lerp: from the upper neighbour for fractions >= 0.5, which keeps the result monotonic in q. */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/**
 * The q-th percentile (0..100) of ascending `sorted`, as numpy.percentile's default method "linear": the value
 * at fractional index (n - 1) * q / 100, interpolated between its two neighbours.
 */
export function percentileOfSorted(sorted: Float32Array, q: number): number {
  if (!sorted.length) throw new RangeError('percentile of no values');
  const at = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(at);
  return lerp(sorted[lo], sorted[Math.min(lo + 1, sorted.length - 1)], at - lo);
}

/**
 * Moves the k-th smallest of a[lo..hi] to a[k], smaller-or-equal values before it and greater-or-equal after
 * (Hoare partitioning, median-of-three pivot: runs of equal values, such as air at -1000 HU, stay balanced).
 */
function selectInPlace(a: Float32Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    const x = a[lo];
    const y = a[(lo + hi) >>> 1];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * Percentiles (numpy's default "linear", as percentileOfSorted) of `values`, which this reorders. Selection
 * instead of a sort: linear time, which matters at whole-body size (10^8 voxels take seconds to sort).
 */
export function percentiles(values: Float32Array, qs: readonly number[]): number[] {
  const n = values.length;
  if (!n) throw new RangeError('percentile of no values');
  const order = qs.map((q, idx) => ({ idx, at: ((n - 1) * q) / 100 })).sort((p, q) => p.at - q.at);
  const out = new Array<number>(qs.length);
  let from = 0;
  for (const { idx, at } of order) {
    const k = Math.floor(at);
    // ranks below `from` are already in place and no larger than anything after it
    selectInPlace(values, k, from, n - 1);
    from = k;
    let next = values[k];
    if (k + 1 < n) {
      next = Infinity;
      for (let v = k + 1; v < n; v++) if (values[v] < next) next = values[v];
    }
    out[idx] = lerp(values[k], next, at - k);
  }
  return out;
}

/**
 * percentiles() of the (masked) voxels of an 8- or 16-bit integer volume, from a histogram of its values: the same
 * order statistics, hence the same numbers, without a float32 copy of the volume to reorder.
 */
export function percentilesOfIntegers(data: Exclude<IntensityData, Float32Array>, mask: Uint8Array | null, qs: readonly number[]): number[] {
  const offset = data instanceof Int16Array ? 32768 : data instanceof Int8Array ? 128 : 0;
  const counts = new Float64Array(data instanceof Uint8Array || data instanceof Int8Array ? 256 : 65536);
  let n = 0;
  for (let v = 0; v < data.length; v++) {
    if (mask && !mask[v]) continue;
    counts[data[v] + offset]++;
    n++;
  }
  if (!n) throw new RangeError('percentile of no values');
  // the value of rank k (0-based) in ascending order
  const ranked = (k: number): number => {
    let seen = 0;
    for (let b = 0; b < counts.length; b++) {
      seen += counts[b];
      if (seen > k) return b - offset;
    }
    return counts.length - 1 - offset;
  };
  return qs.map((q) => {
    const at = ((n - 1) * q) / 100;
    const k = Math.floor(at);
    return lerp(ranked(k), ranked(Math.min(k + 1, n - 1)), at - k);
  });
}
