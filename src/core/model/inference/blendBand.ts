/**
 * The accumulators of sliding-window blending (slidingWindow.ts) for a ring of d0-slabs, and what finishes a slab:
 *   acc[c][slot(s0 + a)][(s1 + b) * full2 + s2 + e] += f32(logits[c][a][b][e] * weights[a][b][e])   per window
 *   count[v] = sum of weights[x - s0][...] over the windows covering slab x, in window order          per slab
 *   finished slab: f32(acc[c][v] / count[v]) (MONAI divides by its count map), or its argmax (first on ties)
 * with slot(x) = (x mod ring) * full1 * full2. Every product is rounded to float32 before the add and every sum is a
 * float32 sum in window order, as PyTorch computes MONAI's `importance_map * logits` and `+=`, so the values are
 * those of a whole-volume float32 accumulator. The summed weights are rebuilt per slab from the window list
 * instead of being accumulated in a second band: the same additions in the same order, without the band's memory.
 *
 * Two implementations giving the same bits: WebAssembly SIMD (blendKernel.wat: the band lives in the module's
 * memory, four voxels per instruction, its planes stored in column tiles as wide as the patch so that a window's
 * rows are long contiguous runs (tiledIndex); blending is most of the time spent outside the network) and plain
 * JavaScript (row-major planes), used where the band does not fit a 32-bit WebAssembly memory (4 GiB), or when
 * UMD_LENS_BLEND=js asks for it; the tests hold the two equal.
 */
import kernelBytes from './blendKernel.wat';

type Shape3 = readonly [number, number, number];

export interface BandGeometry {
  channels: number;
  patch: Shape3;
  /** Padded image shape [d0, d1, d2]. */
  full: Shape3;
  /** Window starts per axis (windows are their Cartesian product, d0 slowest, in this order). */
  starts: readonly [readonly number[], readonly number[], readonly number[]];
  /** Windows per network run: the size of the logits area the network may write into (`outputArea`). */
  batchSize?: number;
  /** Column tile width of the WebAssembly band's planes, in voxels (tiledIndex); the patch's width when absent. */
  tile?: number;
}

export interface BlendBand {
  readonly kind: 'wasm' | 'js';
  /**
   * Where the network may write a batch's logits [batch, channels, p0, p1, p2] directly (ONNX Runtime's
   * pre-allocated output), so that they need no copy into the band's memory; undefined where that brings nothing.
   */
  outputArea(batch: number): Float32Array | undefined;
  /** Adds one window's logits [channels, p0, p1, p2] at `start` (anywhere, or a part of outputArea()). */
  add(start: Shape3, logits: Float32Array): void;
  /** Slab `x` (padded d0 index) finished: its blended logits [channels, full1 * full2] into `out`; the slot is reset. */
  finishLogits(x: number, out: Float32Array): void;
  /** Slab `x` finished: its classes (argmax of the blended logits, first on ties) into `out`; the slot is reset. */
  finishClasses(x: number, out: Uint8Array): void;
  /** The band is no longer used: its memory may serve the next band (takeMemory); nothing may be called after. */
  release(): void;
}

const PAGE = 65536;
const MAX_PAGES = 65536; // a 32-bit memory: 4 GiB

/**
 * Where each voxel of a [full1, full2] plane (row-major index v = y * full2 + x) sits in the plane stored in column
 * tiles of `tile` voxels: tile t = floor(x / tile) holds columns [t * tile, t * tile + width) of every row, rows
 * `width` apart, width = min(tile, full2 - t * tile); the tiles follow each other.
 */
export function tiledIndex(full1: number, full2: number, tile: number): Int32Array {
  const at = new Int32Array(full1 * full2);
  for (let t0 = 0; t0 < full2; t0 += tile) {
    const width = Math.min(tile, full2 - t0);
    for (let y = 0; y < full1; y++) {
      for (let i = 0; i < width; i++) at[y * full2 + t0 + i] = t0 * full1 + y * width + i;
    }
  }
  return at;
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * The WebAssembly memory of the last released band, kept for the next band of this process: a whole-body band is
 * ~550 MB, and touching fresh pages costs ~13 us each on the virtual machines measured (1.8 s for such a band, every
 * case of an evaluation); a reused memory costs one fill of its accumulators instead (~30 ms). Grown when a band
 * needs more (grow keeps the touched pages, and no second copy exists at any time); one band holds it at a time, a
 * band created while it is held gets a fresh memory. Kept until the process ends (the engine and the CLI run one
 * evaluation per process).
 */
let spare: WebAssembly.Memory | undefined;

/** A memory of at least `pages` pages: the spare one (grown if needed) or a fresh one; null when that fails. */
function takeMemory(pages: number): { memory: WebAssembly.Memory; reused: boolean } | null {
  const kept = spare;
  spare = undefined;
  try {
    if (kept) {
      const have = kept.buffer.byteLength / PAGE;
      if (have < pages) kept.grow(pages - have);
      return { memory: kept, reused: true };
    }
    return { memory: new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES }), reused: false };
  } catch {
    return null; // the allocation failed: the JavaScript band may still fit as separate arrays
  }
}

function giveBack(memory: WebAssembly.Memory): void {
  if (!spare || spare.buffer.byteLength < memory.buffer.byteLength) spare = memory;
}

function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(kernelBytes);
    } catch {
      compiled = null; // no WebAssembly SIMD in this runtime: the JavaScript band does the same
    }
  }
  return compiled;
}

export function createBand(geom: BandGeometry, weights: Float32Array, prefer: 'wasm' | 'js' = process.env.UMD_LENS_BLEND === 'js' ? 'js' : 'wasm'): BlendBand {
  if (prefer === 'wasm' && geom.channels <= 256) {
    const band = wasmBand(geom, weights);
    if (band) return band;
  }
  return jsBand(geom, weights);
}

/** Windows covering slab x, in window order: (a = x - s0, s1, s2). */
function* coveringWindows({ patch, starts }: BandGeometry, x: number): Generator<[number, number, number]> {
  for (const s0 of starts[0]) {
    if (x < s0 || x >= s0 + patch[0]) continue;
    for (const s1 of starts[1]) for (const s2 of starts[2]) yield [x - s0, s1, s2];
  }
}

type Kernel = {
  accumulate(acc: number, logits: number, weights: number, channels: number, chanStride: number, p0: number, p1: number, p2: number, ring: number, planeBytes: number, full1: number, full2: number, tile: number, s0: number, s1: number, s2: number): void;
  addWeights(count: number, weights: number, a: number, p1: number, p2: number, full1: number, full2: number, tile: number, s1: number, s2: number): void;
  slabClasses(acc: number, count: number, channels: number, chanStride: number, plane: number, out: number): void;
};

function wasmBand(geom: BandGeometry, weights: Float32Array): BlendBand | null {
  const module = kernelModule();
  if (!module) return null;
  const { channels, patch, full } = geom;
  const ring = patch[0];
  const plane = full[1] * full[2];
  const nPatch = patch[0] * patch[1] * patch[2];
  const tile = Math.min(geom.tile ?? patch[2], full[2]);
  const tiled = tiledIndex(full[1], full[2], tile);
  // the band, a batch of logits (written there by the network, or copied in), the weights, one slab's summed
  // weights and one slab's classes
  const batchSize = geom.batchSize ?? 1;
  const floats = [channels * ring * plane, batchSize * channels * nPatch, nPatch, plane];
  const bytes = floats.reduce((s, n) => s + n * 4, 0) + plane;
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) return null;
  // not shared: ONNX Runtime writes its output only into unshared memory
  const taken = takeMemory(pages);
  if (!taken) return null;
  const { memory } = taken;
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernel;

  let offset = 0;
  const take = (n: number): Float32Array => {
    const view = new Float32Array(memory.buffer, offset, n);
    offset += n * 4;
    return view;
  };
  const [acc, logitsIn, w, count] = floats.map(take);
  const classes = new Uint8Array(memory.buffer, offset, plane);
  // finished slabs leave their slots zeroed, but a reused memory may have held other data there (another geometry,
  // a cancelled run)
  if (taken.reused) acc.fill(0);
  w.set(weights);
  const chanStride = ring * plane * 4;
  const counts = (x: number): void => {
    count.fill(0);
    for (const [a, s1, s2] of coveringWindows(geom, x)) k.addWeights(count.byteOffset, w.byteOffset, a, patch[1], patch[2], full[1], full[2], tile, s1, s2);
  };
  return {
    kind: 'wasm',
    outputArea(batch) {
      return batch <= batchSize ? logitsIn.subarray(0, batch * channels * nPatch) : undefined;
    },
    add([s0, s1, s2], logits) {
      if (logits.length !== channels * nPatch) throw new Error(`${logits.length} logits for one window of ${channels} x ${nPatch}`);
      let at = logits.byteOffset;
      if ((logits.buffer as ArrayBufferLike) !== memory.buffer) {
        // not written by the network into outputArea(): nothing of this batch is there, so the first slot is free
        logitsIn.set(logits);
        at = logitsIn.byteOffset;
      }
      k.accumulate(acc.byteOffset, at, w.byteOffset, channels, chanStride, patch[0], patch[1], patch[2], ring, plane * 4, full[1], full[2], tile, s0, s1, s2);
    },
    finishLogits(x, out) {
      counts(x);
      divideSlab(acc, count, channels, ring, plane, x, out, tiled);
    },
    finishClasses(x, out) {
      counts(x);
      k.slabClasses(acc.byteOffset + (x % ring) * plane * 4, count.byteOffset, channels, chanStride, plane, classes.byteOffset);
      for (let v = 0; v < plane; v++) out[v] = classes[tiled[v]];
    },
    release() {
      giveBack(memory);
    },
  };
}

/**
 * Slab x's blended logits [channels, plane] = acc / count, as float32 (MONAI divides by its count map), row-major
 * whether the band's planes are (`tiled` absent) or are stored in tiles (`tiled`: tiledIndex); the slot is reset.
 */
function divideSlab(acc: Float32Array, count: Float32Array, channels: number, ring: number, plane: number, x: number, out: Float32Array, tiled?: Int32Array): void {
  const r = (x % ring) * plane;
  for (let c = 0; c < channels; c++) {
    const base = c * ring * plane + r;
    if (tiled) for (let v = 0; v < plane; v++) out[c * plane + v] = acc[base + tiled[v]] / count[tiled[v]];
    else for (let v = 0; v < plane; v++) out[c * plane + v] = acc[base + v] / count[v];
    acc.fill(0, base, base + plane);
  }
}

function jsBand(geom: BandGeometry, weights: Float32Array): BlendBand {
  const { channels, patch, full } = geom;
  const ring = patch[0];
  const plane = full[1] * full[2];
  const nPatch = patch[0] * patch[1] * patch[2];
  const acc = new Float32Array(channels * ring * plane);
  const count = new Float32Array(plane);
  const p12 = patch[1] * patch[2];
  const n2 = patch[2];
  const counts = (x: number): void => {
    count.fill(0);
    for (const [a, s1, s2] of coveringWindows(geom, x)) {
      for (let b = 0; b < patch[1]; b++) {
        const to = (s1 + b) * full[2] + s2;
        const from = a * p12 + b * n2;
        for (let e = 0; e < n2; e++) count[to + e] += weights[from + e];
      }
    }
  };
  const divided = (x: number, out: Float32Array): void => {
    counts(x);
    divideSlab(acc, count, channels, ring, plane, x, out);
  };
  let scratch: Float32Array | undefined;
  return {
    kind: 'js',
    outputArea: () => undefined,
    add([s0, s1, s2], logits) {
      for (let a = 0; a < patch[0]; a++) {
        const r = ((s0 + a) % ring) * plane;
        const w0 = a * p12;
        for (let c = 0; c < channels; c++) {
          const accBase = c * ring * plane + r;
          const from0 = c * nPatch + w0;
          for (let b = 0; b < patch[1]; b++) {
            const to = accBase + (s1 + b) * full[2] + s2;
            const w = w0 + b * n2;
            const from = from0 + b * n2;
            for (let e = 0; e < n2; e++) acc[to + e] += Math.fround(logits[from + e] * weights[w + e]);
          }
        }
      }
    },
    finishLogits: divided,
    finishClasses(x, out) {
      scratch ??= new Float32Array(channels * plane);
      divided(x, scratch);
      for (let v = 0; v < plane; v++) {
        let best = scratch[v];
        let arg = 0;
        for (let c = 1; c < channels; c++) {
          if (scratch[c * plane + v] > best) { best = scratch[c * plane + v]; arg = c; }
        }
        out[v] = arg;
      }
    },
    release() {
      // separate arrays: the garbage collector takes them
    },
  };
}
