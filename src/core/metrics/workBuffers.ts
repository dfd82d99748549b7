/**
 * Grow-only work buffers for the surface metrics of one thread, reused from organ to organ and case to case.
 *
 * Why: a buffer allocated per organ is fresh memory every time, and fresh memory costs a page fault per 4 KiB on
 * first touch. On the benchmark's VM a fault costs 8-40 us, and a whole-body case allocated ~110 MB of such buffers:
 * a third of a fresh process's time went to faults. Buffers kept here are touched once, by the largest organ (the
 * pool hands out the biggest boxes first) or by a worker's warm-up (surfaceWarmup), and reused after that.
 *
 * Each buffer has a named slot; a caller owns a slot's contents until it asks for the same slot again, so slots
 * whose contents must live at the same time have different names. Views are returned with exactly the length asked
 * for, and their contents are whatever the last user left: callers initialize what they read.
 *
 * The buffers live in a kernel heap (kernelHeap.ts), where the WebAssembly kernels can write them: by default the
 * thread's own, in a pool's worker its pool's.
 */
import { threadHeap, type KernelHeap } from './kernelHeap';

type Kind = 'u8' | 'u16' | 'u32' | 'i32' | 'f64';
type ArrayOf<K extends Kind> = K extends 'u8' ? Uint8Array : K extends 'u16' ? Uint16Array : K extends 'u32' ? Uint32Array : K extends 'i32' ? Int32Array : Float64Array;

export class WorkBuffers {
  constructor(readonly heap: KernelHeap = threadHeap()) {}

  private readonly slots = new Map<string, Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>();
  /** Bytes allocated so far, all slots and growths together (tests: what a task cost in new memory). */
  allocatedBytes = 0;

  u8(slot: string, length: number): Uint8Array {
    return this.view(slot, 'u8', length);
  }

  u16(slot: string, length: number): Uint16Array {
    return this.view(slot, 'u16', length);
  }

  u32(slot: string, length: number): Uint32Array {
    return this.view(slot, 'u32', length);
  }

  i32(slot: string, length: number): Int32Array {
    return this.view(slot, 'i32', length);
  }

  f64(slot: string, length: number): Float64Array {
    return this.view(slot, 'f64', length);
  }

  /**
   * The slot's whole buffer, at least `min` long (a buffer to fill up to an unknown count). Growing it keeps the
   * first `keep` elements.
   */
  i32Capacity(slot: string, min: number, keep = 0): Int32Array {
    return this.capacity(slot, 'i32', min, keep);
  }

  u8Capacity(slot: string, min: number, keep = 0): Uint8Array {
    return this.capacity(slot, 'u8', min, keep);
  }

  f64Capacity(slot: string, min: number, keep = 0): Float64Array {
    return this.capacity(slot, 'f64', min, keep);
  }

  /** Bytes held, all slots together. */
  get bytes(): number {
    let n = 0;
    for (const b of this.slots.values()) n += b.byteLength;
    return n;
  }

  private view<K extends Kind>(slot: string, kind: K, length: number): ArrayOf<K> {
    return this.capacity(slot, kind, length, 0).subarray(0, length) as ArrayOf<K>;
  }

  private capacity<K extends Kind>(slot: string, kind: K, min: number, keep: number): ArrayOf<K> {
    const key = `${kind}:${slot}`;
    const old = this.slots.get(key);
    if (old && old.length >= min) return old as ArrayOf<K>;
    // grow by half again, so that a run of slightly larger organs does not reallocate each time
    const size = Math.max(min, old ? Math.ceil(old.length * 1.5) : 0, 1024);
    const bytes = size * (kind === 'u8' ? 1 : kind === 'u16' ? 2 : kind === 'f64' ? 8 : 4);
    const at = this.heap.alloc(bytes);
    const h = this.heap;
    const buf = kind === 'u8' ? h.u8(at, size) : kind === 'u16' ? h.u16(at, size) : kind === 'u32' ? h.u32(at, size) : kind === 'i32' ? h.i32(at, size) : h.f64(at, size);
    this.allocatedBytes += buf.byteLength;
    if (old && keep > 0) (buf as Float64Array).set((old as Float64Array).subarray(0, keep));
    if (old) this.heap.release(old.byteOffset, old.byteLength);
    this.slots.set(key, buf);
    return buf as ArrayOf<K>;
  }

  /** Gives every slot back to the heap (a set made for one call). */
  release(): void {
    for (const b of this.slots.values()) this.heap.release(b.byteOffset, b.byteLength);
    this.slots.clear();
  }
}

const perHeap = new WeakMap<KernelHeap, WorkBuffers>();

/** This thread's set on `heap`: each worker thread loads its own copy of this module, so no two threads share one. */
export function threadWorkBuffers(heap: KernelHeap = threadHeap()): WorkBuffers {
  let work = perHeap.get(heap);
  if (!work) perHeap.set(heap, (work = new WorkBuffers(heap)));
  return work;
}
