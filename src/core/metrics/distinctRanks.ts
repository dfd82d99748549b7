/**
 * Ranks of float64 values among their distinct values, without sorting them all: surface distances take few
 * distinct values (sums of squared whole-voxel steps), so the values are grouped in a hash table keyed by their bits
 * and only the distinct ones are sorted. Equal means `===` (values are distances: never NaN, never -0).
 */
import type { WorkBuffers } from './workBuffers';

export interface DistinctRanks {
  /** The distinct values, ascending. */
  distinct: Float64Array;
  /** Per input value, the index of its value in `distinct`. */
  rank: Int32Array;
}

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

export function distinctRanks(values: Float64Array, work?: WorkBuffers): DistinctRanks {
  const n = values.length;
  // per value, first the id of its distinct value (ids in order of first appearance), at the end its rank
  const rank = work ? work.i32('distinct-rank', n) : new Int32Array(n);
  let capacity = 32;
  let ids = new Int32Array(capacity).fill(-1);
  let seen = new Float64Array(capacity / 2);
  let count = 0;
  for (let x = 0; x < n; x++) {
    const v = values[x];
    let s = slotOf(v, ids, seen, capacity - 1);
    if (ids[s] < 0) {
      if (count === seen.length) {
        // half full: double the table and re-place the ids (values keep their ids, so ranks so far stay valid)
        const grown = new Float64Array(count * 2);
        grown.set(seen);
        seen = grown;
        capacity *= 2;
        ids = new Int32Array(capacity).fill(-1);
        for (let id = 0; id < count; id++) ids[slotOf(seen[id], ids, seen, capacity - 1)] = id;
        s = slotOf(v, ids, seen, capacity - 1);
      }
      ids[s] = count;
      seen[count++] = v;
    }
    rank[x] = ids[s];
  }
  const distinct = seen.slice(0, count).sort();
  // id -> rank: each distinct value's slot holds its id
  const rankOfId = new Int32Array(count);
  for (let r = 0; r < count; r++) rankOfId[ids[slotOf(distinct[r], ids, seen, capacity - 1)]] = r;
  for (let x = 0; x < n; x++) rank[x] = rankOfId[rank[x]];
  return { distinct, rank };
}

/** The slot holding `v`'s id, or the empty slot (-1) where it belongs: linear probing from a hash of its bits. */
function slotOf(v: number, ids: Int32Array, seen: Float64Array, mask: number): number {
  bits[0] = v;
  let s = (Math.imul(words[0] ^ Math.imul(words[1], 0x9e3779b1), 0x85ebca6b) >>> 16) & mask;
  while (ids[s] >= 0 && seen[ids[s]] !== v) s = (s + 1) & mask;
  return s;
}
