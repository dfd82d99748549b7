/**
 * Ranks of float64 values among their distinct values, without sorting them all: surface distances take few
 * distinct values (sums of squared whole-voxel steps), so the values are grouped by their bits in a hash table and
 * only the distinct ones are sorted. Equal means bit-equal (+0 and -0 never occur here: distances are square roots).
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
  const rank = work ? work.i32('distinct-rank', n) : new Int32Array(n);
  let capacity = 1024;
  let table = new Float64Array(capacity);
  let used = new Uint8Array(capacity);
  let count = 0;
  for (let x = 0; x < n; x++) {
    const v = values[x];
    let slot = slotOf(v, table, used, capacity - 1);
    if (!used[slot]) {
      used[slot] = 1;
      table[slot] = v;
      // the slot's number for now: it becomes a rank once the distinct values are sorted
      count++;
      if (count * 2 > capacity) {
        // rehash at half load; rank[] holds slots, so they are re-read from the values afterwards
        capacity *= 2;
        const oldTable = table, oldUsed = used;
        table = new Float64Array(capacity);
        used = new Uint8Array(capacity);
        for (let s = 0; s < oldUsed.length; s++) {
          if (!oldUsed[s]) continue;
          const t = slotOf(oldTable[s], table, used, capacity - 1);
          used[t] = 1;
          table[t] = oldTable[s];
        }
        for (let y = 0; y < x; y++) rank[y] = slotOf(values[y], table, used, capacity - 1);
        slot = slotOf(v, table, used, capacity - 1);
      }
    }
    rank[x] = slot;
  }
  const distinct = new Float64Array(count);
  for (let s = 0, d = 0; s < capacity; s++) if (used[s]) distinct[d++] = table[s];
  distinct.sort();
  // slot -> rank, reusing the table's memory as an index
  const rankOfSlot = new Int32Array(capacity);
  for (let r = 0; r < count; r++) rankOfSlot[slotOf(distinct[r], table, used, capacity - 1)] = r;
  for (let x = 0; x < n; x++) rank[x] = rankOfSlot[rank[x]];
  return { distinct, rank };
}

/** The slot holding `v`, or the empty slot where it belongs (linear probing). */
function slotOf(v: number, table: Float64Array, used: Uint8Array, mask: number): number {
  bits[0] = v;
  let s = (Math.imul(words[0] ^ Math.imul(words[1], 0x9e3779b1), 0x85ebca6b) >>> 16) & mask;
  while (used[s] && table[s] !== v) s = (s + 1) & mask;
  return s;
}
