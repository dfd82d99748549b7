/**
 * Ranks of float64 values among their distinct values, without sorting them all: surface distances take few
 * distinct values (sums of squared whole-voxel steps), so the values are grouped in a hash table keyed by their bits
 * and only the distinct ones are sorted. Equal means `===` (values are distances: never NaN, never -0).
 */
import { WorkBuffers } from './workBuffers';

export interface DistinctRanks {
  /** The distinct values, ascending. */
  distinct: Float64Array;
  /** Per input value, the index of its value in `distinct`. */
  rank: Int32Array;
}

/**
 * The kernel's loops (surfaceKernels.wat: distinctIds, rehash, idsToRanks): per value the id of its distinct value
 * (ids in order of first appearance) through a hash table that starts small and doubles when half full, then the
 * distinct values sorted and each id replaced by its rank. With `work`, `rank` and `distinct` live in its slots
 * `distinct-rank` and `distinct-sorted`.
 */
export function distinctRanks(values: Float64Array, work?: WorkBuffers): DistinctRanks {
  const w = work ?? new WorkBuffers();
  const heap = w.heap;
  const k = heap.kernels;
  const v = heap.hold(values);
  try {
    const n = values.length;
    const rank = w.i32('distinct-rank', n);
    let capacity = 32;
    let ids = w.i32('distinct-ids', capacity).fill(-1);
    let seen = w.f64Capacity('distinct-seen', capacity / 2);
    k.distinct.value = 0;
    for (let x = 0; ;) {
      x = k.distinctIds(v.view.byteOffset, x, n, ids.byteOffset, capacity - 1, seen.byteOffset, rank.byteOffset, capacity / 2);
      if (x === n) break;
      // half full: double the table and re-place the ids (values keep their ids, so ids so far stay valid)
      const count = k.distinct.value as number;
      capacity *= 2;
      seen = w.f64Capacity('distinct-seen', capacity / 2, count);
      ids = w.i32('distinct-ids', capacity).fill(-1);
      k.rehash(seen.byteOffset, count, ids.byteOffset, capacity - 1);
    }
    const count = k.distinct.value as number;
    const sorted = w.f64('distinct-sorted', count);
    sorted.set(seen.subarray(0, count));
    sorted.sort();
    k.idsToRanks(sorted.byteOffset, count, ids.byteOffset, capacity - 1, seen.byteOffset, w.i32('distinct-rank-of-id', count).byteOffset, rank.byteOffset, n);
    return work ? { distinct: sorted, rank } : { distinct: sorted.slice(), rank: rank.slice() };
  } finally {
    heap.unhold(v);
    if (!work) w.release();
  }
}
