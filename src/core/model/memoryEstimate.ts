/**
 * The memory one prediction will take, estimated from the image's header and the model card before any voxel is
 * read, and the refusal when it is over the limit: a whole-body case that cannot fit should fail at once with the
 * numbers and the ways out, not after minutes of swapping or an out-of-memory kill that takes the run with it.
 *
 * What is counted (bytes, the largest arrays alive at the peak, which is the window loop): the image as read (its
 * stored type when readImageStored keeps it, else float32 plus the inflated file while converting), the reoriented
 * and the resampled copies when the card asks for them, a normalized float32 copy where one is made (whole-volume
 * runs, crop/pad), the blending band (classes x patch[s] slabs x the plane across the sweep axis s x 4 bytes, 2 for
 * float16), the window buffers (input, logits, the block windows are cut from, weights, a finished slab), the class
 * maps (tensor order, storage order, the image's grid), the probability slabs, a whole-volume run's logits, and a
 * fixed allowance for Node, ONNX Runtime and a small network's activations. Not counted beyond that: a large
 * network's working memory inside ONNX Runtime, which depends on the architecture (bench/sweep.bench.ts measures a
 * real case against this estimate).
 */
import * as os from 'node:os';
import { voxelCount, type GridDims } from '../geometry/affine';
import type { ImageHeader } from '../nifti/read';
import type { ModelCard } from './card/modelCard';
import { planeAxes, sweepAxis } from './inference/blendBand';
import type { Shape3 } from './inference';
import { axisCodes, isIdentity, transformBetween } from './preprocess/orientation';

const GB = 2 ** 30;
/**
 * Node, V8, ONNX Runtime's session and a small network's activations, and writing the label map: set so that the
 * estimate meets bench/sweep.bench.ts's measured peak RSS (1.37 GB against 1.38 GB measured for the issue's
 * 320 x 320 x 1000 case; 0.52 against 0.45 GB for a 100 x 110 x 200 one).
 */
const RUNTIME_ALLOWANCE = 0.4 * GB;
/** Default limit: this share of the machine's memory. */
export const DEFAULT_MEMORY_SHARE = 0.75;

export function defaultMaxMemoryGB(): number {
  return (os.totalmem() * DEFAULT_MEMORY_SHARE) / GB;
}

export interface MemoryItem {
  what: string;
  bytes: number;
}

export interface MemoryEstimate {
  items: MemoryItem[];
  totalBytes: number;
  /** The band's bytes alone (what float16 halves). */
  bandBytes: number;
}

export interface EstimateOptions {
  /** Output channels of the network (classes). */
  channels: number;
  batchSize?: number;
  tta?: boolean | readonly number[];
  bandDtype?: 'float32' | 'float16';
  /** Probability files asked for. */
  probabilityFiles?: number;
}

const gb = (bytes: number): string => `${(bytes / GB).toFixed(2)} GB`;

/** The estimate for predicting on an image with this header (see the module's header for what is counted). */
export function estimatePredictMemory(header: ImageHeader, card: Pick<ModelCard, 'orientation' | 'spacing' | 'pad' | 'patchSize' | 'spatialOrder'>, opts: EstimateOptions): MemoryEstimate {
  const items: MemoryItem[] = [];
  const n = voxelCount(header.dims);
  const stored = header.keepsStoredType ? header.bytesPerVoxel : 4;
  items.push({ what: `image as read (${header.dims.join(' x ')}, ${header.keepsStoredType ? `${header.bytesPerVoxel * 8}-bit integers as stored` : 'float32'})`, bytes: n * stored });
  if (!header.keepsStoredType) items.push({ what: 'inflated file while converting to float32', bytes: n * header.bytesPerVoxel });
  const turn = card.orientation ? transformBetween(axisCodes(header.affine), card.orientation) : null;
  const turned = turn !== null && !isIdentity(turn);
  let dims: GridDims = header.dims;
  if (turned) {
    items.push({ what: `reoriented copy (to ${card.orientation})`, bytes: n * stored });
    dims = turn.perm.map((p) => header.dims[p]) as unknown as GridDims;
  }
  if (card.spacing) {
    // spacing of the reoriented grid's axis t: the source axis it reads
    const old = [0, 1, 2].map((t) => spacingOf(header, turned ? turn.perm[t] : t));
    const target = [0, 1, 2].map((t) => Math.max(1, Math.round((dims[t] * old[t]) / card.spacing![t]))) as unknown as GridDims;
    // as preprocess/pipeline.ts decides: resampled unless the regridded grid is the image's own
    if (target.some((d, a) => d !== dims[a]) || card.spacing.some((sp, a) => Math.abs(sp - old[a]) > 1e-6)) {
      dims = target;
      items.push({ what: `resampled to ${card.spacing.join(' x ')} mm (${dims.join(' x ')}, float32)`, bytes: voxelCount(dims) * 4 });
    }
  }
  const nWork = voxelCount(dims);
  const shape: Shape3 = card.spatialOrder === 'kji' ? [dims[2], dims[1], dims[0]] : [dims[0], dims[1], dims[2]];
  const C = opts.channels;
  const classBytes = C <= 256 ? 1 : 2;
  if (!card.patchSize || card.pad) items.push({ what: 'normalized float32 copy', bytes: nWork * 4 });
  if (card.patchSize) {
    const patch = card.patchSize;
    const full = [0, 1, 2].map((a) => Math.max(shape[a], patch[a])) as unknown as Shape3;
    const s = sweepAxis(full);
    const [u, v] = planeAxes(s);
    const plane = full[u] * full[v];
    const bytesPer = opts.bandDtype === 'float16' ? 2 : 4;
    const band = C * patch[s] * plane * bytesPer;
    items.push({ what: `blending band (${C} classes x ${patch[s]} slabs x ${full[u]} x ${full[v]} x ${bytesPer} bytes, ${opts.bandDtype ?? 'float32'})`, bytes: band });
    const nPatch = patch[0] * patch[1] * patch[2];
    const batch = opts.batchSize ?? 1;
    const block = (nPatch / patch[v]) * full[v];
    const tta = opts.tta ? batch * C * nPatch * 4 : 0;
    items.push({ what: `window buffers (batch ${batch}: input, logits, the block windows are cut from, weights, a finished slab${opts.tta ? ', TTA sums' : ''})`, bytes: batch * nPatch * 4 + batch * C * nPatch * 4 + block * 4 + 2 * nPatch * 4 + (C + 1) * plane * 4 + tta });
    if (opts.probabilityFiles) items.push({ what: `probability slabs (${opts.probabilityFiles} files)`, bytes: opts.probabilityFiles * 3 * plane * 4 });
    items.push({ what: 'class maps (tensor order, storage order)', bytes: 2 * nWork * classBytes });
    if (nWork !== n || turned) items.push({ what: 'class map on the image grid', bytes: 2 * n * classBytes });
    return finish(items, band);
  }
  items.push({ what: `whole-volume logits (${C} classes${opts.tta ? ', and their TTA sums' : ''})`, bytes: C * nWork * 4 * (opts.tta ? 2 : 1) });
  items.push({ what: 'class maps', bytes: 2 * nWork * classBytes + (nWork !== n ? n * classBytes : 0) });
  return finish(items, 0);
}

function spacingOf(header: ImageHeader, axis: number): number {
  const a = header.affine;
  return Math.hypot(a[axis], a[4 + axis], a[8 + axis]);
}

function finish(items: MemoryItem[], bandBytes: number): MemoryEstimate {
  items.push({ what: 'Node and ONNX Runtime (allowance, with a small network\'s activations)', bytes: RUNTIME_ALLOWANCE });
  return { items, totalBytes: items.reduce((t, i) => t + i.bytes, 0), bandBytes };
}

/** Thrown when the estimate is over the limit; carries the image file (evaluate's case error names it). */
export class MemoryLimitError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'MemoryLimitError';
  }
}

/** Throws MemoryLimitError naming `file`, the estimate, its parts and the ways out, when it exceeds `limitGB`. */
export function checkMemory(file: string, estimate: MemoryEstimate, limitGB: number, opts: { bandDtype?: 'float32' | 'float16'; windowed: boolean }): void {
  if (!(limitGB > 0) || !Number.isFinite(limitGB)) throw new Error(`the memory limit must be a positive number of GB (got ${limitGB})`);
  const limit = limitGB * GB;
  if (estimate.totalBytes <= limit) return;
  const parts = estimate.items.map((i) => `${i.what} ${gb(i.bytes)}`).join('; ');
  const ways: string[] = [];
  if (opts.windowed && opts.bandDtype !== 'float16' && estimate.bandBytes > 0) {
    const saved = estimate.bandBytes / 2;
    ways.push(`a float16 blending band (--band-dtype float16, umdLens.inference.bandDtype): the band ${gb(estimate.bandBytes - saved)}, about ${gb(estimate.totalBytes - saved)} in all${estimate.totalBytes - saved <= limit ? ', within the limit' : ''}`);
  }
  if (!opts.windowed) ways.push('a card patchSize, so that the model runs on windows with a bounded band instead of whole-volume logits');
  ways.push(`a higher limit if the machine has the memory (--max-memory-gb ${Math.ceil((estimate.totalBytes / GB) * 1.1 * 10) / 10}, umdLens.limits.maxMemoryGB, EvaluateOptions.maxMemoryGB)`);
  ways.push('a model with fewer classes or a smaller patch, or the image cropped to the region of interest (the band grows with classes x patch x the two short axes)');
  throw new MemoryLimitError(file, `${file}: predicting on this image needs about ${gb(estimate.totalBytes)}, over the limit of ${gb(limit)} (${parts}). Ways out: ${ways.join('; ')}. The overlap does not change the band (it holds patch-many slabs whatever the overlap), only the number of windows.`);
}
