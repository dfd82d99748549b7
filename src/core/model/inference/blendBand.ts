/**
 * The accumulators of sliding-window blending (slidingWindow.ts) for a ring of slabs across the sweep axis s (the
 * longest axis of the padded image, sweepAxis; u < v the other two), and what finishes a slab. Written for s = 0:
 *   acc[c][slot(s0 + a)][(s1 + b) * full2 + s2 + e] += f32(logits[c][a][b][e] * weights[a][b][e])   per window
 *   count[v] = sum of weights[x - s0][...] over the windows covering slab x, in window order          per slab
 *   finished slab: f32(acc[c][v] / count[v]) (MONAI divides by its count map), or its argmax (first on ties)
 * with slot(x) = (x mod ring) * full1 * full2; along s = 1 or 2 the same with the roles of the axes exchanged (the
 * ring is x_s mod patch[s], a slab's plane is [full_u, full_v]). Every product is rounded to float32 before the add
 * and every sum is a float32 sum in window order (s slowest, then u, then v), as PyTorch computes MONAI's
 * `importance_map * logits` and `+=`, so the values are those of a whole-volume float32 accumulator taking the
 * windows in that order. The summed weights are rebuilt per slab from the window list instead of being accumulated
 * in a second band: the same additions in the same order, without the band's memory. float16 storage (`dtype`):
 * each add is the float32 sum of the stored value and the product, stored rounded to float16 (ties to even).
 *
 * Implementations giving the same bits: WebAssembly SIMD (blendKernel.wat: the band lives in the module's memory,
 * four voxels per instruction; along axis 0 its planes stored in column tiles as wide as the patch so that a
 * window's rows are long contiguous runs (tiledIndex); along axes 1 and 2, and for float16, row-major rings walked
 * by JavaScript a (channel, window plane) at a time, wasmRowBand; blending is most of the time spent outside the
 * network) and plain JavaScript (row-major rings), used where the band does not fit a 32-bit WebAssembly memory
 * (4 GiB), for more than 256 classes, or when UMD_LENS_BLEND=js asks for it; the tests hold them equal.
 */
import kernelBytes from './blendKernel.wat';
import { halfBits, halfTable } from './float16';

type Shape3 = readonly [number, number, number];

export interface BandGeometry {
  channels: number;
  patch: Shape3;
  /** Padded image shape [d0, d1, d2]. */
  full: Shape3;
  /**
   * Window starts per axis (windows are their Cartesian product, taken with the sweep axis slowest, then the other
   * two in tensor order).
   */
  starts: readonly [readonly number[], readonly number[], readonly number[]];
  /**
   * The tensor axis the band is laid along (default 0): slabs are planes across it, a ring of patch[sweep] of them
   * is held, and slab x is finished once no later window starts at or before it along this axis.
   */
  sweep?: 0 | 1 | 2;
  /** Storage of the accumulators (default float32); float16 halves the band's memory (JavaScript only). */
  dtype?: 'float32' | 'float16';
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
  /**
   * Slab `x` (padded index along the sweep axis) finished: its blended logits [channels, full_u * full_v] into `out`
   * (u, v: planeAxes, v fastest); the slot is reset.
   */
  finishLogits(x: number, out: Float32Array): void;
  /** Slab `x` finished: its classes (argmax of the blended logits, first on ties), [full_u * full_v], into `out`; the slot is reset. */
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
    const band = (geom.sweep ?? 0) === 0 && geom.dtype !== 'float16' ? wasmBand(geom, weights) : wasmRowBand(geom, weights);
    if (band) return band;
  }
  return jsBand(geom, weights);
}

/** The two tensor axes of a slab's plane, in tensor order (u slower, v fastest): the axes other than the sweep. */
export function planeAxes(sweep: 0 | 1 | 2): [number, number] {
  return sweep === 0 ? [1, 2] : sweep === 1 ? [0, 2] : [0, 1];
}

/**
 * The tensor axis the band is laid along: the longest of the padded shape (so the band holds patch x the two short
 * axes), axis 0 on ties, which keeps MONAI's own window order whenever that is as good.
 */
export function sweepAxis(full: Shape3): 0 | 1 | 2 {
  let s: 0 | 1 | 2 = 0;
  if (full[1] > full[s]) s = 1;
  if (full[2] > full[s]) s = 2;
  return s;
}

/**
 * Windows covering slab x (along the sweep axis), in window order (sweep axis slowest, then u, then v): the window's
 * start on every tensor axis and x's index within it.
 */
function* coveringWindows({ patch, starts, sweep = 0 }: BandGeometry, x: number): Generator<[Shape3, number]> {
  const [u, v] = planeAxes(sweep);
  const start = [0, 0, 0];
  for (const ss of starts[sweep]) {
    if (x < ss || x >= ss + patch[sweep]) continue;
    start[sweep] = ss;
    for (const su of starts[u]) {
      start[u] = su;
      for (const sv of starts[v]) {
        start[v] = sv;
        yield [[start[0], start[1], start[2]], x - ss];
      }
    }
  }
}

type Kernel = {
  accumulate(acc: number, logits: number, weights: number, channels: number, chanStride: number, p0: number, p1: number, p2: number, ring: number, planeBytes: number, full1: number, full2: number, tile: number, s0: number, s1: number, s2: number): void;
  addWeights(count: number, weights: number, a: number, p1: number, p2: number, full1: number, full2: number, tile: number, s1: number, s2: number): void;
  addRows(dst: number, dstStride: number, src: number, w: number, srcStride: number, n: number, rows: number): void;
  sumRows(dst: number, dstStride: number, w: number, srcStride: number, n: number, rows: number): void;
  takeSlab(dst: number, src: number, rows: number, rowStride: number, n: number, elemStride: number): void;
  addRows16(dst: number, dstStride: number, src: number, w: number, srcStride: number, n: number, rows: number): void;
  takeSlab16(dst: number, src: number, rows: number, rowStride: number, n: number, elemStride: number): void;
  addColumns(dst: number, dstStride: number, src: number, srcStride: number, w: number, wStride: number, n: number, rows: number, half: number): void;
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
    for (const [[, s1, s2], a] of coveringWindows(geom, x)) k.addWeights(count.byteOffset, w.byteOffset, a, patch[1], patch[2], full[1], full[2], tile, s1, s2);
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

/**
 * A band in WebAssembly with row-major rings: swept along tensor axis 1 or 2 (float32), or along any axis with
 * float16 accumulators. Each channel's ring is the padded image with the sweep axis cut to `ring` slots (x mod
 * ring), row-major in tensor order (no tiles: a window's plane along axis 0 is then a few contiguous runs, rows of
 * the patch or of the ring), except that a ring swept along axis 2 is stored [d0][slot][d1]: a finished slab is then
 * d0 contiguous rows instead of one value every `ring` floats (a cache miss per value: 15x slower to finish), and
 * the window's plane is added column by column (kernel addColumns). JavaScript walks the window's (channel, plane) pairs and the kernel adds each one's
 * rows (float16: converted, added in float32, rounded back to float16, four at a time), split where the ring wraps;
 * a finished slab is gathered into a contiguous float32 scratch plane (and zeroed in the ring) before the same
 * division and argmax as the tiled axis-0 band.
 */
function wasmRowBand(geom: BandGeometry, weights: Float32Array): BlendBand | null {
  const module = kernelModule();
  if (!module) return null;
  const { channels, patch, full } = geom;
  const s = geom.sweep ?? 0;
  const half = geom.dtype === 'float16';
  const es = half ? 2 : 4; // bytes per accumulator
  const [u, v] = planeAxes(s);
  const ring = patch[s];
  const dims = [full[0], full[1], full[2]];
  dims[s] = ring;
  const chan = dims[0] * dims[1] * dims[2];
  const plane = full[u] * full[v];
  const nPatch = patch[0] * patch[1] * patch[2];
  const p12 = patch[1] * patch[2];
  const batchSize = geom.batchSize ?? 1;
  // the band (its bytes rounded up to whole floats), a batch of logits, the weights, the weights as [p2][p0][p1]
  // (axis 2 swept: a slab's weights are then rows), one slab's summed weights, one slab's logits gathered, one
  // slab's classes
  const floats = [Math.ceil((channels * chan * es) / 16) * 4, batchSize * channels * nPatch, nPatch, nPatch, plane, channels * plane];
  const bytes = floats.reduce((t, n) => t + n * 4, 0) + plane;
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) return null;
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
  const [acc, logitsIn, w, wT, count, scratch] = floats.map(take);
  const classes = new Uint8Array(memory.buffer, offset, plane);
  if (taken.reused) acc.fill(0);
  // swept along axis 2: the weights of one window plane a transposed, [a][p2][p1], for the column-wise add
  if (s === 2) {
    let o = 0;
    for (let a = 0; a < patch[0]; a++) for (let e = 0; e < patch[2]; e++) for (let b = 0; b < patch[1]; b++) w[o++] = weights[a * p12 + b * patch[2] + e];
  } else {
    w.set(weights);
  }
  if (s === 2) {
    let o = 0;
    for (let e = 0; e < patch[2]; e++) for (let a = 0; a < patch[0]; a++) for (let b = 0; b < patch[1]; b++) wT[o++] = weights[a * p12 + b * patch[2] + e];
  }
  const addRows = half ? k.addRows16 : k.addRows;
  const takeSlab = half ? k.takeSlab16 : k.takeSlab;
  const counts = (x: number): void => {
    count.fill(0);
    for (const [st, i] of coveringWindows(geom, x)) {
      if (s === 0) k.sumRows(count.byteOffset + (st[1] * full[2] + st[2]) * 4, full[2] * 4, w.byteOffset + i * p12 * 4, patch[2] * 4, patch[2], patch[1]);
      else if (s === 1) k.sumRows(count.byteOffset + (st[0] * full[2] + st[2]) * 4, full[2] * 4, w.byteOffset + i * patch[2] * 4, p12 * 4, patch[2], patch[0]);
      else k.sumRows(count.byteOffset + (st[0] * full[1] + st[1]) * 4, full[1] * 4, wT.byteOffset + i * patch[0] * patch[1] * 4, patch[1] * 4, patch[1], patch[0]);
    }
  };
  const gather = (x: number): void => {
    const slot = x % ring;
    for (let c = 0; c < channels; c++) {
      const base = acc.byteOffset + c * chan * es;
      const dst = scratch.byteOffset + c * plane * 4;
      if (s === 0) takeSlab(dst, base + slot * dims[1] * dims[2] * es, 1, 0, dims[1] * dims[2], es);
      else if (s === 1) takeSlab(dst, base + slot * dims[2] * es, dims[0], dims[1] * dims[2] * es, dims[2], es);
      // swept along axis 2 the ring is [d0][slot][d1]: a slab is d0 rows of d1
      else takeSlab(dst, base + slot * full[1] * es, full[0], ring * full[1] * es, full[1], es);
    }
  };
  return {
    kind: 'wasm',
    outputArea(batch) {
      return batch <= batchSize ? logitsIn.subarray(0, batch * channels * nPatch) : undefined;
    },
    add(start, logits) {
      if (logits.length !== channels * nPatch) throw new Error(`${logits.length} logits for one window of ${channels} x ${nPatch}`);
      let at = logits.byteOffset;
      if ((logits.buffer as ArrayBufferLike) !== memory.buffer) {
        logitsIn.set(logits);
        at = logitsIn.byteOffset;
      }
      const [s0, s1, s2] = start;
      const r = start[s] % ring;
      const head = ring - r; // rows (axis 1) or columns (axis 2) before the ring wraps
      for (let c = 0; c < channels; c++) {
        const base = acc.byteOffset + c * chan * es;
        for (let a = 0; a < patch[0]; a++) {
          const src = at + (c * nPatch + a * p12) * 4;
          const wa = w.byteOffset + a * p12 * 4;
          if (s === 0) {
            addRows(base + ((((s0 + a) % ring) * dims[1] + s1) * dims[2] + s2) * es, dims[2] * es, src, wa, patch[2] * 4, patch[2], patch[1]);
          } else if (s === 1) {
            const row0 = base + ((s0 + a) * dims[1] * dims[2] + s2) * es;
            addRows(row0 + r * dims[2] * es, dims[2] * es, src, wa, patch[2] * 4, patch[2], head);
            if (r) addRows(row0, dims[2] * es, src + head * patch[2] * 4, wa + head * patch[2] * 4, patch[2] * 4, patch[2], r);
          } else {
            // ring [d0][slot][d1]: window column e (along d1) is band row slot(s2 + e), from d1 = s1 on
            const row0 = base + ((s0 + a) * ring * full[1] + s1) * es;
            const h = half ? 1 : 0;
            k.addColumns(row0 + r * full[1] * es, full[1] * es, src, patch[2] * 4, wa, patch[1] * 4, patch[1], head, h);
            if (r) k.addColumns(row0, full[1] * es, src + head * 4, patch[2] * 4, wa + head * patch[1] * 4, patch[1] * 4, patch[1], r, h);
          }
        }
      }
    },
    finishLogits(x, out) {
      counts(x);
      gather(x);
      for (let c = 0; c < channels; c++) for (let q = 0; q < plane; q++) out[c * plane + q] = scratch[c * plane + q] / count[q];
    },
    finishClasses(x, out) {
      counts(x);
      gather(x);
      k.slabClasses(scratch.byteOffset, count.byteOffset, channels, plane * 4, plane, classes.byteOffset);
      out.set(classes);
    },
    release() {
      giveBack(memory);
    },
  };
}

/**
 * The JavaScript band, for any sweep axis and either storage: each channel's ring is the padded image with the sweep
 * axis cut to `ring` slots (x mod ring), row-major in tensor order. float16 storage (`dtype`): each add takes the
 * stored value (exact in float32), adds the float32 product in float32 and stores the sum rounded to float16
 * (nearest, ties to even); the summed weights and the division stay float32 (they are rebuilt per slab).
 */
function jsBand(geom: BandGeometry, weights: Float32Array): BlendBand {
  const { channels, patch, full } = geom;
  const s = geom.sweep ?? 0;
  const [u, v] = planeAxes(s);
  const ring = patch[s];
  const dims = [full[0], full[1], full[2]];
  dims[s] = ring;
  const stride = [dims[1] * dims[2], dims[2], 1];
  const chan = dims[0] * dims[1] * dims[2];
  const plane = full[u] * full[v];
  const nPatch = patch[0] * patch[1] * patch[2];
  const pStride = [patch[1] * patch[2], patch[2], 1];
  const half = geom.dtype === 'float16';
  const acc32 = half ? undefined : new Float32Array(channels * chan);
  const acc16 = half ? new Uint16Array(channels * chan) : undefined;
  const toFloat = half ? halfTable() : undefined;
  const sum32 = new Float32Array(1);
  const sumBits = new Uint32Array(sum32.buffer);
  const count = new Float32Array(plane);
  const counts = (x: number): void => {
    count.fill(0);
    for (const [st, i] of coveringWindows(geom, x)) {
      for (let pu = 0; pu < patch[u]; pu++) {
        const to = (st[u] + pu) * full[v] + st[v];
        const from = i * pStride[s] + pu * pStride[u];
        for (let pv = 0; pv < patch[v]; pv++) count[to + pv] += weights[from + pv * pStride[v]];
      }
    }
  };
  /** Slab x's blended logits into out [channels, plane], its slot reset. */
  const divided = (x: number, out: Float32Array): void => {
    counts(x);
    const slot = (x % ring) * stride[s];
    for (let c = 0; c < channels; c++) {
      for (let xu = 0; xu < full[u]; xu++) {
        let at = c * chan + slot + xu * stride[u];
        let o = c * plane + xu * full[v];
        const cnt = xu * full[v];
        for (let xv = 0; xv < full[v]; xv++, at += stride[v], o++) {
          if (acc16) {
            out[o] = toFloat![acc16[at]] / count[cnt + xv];
            acc16[at] = 0;
          } else {
            out[o] = acc32![at] / count[cnt + xv];
            acc32![at] = 0;
          }
        }
      }
    }
  };
  let scratch: Float32Array | undefined;
  return {
    kind: 'js',
    outputArea: () => undefined,
    add(start, logits) {
      if (logits.length !== channels * nPatch) throw new Error(`${logits.length} logits for one window of ${channels} x ${nPatch}`);
      const r = start[s] % ring;
      for (let a = 0; a < patch[0]; a++) {
        const x0 = s === 0 ? (start[0] + a) % ring : start[0] + a;
        for (let b = 0; b < patch[1]; b++) {
          const x1 = s === 1 ? (start[1] + b) % ring : start[1] + b;
          const w = a * pStride[0] + b * pStride[1];
          for (let c = 0; c < channels; c++) {
            const from = c * nPatch + w;
            const row = c * chan + x0 * stride[0] + x1 * stride[1];
            // along a swept axis 2 the row wraps around the ring: two runs, [r, ring) then [0, r)
            const runs = s === 2 ? [[row + r, 0, ring - r], [row, ring - r, patch[2]]] : [[row + start[2], 0, patch[2]]];
            for (const [to0, e0, e1] of runs) {
              const d = to0 - e0;
              if (acc16) {
                for (let e = e0; e < e1; e++) {
                  sum32[0] = toFloat![acc16[d + e]] + Math.fround(logits[from + e] * weights[w + e]);
                  acc16[d + e] = halfBits(sumBits[0]);
                }
              } else {
                for (let e = e0; e < e1; e++) acc32![d + e] += Math.fround(logits[from + e] * weights[w + e]);
              }
            }
          }
        }
      }
    },
    finishLogits: divided,
    finishClasses(x, out) {
      scratch ??= new Float32Array(channels * plane);
      divided(x, scratch);
      for (let q = 0; q < plane; q++) {
        let best = scratch[q];
        let arg = 0;
        for (let c = 1; c < channels; c++) {
          if (scratch[c * plane + q] > best) { best = scratch[c * plane + q]; arg = c; }
        }
        out[q] = arg;
      }
    },
    release() {
      // separate arrays: the garbage collector takes them
    },
  };
}
