/**
 * The WebAssembly memory the metrics' kernels (surfaceKernels.wat) run on, and what lives in it: a case's label maps
 * and every thread's work buffers. A kernel reads only its own module's memory, so the maps must be there; the
 * memory is shared (its buffer is a SharedArrayBuffer), so a pool's workers and its main thread run the same kernels
 * on the same maps with no copy (surfacePool.ts hands the memory to each worker).
 *
 * Allocation: fresh space only ever comes from `memory.grow`, which is atomic on a shared memory, so regions taken by
 * different threads never overlap without any locking. Each thread's heap object keeps its own free list of the
 * blocks it released (the main thread's label maps, a test's temporaries); a thread never reuses another's blocks.
 *
 * The memory is 32-bit: 4 GiB for a pool's maps and buffers together (two uint8 maps of 1.5 G voxels). Past that,
 * allocating throws an error that says so.
 */
import kernelBytes from './surfaceKernels.wat';

/** A label map's voxels: uint8 or uint16 labels, 0 background. */
export type LabelData = Uint8Array | Uint16Array;

export interface Kernels {
  scanPlanes(gt: number, pred: number, n0: number, n1: number, k0: number, k1: number, shift: number, tables: number, copy: number): void;
  labelPlane(map: number, n0: number, n1: number, lo0: number, lo1: number, lo2: number, c0: number, c1: number, c2: number,
    label: number, shift: number, z: number, plane: number, rowHas: number): void;
  maskPlane(mask: number, n0: number, n1: number, z: number, plane: number, rowHas: number): void;
  surfelPlane(lower: number, upper: number, lowerHas: number, upperHas: number, wordsPerRow: number, m0: number, m1: number, p2: number,
    index: number, code: number, n: number): number;
  rowOffsets(features: number, count: number, n0: number, n: number, off: number, wide: number): void;
  searchRows(off: number, wide: number, n0: number, n1: number, n2: number, queries: number, q0: number, q1: number, out: number,
    sq0: number, sqJ: number, sqK: number, budget: number): number;
  /** The distance search's row lookups so far (searchRows adds to it; edt.ts resets it per organ). */
  work: WebAssembly.Global;
  sqrtAll(p: number, n: number): void;
  /** Distinct values found so far by distinctIds (distinctRanks.ts resets it). */
  distinct: WebAssembly.Global;
  distinctIds(values: number, from: number, n: number, ids: number, mask: number, seen: number, rank: number, limit: number): number;
  rehash(seen: number, count: number, ids: number, mask: number): void;
  idsToRanks(sorted: number, count: number, ids: number, mask: number, seen: number, rankOfId: number, rank: number, n: number): void;
  countingSort(rank: number, codes: number, n: number, rankOfCode: number, nAreas: number, counts: number, nDistinct: number,
    distinct: number, areas: number, outDist: number, outArea: number): void;
  pairwiseSum(p: number, n: number): number;
  countAtMost(p: number, n: number, tau: number): number;
  percentileIndex(area: number, n: number, total: number, target: number): number;
  multiplyInto(out: number, a: number, b: number, n: number): void;
  countBoth(gt: number, pred: number, n0: number, n1: number, lo0: number, lo1: number, lo2: number, w0: number, w1: number, w2: number,
    label: number, shift: number): number;
}

const PAGE = 65536;
const MAX_PAGES = 65536;
/** Block sizes are rounded to this: every block starts aligned for the kernels' 16-byte loads and any typed array. */
const ALIGN = 64;

let compiled: WebAssembly.Module | undefined;

/** A block's size: `SLACK` bytes more (the kernels read a 16-bit word at a map's last voxel), rounded to `ALIGN`. */
const SLACK = 16;
function blockSize(bytes: number): number {
  return Math.ceil((bytes + SLACK) / ALIGN) * ALIGN;
}

type View = Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array;

export class KernelHeap {
  readonly memory: WebAssembly.Memory;
  readonly kernels: Kernels;
  /** This thread's released blocks, by address. */
  private readonly free: Array<{ at: number; bytes: number }> = [];
  /** The memory's buffers this thread has made views of: a view on one of them is in the heap. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  /** A heap on `memory` (another thread's, handed over), or on a new memory. */
  constructor(memory?: WebAssembly.Memory) {
    this.memory = memory ?? new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    compiled ??= new WebAssembly.Module(kernelBytes);
    this.kernels = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports as unknown as Kernels;
  }

  /**
   * A block of at least `bytes` bytes, `ALIGN`-aligned; its contents are whatever they were, unless `zeroed` (a
   * fresh block is zero without being touched: its pages cost nothing until written).
   */
  alloc(bytes: number, { zeroed = false } = {}): number {
    const size = blockSize(bytes);
    let best = -1;
    for (let b = 0; b < this.free.length; b++) if (this.free[b].bytes >= size && (best < 0 || this.free[b].bytes < this.free[best].bytes)) best = b;
    if (best >= 0) {
      const block = this.free[best];
      const at = block.at;
      if (block.bytes === size) this.free.splice(best, 1);
      else { block.at += size; block.bytes -= size; }
      if (zeroed) this.u8(at, size).fill(0);
      return at;
    }
    const pages = Math.ceil(size / PAGE);
    let first: number;
    try {
      first = this.memory.grow(pages);
    } catch {
      const held = this.memory.buffer.byteLength;
      throw new Error(`the metrics' WebAssembly memory (4 GiB, ${(held / 2 ** 20).toFixed(0)} MiB held) cannot hold ${(size / 2 ** 20).toFixed(1)} MiB more: label maps this large exceed what the surface metrics can score`);
    }
    const at = first * PAGE;
    // the rest of the last page
    if (pages * PAGE > size) this.free.push({ at: at + size, bytes: pages * PAGE - size });
    return at;
  }

  /** Gives a block (or its tail) back to this thread's free list. */
  release(at: number, bytes: number): void {
    const size = blockSize(bytes);
    this.free.push({ at, bytes: size });
    this.free.sort((a, b) => a.at - b.at);
    // merge neighbours, so that a released whole-body map can hold the next case's
    for (let b = this.free.length - 1; b > 0; b--) {
      const lo = this.free[b - 1], hi = this.free[b];
      if (lo.at + lo.bytes === hi.at) { lo.bytes += hi.bytes; this.free.splice(b, 1); }
    }
  }

  u8(at: number, length: number): Uint8Array { return new Uint8Array(this.buffer(), at, length); }
  u16(at: number, length: number): Uint16Array { return new Uint16Array(this.buffer(), at, length); }
  u32(at: number, length: number): Uint32Array { return new Uint32Array(this.buffer(), at, length); }
  i32(at: number, length: number): Int32Array { return new Int32Array(this.buffer(), at, length); }
  f64(at: number, length: number): Float64Array { return new Float64Array(this.buffer(), at, length); }

  /** A new label map of `length` voxels in the heap, all background (0). */
  labels(length: number, bytesPerVoxel: 1 | 2): LabelData {
    const at = this.alloc(length * bytesPerVoxel, { zeroed: true });
    return bytesPerVoxel === 1 ? this.u8(at, length) : this.u16(at, length);
  }

  /** The address of a view made by this heap (or a subarray of one), or undefined for any other array. */
  addressOf(view: View): number | undefined {
    return this.buffers.has(view.buffer) ? view.byteOffset : undefined;
  }

  /**
   * `view` in the heap: itself when it is there, else a copy in a block of its own (`copied`: the caller releases it
   * with `release(addressOf(copy), copy.byteLength)` when done).
   */
  hold<T extends View>(view: T): { view: T; copied: boolean } {
    if (this.addressOf(view) !== undefined) return { view, copied: false };
    const at = this.alloc(view.byteLength);
    const Kind = view.constructor as new (b: ArrayBufferLike, at: number, n: number) => T;
    const copy = new Kind(this.buffer(), at, view.length);
    copy.set(view as never);
    return { view: copy, copied: true };
  }

  /** Releases what `hold` copied. */
  unhold(held: { view: View; copied: boolean }): void {
    if (held.copied) this.release(held.view.byteOffset, held.view.byteLength);
  }

  /** The memory's current buffer (a new object after each grow; views made on an earlier one stay valid). */
  private buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }
}

let perThread: KernelHeap | undefined;

/** This thread's heap: a worker's is its pool's (surfaceWorker.ts sets it), any other thread's its own. */
export function threadHeap(): KernelHeap {
  perThread ??= new KernelHeap();
  return perThread;
}

/** Makes `heap` this thread's (a pool worker, on its pool's memory). */
export function useThreadHeap(heap: KernelHeap): void {
  perThread = heap;
}
