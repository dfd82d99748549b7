/**
 * Sums that round exactly as numpy's do, so that a score computed here equals the reference implementation's
 * (DeepMind's surface-distance, written in numpy) bit for bit rather than to 1e-13: `np.sum` of a float64 array
 * uses pairwise summation (blocks of 8 partial sums up to 128 elements, halves above) inside each chunk of the
 * iterator's buffer size (8192 elements, np.getbufsize()), the chunks' sums added in order; `np.cumsum` adds in
 * order. (Checked against numpy 1.24's np.sum on random float64 arrays of 1..60000 elements: bit-identical; plain
 * pairwise summation over the whole array differs in the last bits from 8193 elements on.)
 * A robust Hausdorff distance compares a cumulative sum with 0.95, so one ulp there can pick another distance.
 */

/** numpy's default buffer size (NPY_BUFSIZE): a 1-D reduction adds chunk by chunk. */
const NUMPY_BUFSIZE = 8192;

/** `np.sum(values[from:from+n])` for a contiguous float64 slice. */
export function pairwiseSum(values: Float64Array, from = 0, n = values.length - from): number {
  if (n <= NUMPY_BUFSIZE) return pairwiseBlock(values, from, n);
  let res = 0;
  for (let i = 0; i < n; i += NUMPY_BUFSIZE) res += pairwiseBlock(values, from + i, Math.min(NUMPY_BUFSIZE, n - i));
  return res;
}

/** numpy's pairwise_sum for one chunk. */
function pairwiseBlock(values: Float64Array, from: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += values[from + i];
    return res;
  }
  if (n <= 128) {
    let r0 = values[from], r1 = values[from + 1], r2 = values[from + 2], r3 = values[from + 3];
    let r4 = values[from + 4], r5 = values[from + 5], r6 = values[from + 6], r7 = values[from + 7];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const a = from + i;
      r0 += values[a]; r1 += values[a + 1]; r2 += values[a + 2]; r3 += values[a + 3];
      r4 += values[a + 4]; r5 += values[a + 5]; r6 += values[a + 6]; r7 += values[a + 7];
    }
    let res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += values[from + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseBlock(values, from, n2) + pairwiseBlock(values, from + n2, n - n2);
}
