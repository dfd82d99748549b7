/**
 * Sums that round exactly as numpy's do, so that a score computed here equals the reference implementation's
 * (DeepMind's surface-distance, written in numpy) bit for bit rather than to 1e-13: `np.sum` of a float64 array
 * uses pairwise summation (blocks of 8 partial sums up to 128 elements, halves above) inside each chunk of the
 * iterator's buffer size (8192 elements, np.getbufsize()), the chunks' sums added in order; `np.cumsum` adds in
 * order. (Checked against numpy 1.24's np.sum on random float64 arrays of 1..60000 elements: bit-identical; plain
 * pairwise summation over the whole array differs in the last bits from 8193 elements on.)
 * A robust Hausdorff distance compares a cumulative sum with 0.95, so one ulp there can pick another distance.
 */

import { threadHeap, type KernelHeap } from './kernelHeap';

/**
 * `np.sum(values[from:from+n])` for a contiguous float64 slice: the kernel's pairwiseSum (surfaceKernels.wat), numpy's
 * pairwise_sum (blocks of 8 partial sums up to 128 elements, halves above) within chunks of 8192 elements whose sums
 * are added in order. Values outside `heap` are copied in for the call.
 */
export function pairwiseSum(values: Float64Array, from = 0, n = values.length - from, heap: KernelHeap = threadHeap()): number {
  const v = heap.hold(values);
  try {
    return heap.kernels.pairwiseSum(v.view.byteOffset + 8 * from, n);
  } finally {
    heap.unhold(v);
  }
}
