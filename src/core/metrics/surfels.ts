/**
 * The surface elements ("surfels") of a mask, as DeepMind's surface-distance library finds them: every corner of the
 * voxel grid whose 2x2x2 neighbourhood code is neither 0 (outside) nor 255 (inside), on the grid of a crop padded
 * with one background voxel on every side. Either from a padded binary mask (the definition, used by the tests) or
 * straight from a label map inside a label's box (what the pool's tasks do: no crop is built). Ascending corner
 * index, which the distance search needs.
 */
import type { Dims3 } from './edt';
import type { VoxelBox } from './labelScan';
import type { WorkBuffers } from './workBuffers';

/** The surfels of one mask: corner-grid dims, their corner indices (ascending) and their neighbourhood codes. */
export interface Surfels {
  dims: Dims3;
  index: Int32Array;
  code: Uint8Array;
}

/**
 * Fills padded plane `z` into `plane` as bit rows (`wordsPerRow` 32-bit words a row; bit b of word w is x0 = 32w + b,
 * bits past the row's end zero), and `rowHas[y]` with whether row y holds any voxel of the mask.
 */
type PlaneSource = (z: number, plane: Uint32Array, rowHas: Uint8Array) => void;

/**
 * Surfels of a padded mask. Corner (p0,p1,p2) of the corner grid sees padded voxels p..p+1 on each axis, and voxel
 * (p0+a, p1+b, p2+c) contributes bit 7-(4a+2b+c) (a along x0): the reference's neighbourhood kernel. A corner is a
 * surfel when its code is neither 0 nor 255.
 */
export function surfelsOf(mask: Uint8Array, dims: Dims3, work?: WorkBuffers, slot = 'surfels'): Surfels {
  const [n0, n1] = dims;
  const wordsPerRow = (n0 + 31) >>> 5;
  return surfelsByPlane(dims, (z, plane, rowHas) => {
    for (let y = 0; y < n1; y++) rowHas[y] = packRow(mask, (z * n1 + y) * n0, n0, 1, 0, plane, y * wordsPerRow, wordsPerRow);
  }, work, slot);
}

/**
 * The same surfels as `surfelsOf(cropLabel(...))` gives for one map, read straight from the label map: the padded
 * crop of `label` in `box` (one background voxel on every side) is never built, only two of its planes at a time.
 * Outside the box the label is absent by construction (the box holds every voxel of it in either map).
 */
export function surfelsOfLabel(labels: ArrayLike<number>, dims: Dims3, label: number, box: VoxelBox, work?: WorkBuffers, slot = 'surfels'): Surfels {
  const [n0, n1] = dims;
  const c0 = box.hi[0] - box.lo[0] + 3, c1 = box.hi[1] - box.lo[1] + 3, c2 = box.hi[2] - box.lo[2] + 3;
  const wordsPerRow = (c0 + 31) >>> 5;
  return surfelsByPlane([c0, c1, c2], (z, plane, rowHas) => {
    plane.fill(0);
    rowHas.fill(0);
    if (z === 0 || z === c2 - 1) return;
    const k = box.lo[2] + z - 1;
    for (let y = 1; y < c1 - 1; y++) {
      rowHas[y] = packRow(labels, box.lo[0] + n0 * (box.lo[1] + y - 1 + n1 * k), c0 - 2, label, 1, plane, y * wordsPerRow, wordsPerRow);
    }
  }, work, slot);
}

/**
 * Packs `count` voxels from `src` (1 where they equal `value`) into bits from x0 = `at` of the row of `rowWords` words
 * starting at word `row` of `plane`, zeroing the row's other bits; returns 1 when any bit is set.
 */
function packRow(
  from: ArrayLike<number>, src: number, count: number, value: number, at: number, plane: Uint32Array, row: number, rowWords: number,
): number {
  let word = row;
  let acc = 0;
  let any = 0;
  let bit = at;
  for (let x = 0; x < count; x++) {
    if (from[src + x] === value) acc |= 1 << bit;
    if (++bit === 32) { plane[word++] = acc; any |= acc; acc = 0; bit = 0; }
  }
  // the partial last word, then zeros up to the row's end (the padding column included)
  const end = row + rowWords;
  if (word < end) { plane[word++] = acc; any |= acc; }
  while (word < end) plane[word++] = 0;
  return any !== 0 ? 1 : 0;
}

/**
 * The corner scan over a window of two padded bit planes (z = p2 and p2 + 1), each plane read once. A corner row
 * sees four voxel rows; per 32 corners, "some voxel set" and "every voxel set" are two word operations, and only
 * corners with some but not every voxel set (the surfels) are visited, in ascending x0.
 */
function surfelsByPlane(dims: Dims3, fillPlane: PlaneSource, work: WorkBuffers | undefined, slot: string): Surfels {
  const [n0, n1, n2] = dims;
  const m0 = n0 - 1, m1 = n1 - 1, m2 = n2 - 1;
  const wordsPerRow = (n0 + 31) >>> 5;
  const planeWords = wordsPerRow * n1;
  let lower = work ? work.u32('surfel-plane-a', planeWords) : new Uint32Array(planeWords);
  let upper = work ? work.u32('surfel-plane-b', planeWords) : new Uint32Array(planeWords);
  let lowerHas = work ? work.u8('surfel-rows-a', n1) : new Uint8Array(n1);
  let upperHas = work ? work.u8('surfel-rows-b', n1) : new Uint8Array(n1);
  // Reused buffers are sized for every corner at once: never grown, and only the pages surfels are written to cost
  // memory. Fresh ones start small.
  const corners = m0 * m1 * m2;
  let index = work ? work.i32Capacity(`${slot}-index`, corners) : new Int32Array(1024);
  let code = work ? work.u8Capacity(`${slot}-code`, corners) : new Uint8Array(1024);
  let n = 0;
  if (m2 > 0) fillPlane(0, lower, lowerHas);
  for (let p2 = 0; p2 < m2; p2++) {
    fillPlane(p2 + 1, upper, upperHas);
    for (let p1 = 0; p1 < m1; p1++) {
      if (!(lowerHas[p1] | lowerHas[p1 + 1] | upperHas[p1] | upperHas[p1 + 1])) continue;
      // voxel rows: A = (p1, p2), B = (p1, p2+1), C = (p1+1, p2), D = (p1+1, p2+1); column code of x0 = A B C D
      const r0 = p1 * wordsPerRow, r1 = r0 + wordsPerRow;
      const outRow = p1 * m0 + p2 * m0 * m1;
      let a = lower[r0], b = upper[r0], c = lower[r1], d = upper[r1];
      for (let w = 0; w < wordsPerRow; w++) {
        const last = w === wordsPerRow - 1;
        const na = last ? 0 : lower[r0 + w + 1], nb = last ? 0 : upper[r0 + w + 1];
        const nc = last ? 0 : lower[r1 + w + 1], nd = last ? 0 : upper[r1 + w + 1];
        const any = a | b | c | d, all = a & b & c & d;
        // corner x0 sees voxels x0 and x0 + 1: bit 31's neighbour is the next word's bit 0
        const anyCorner = any | (any >>> 1) | ((na | nb | nc | nd) << 31);
        const allCorner = all & ((all >>> 1) | ((na & nb & nc & nd) << 31));
        let surfel = anyCorner & ~allCorner;
        while (surfel !== 0) {
          const low = surfel & -surfel;
          surfel ^= low;
          const bit = 31 - Math.clz32(low);
          const here = ((a >>> bit) & 1) << 3 | ((b >>> bit) & 1) << 2 | ((c >>> bit) & 1) << 1 | ((d >>> bit) & 1);
          const next = bit === 31
            ? (na & 1) << 3 | (nb & 1) << 2 | (nc & 1) << 1 | (nd & 1)
            : ((a >>> (bit + 1)) & 1) << 3 | ((b >>> (bit + 1)) & 1) << 2 | ((c >>> (bit + 1)) & 1) << 1 | ((d >>> (bit + 1)) & 1);
          if (n === index.length) {
            if (work) {
              index = work.i32Capacity(`${slot}-index`, n * 2, n);
              code = work.u8Capacity(`${slot}-code`, n * 2, n);
            } else {
              const grownIndex = new Int32Array(n * 2); grownIndex.set(index); index = grownIndex;
              const grownCode = new Uint8Array(n * 2); grownCode.set(code); code = grownCode;
            }
          }
          index[n] = outRow + (w << 5) + bit;
          code[n++] = (here << 4) | next;
        }
        a = na; b = nb; c = nc; d = nd;
      }
    }
    [lower, upper] = [upper, lower];
    [lowerHas, upperHas] = [upperHas, lowerHas];
  }
  return { dims: [m0, m1, m2], index: index.subarray(0, n), code: code.subarray(0, n) };
}
