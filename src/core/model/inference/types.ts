/** The types shared by the sliding window, whole-volume inference and what they hand results to. */

export type Shape3 = readonly [number, number, number];

/**
 * Runs the network on a [batch, 1, d0, d1, d2] input (batch 1 when absent); returns [batch, C, d0, d1, d2]
 * logits, channel-major within each sample. The input buffer is reused for the next window once the promise has
 * settled: a runner must not keep it. `output`, when given, is where the blending wants the logits (batch x C x
 * d0 x d1 x d2 floats, in its own memory): a runner that can have the network write there (ONNX Runtime's
 * pre-allocated outputs) returns it as `data` and saves a copy; any other `data` is fine too.
 */
export type RunPatch = (input: Float32Array, shape: Shape3, batch?: number, output?: Float32Array) => Promise<{ data: Float32Array; channels: number }>;

export type MirrorAxis = 0 | 1 | 2;

/** Image voxels as they are stored (an int16 CT stays int16) or as float32 after resampling. */
export type IntensityArray = Float32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/**
 * An image read in tensor order without a transposed copy: voxel (d0, d1, d2) of the tensor is
 * data[d0 * strides[0] + d1 * strides[1] + d2 * strides[2]].
 */
export interface SourceVolume {
  data: IntensityArray;
  strides: Shape3;
}

export interface WindowOptions {
  overlap?: number;
  /** Windows per network run (MONAI's sw_batch_size); default 1. */
  batchSize?: number;
  /** Mirroring test-time augmentation: true for all three tensor axes, or the axes to mirror along. */
  tta?: boolean | readonly MirrorAxis[];
  /** Checked before every network run: cancellation stops within one batch of windows. */
  signal?: AbortSignal;
  /**
   * Pointwise preprocessing (the card's normalization, normalize.ts) applied to the image's voxels as each window
   * is cut, so that no transformed copy of the volume exists; MONAI's zero padding is not transformed (it is
   * added after normalization). Values are stored as float32, exactly as a normalized float32 volume would be.
   */
  transform?: (x: number) => number;
  /**
   * slidingWindowClasses only: softmax probabilities of these channels (exp(l_c - max) / sum_k exp(l_k - max) over
   * the blended logits, in float64, stored as float32), handed over as each slab across the sweep axis s (the
   * longest, slidingWindow.ts) is finished: the slab's index along s of the unpadded tensor and one [d_u * d_v]
   * plane per asked channel (u < v the other two tensor axes, v fastest; buffers reused). For writing them to disk
   * without ever holding a whole volume of probabilities.
   */
  probabilities?: ProbabilitySink;
  onProgress?: (done: number, total: number) => void;
  /**
   * Where the image's voxels are, when not a contiguous tensor-order array (d2 fastest): their strides per tensor
   * axis, e.g. [1, ni, ni * nj] for a storage-order (i fastest) volume read in (i, j, k) tensor order.
   */
  strides?: Shape3;
  /** Storage of the blending band's accumulators (blendBand.ts): float32 (default) or float16 (half the memory). */
  bandDtype?: 'float32' | 'float16';
  /** When given, the seconds spent outside the network are added up here, per stage (for benchmarks). */
  timings?: WindowTimings;
}

/** Seconds outside the network: cutting (and normalizing) windows, blending them into the band, finishing slabs. */
export interface WindowTimings {
  cutS: number;
  blendS: number;
  finishS: number;
}

export interface ProbabilitySink {
  channels: readonly number[];
  slab(d0: number, planes: readonly Float32Array[]): void;
}

export interface Logits {
  /** Channel-major [C, d0, d1, d2]; may be a view on a larger buffer. */
  data: Float32Array;
  channels: number;
}
