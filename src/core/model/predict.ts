/**
 * A checkpoint with its card, and class prediction for one image.
 *
 * predictClasses: image (in its stored type: an int16 CT stays int16) -> the card's preprocessing
 * (preprocess/pipeline.ts: orientation, spacing, normalization for the modality, crop/pad) -> tensor in the card's
 * spatialOrder (read in place through strides, not transposed) -> sliding window (card.patchSize; each window
 * normalized as it is cut) or one whole-volume run -> argmax over channels -> the preprocessing undone, back onto
 * the image's grid. Class ids are the model's own, not yet mapped to any dataset's label ids.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Modality } from '../dataset/organs';
import type { LabelVolume, StoredImageVolume } from '../geometry/volume';
import type { CardSource, ModalityKey, ModelCard, Normalization } from './card/modelCard';
import { resolveCard } from './card/resolveCard';
import { toModelInput } from './preprocess/pipeline';
import { allowedBatchSize, createSession, declaredSpatialShape, ModelError, type Device } from './session';
import { openDecoder, type DecoderSession } from './decoderSession';
import { argmaxChannels, probabilitySlabs, slidingWindowClasses, slidingWindowSweep, wholeVolumeLogits, type MirrorAxis, type ProbabilitySink, type RunPatch, type Shape3 } from './inference';
import { openNiftiSlabWriter } from '../nifti/streamWrite';
import { readImageHeader, type ReadLimits } from '../nifti/read';
import { checkMemory, defaultMaxMemoryGB, estimatePredictMemory, type MemoryEstimate } from './memoryEstimate';
import type { Affine } from '../geometry/affine';
import { loadTextEmbeddings, type TextTable } from './card/textEmbeddings';
import { askable, cardClasses, classQueries, isQueried, promptInputProblems, withBackground } from './classQueries';

export interface LoadedModel {
  path: string;
  card: ModelCard;
  /** Where the card came from (resolveCard.ts), and the files it was read from; cardPath is the first. */
  cardSource: CardSource;
  cardFiles: string[];
  cardPath: string;
  warnings: string[];
  session: ort.InferenceSession;
  /** Encoder-decoder cards (card.decoder): the decoder graph, run per prompt; `session` is then the encoder. */
  decoder?: DecoderSession;
  /** The card's precomputed text embeddings (`prompt.text`), read and size-checked at load. */
  text?: TextTable;
  close(): Promise<void>;
}

export interface PredictOptions {
  /** Sliding-window overlap (default: the card's); windows per run (default 1; 1 when the model's batch dim is fixed at 1). */
  overlap?: number;
  batchSize?: number;
  /** Mirroring test-time augmentation (slidingWindow.ts): true for all three axes, or the tensor axes. */
  tta?: boolean | readonly MirrorAxis[];
  signal?: AbortSignal;
  /** Windows run so far and in all (1 of 1 for whole-volume inference). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Softmax probabilities written to these files (.nii.gz, float32): of one model class, or the sum over several
   * (an organ the model splits into several classes), slab by slab as the window finishes them, on the grid the model ran on (after the card's orientation, resampling and pad; the
   * file's affine places it in world space). In (i, j, k) tensor order the file's axes are (k, j, i) with the
   * affine's columns to match, so that it can still be written as slabs.
   */
  probabilities?: ReadonlyArray<{ classes: readonly number[]; file: string }>;
  /**
   * Storage of the sliding window's blending band: float32 (default) or float16 (half its memory; argmax agreement
   * with float32 in docs/benchmarks.md).
   */
  bandDtype?: 'float32' | 'float16';
  /**
   * Cards whose classes are asked for (classPrompt, semantic prompt.text; classQueries.ts): the model class ids to
   * ask, default every class of `labels` (with text: every one with a row for the modality). Windows then run one
   * at a time.
   */
  classes?: readonly number[];
}

/** Resolves the model's card (umd.json, ONNX metadata, nnU-Net, MONAI), opens a CPU session, checks the card against it. */
export async function loadModel(onnxPath: string, opts: { threads?: number; device?: Device } = {}): Promise<LoadedModel> {
  // checked before the card, whose "not found" would otherwise hide a wrong model path
  if (!fs.existsSync(onnxPath)) throw new ModelError(onnxPath, 'model file not found');
  const { card, source, files, warnings } = resolveCard(onnxPath);
  // read before the session: a wrong embeddings file fails the model, never a case
  const text = card.prompt?.text ? loadTextEmbeddings(card.prompt.text, path.dirname(onnxPath), files[0]) : undefined;
  const session = await createSession(onnxPath, card, { threads: opts.threads, device: opts.device });
  let decoder: DecoderSession | undefined;
  try {
    if (card.decoder) decoder = await openDecoder(session, onnxPath, card, files[0], { threads: opts.threads, device: opts.device });
  } catch (e) {
    await session.release();
    throw e;
  }
  // the text row and class ids go to the graph that takes the prompt: the decoder when there is one
  const problems = promptInputProblems(decoder?.session ?? session, card);
  if (problems.length) {
    await session.release();
    await decoder?.session.release();
    throw new ModelError(onnxPath, problems.join('; '));
  }
  let closed = false;
  return {
    path: onnxPath,
    card,
    cardSource: source,
    cardFiles: files,
    cardPath: files[0],
    warnings,
    session,
    ...(decoder ? { decoder } : {}),
    ...(text ? { text } : {}),
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
      await decoder?.session.release();
    },
  };
}

/** The card's normalization for a modality: its own entry, else "*", else none. */
export function normalizationFor(card: ModelCard, modality: Modality | null): Normalization {
  const key = modality?.toLowerCase() as ModalityKey | undefined;
  return (key && card.normalization[key]) || card.normalization['*'] || { method: 'none' };
}

function fromIjk<T extends Uint8Array | Uint16Array>(data: T, [ni, nj, nk]: readonly number[]): T {
  const out = new (data.constructor as { new (n: number): T })(data.length);
  const nij = ni * nj;
  let o = 0;
  for (let i = 0; i < ni; i++) for (let j = 0; j < nj; j++) for (let k = 0; k < nk; k++) out[i + j * ni + k * nij] = data[o++];
  return out;
}

/**
 * The grid of a probability file: the work grid with its axes ordered so that the axis the slabs are finished along
 * (tensor axis `sweep`) is the file's slowest, then the slab's rows (u), then its columns (v, fastest); the affine's
 * columns follow, so every voxel keeps its world position. `workAxis[t]` is the work-grid axis of tensor axis t.
 */
function probabilityGrid(work: StoredImageVolume, workAxis: readonly number[], sweep: 0 | 1 | 2): { dims: [number, number, number]; affine: Affine } {
  const [u, v] = sweep === 0 ? [1, 2] : sweep === 1 ? [0, 2] : [0, 1];
  const axes = [v, u, sweep].map((t) => workAxis[t]);
  const a = work.affine;
  const affine = [...a];
  for (let r = 0; r < 3; r++) for (let f = 0; f < 3; f++) affine[r * 4 + f] = a[r * 4 + axes[f]];
  return { dims: axes.map((w) => work.dims[w]) as [number, number, number], affine: affine as Affine };
}

/** The network's output channels: its declared output shape when static, else the card's highest class + 1. */
export function outputChannels(model: LoadedModel): number {
  const meta = model.session.outputMetadata?.find((m) => m.name === model.card.outputs.logits);
  const declared = meta && meta.isTensor ? meta.shape[1] : undefined;
  if (typeof declared === 'number' && declared > 0) return declared;
  return Math.max(1, ...Object.keys(model.card.labels).map((k) => Number(k) + 1));
}

/**
 * The memory predictClasses will take on `imageFile` (memoryEstimate.ts), from its header alone; throws
 * MemoryLimitError naming the file, the figures and the ways out when it exceeds `maxMemoryGB` (default 75 % of
 * this machine's memory). Call before reading the image.
 */
export function checkPredictMemory(model: LoadedModel, imageFile: string, opts: Pick<PredictOptions, 'batchSize' | 'tta' | 'bandDtype' | 'probabilities'> & { maxMemoryGB?: number; limits?: ReadLimits } = {}): MemoryEstimate {
  const header = readImageHeader(imageFile, opts.limits);
  const estimate = estimatePredictMemory(header, model.card, {
    channels: outputChannels(model), batchSize: opts.batchSize, tta: opts.tta, bandDtype: opts.bandDtype, probabilityFiles: opts.probabilities?.length,
  });
  checkMemory(imageFile, estimate, opts.maxMemoryGB ?? defaultMaxMemoryGB(), { bandDtype: opts.bandDtype, windowed: model.card.patchSize !== null });
  return estimate;
}

/** Model class ids (argmax, not remapped) on the IMAGE's grid. */
export async function predictClasses(model: LoadedModel, image: StoredImageVolume, modality: Modality | null, opts: PredictOptions = {}): Promise<LabelVolume> {
  const { card, session } = model;
  if (card.kind === 'promptable') {
    throw new ModelError(model.path, 'a promptable model (card kind "promptable") segments one organ from a prompt made from ground truth: use `umd-lens evaluate --prompt center|random|box|clicks:N`; predict without labels cannot prompt it');
  }
  // windowed: each window is normalized as it is cut, never a normalized copy of the whole volume
  const prep = toModelInput(image, card, normalizationFor(card, modality), { deferNormalization: card.patchSize !== null });
  const { work } = prep;
  const [ni, nj, nk] = work.dims;
  const kji = card.spatialOrder === 'kji';
  const shape: Shape3 = kji ? [nk, nj, ni] : [ni, nj, nk];
  // the work volume is in storage order (i fastest): in (k, j, i) order that is the tensor's own layout, in (i, j, k)
  // order it is read through strides, never transposed into a copy
  const strides: Shape3 | undefined = kji ? undefined : [1, ni, ni * nj];
  const workAxis = kji ? [2, 1, 0] : [0, 1, 2];
  const input = work.data;
  const transform = prep.normalizeVoxel;

  const declared = declaredSpatialShape(session, card.inputs.image);
  const fed = card.patchSize ?? shape;
  if (declared && declared.some((d, a) => d !== null && d !== fed[a])) {
    const what = card.patchSize ? `the card's patchSize [${fed.join(', ')}]` : `this image (${card.spatialOrder} [${fed.join(', ')}]; patchSize is null, so the whole volume is fed)`;
    throw new ModelError(model.path, `the model's input "${card.inputs.image}" has fixed spatial size [${declared.map((d) => d ?? '?').join(', ')}], which does not fit ${what}`);
  }

  const queried = isQueried(card);
  let queries: ReturnType<typeof classQueries> | undefined;
  if (queried) {
    const asked = askable(card, model.text, opts.classes ?? cardClasses(card), modality);
    if (opts.classes && asked.missing.length) throw new ModelError(model.path, asked.missing.map((m) => m.message).join('; '));
    if (!asked.ids.length) throw new ModelError(model.path, `no class to ask for${asked.missing.length ? `: ${asked.missing.map((m) => m.message).join('; ')}` : ''}`);
    queries = classQueries(card, model.text, asked.ids, modality);
  }
  let writesInPlace = !queried;
  const run: RunPatch = async (data, dims, batch = 1, output) => {
    const feeds = { [card.inputs.image]: new ort.Tensor('float32', data, [batch, 1, ...dims]), ...queries?.feeds };
    const perSample = batch * dims[0] * dims[1] * dims[2];
    // the logits straight into the blending band's memory (a pre-allocated output), once their size is known
    // (ONNX Runtime refuses outputs in shared memory: such an area is copied into instead)
    const target = writesInPlace && output && !(output.buffer instanceof SharedArrayBuffer) && output.length % perSample === 0 ? output : undefined;
    const fetches = target
      ? { [card.outputs.logits]: new ort.Tensor('float32', target, [batch, target.length / perSample, ...dims]) }
      : [card.outputs.logits];
    const result = await session.run(feeds, fetches);
    const out = result[card.outputs.logits];
    const d = out.dims;
    if (queries) {
      const n = queries.ids.length;
      const values = out.type === 'float32' ? withBackground(out.data as Float32Array, d, n, dims[0] * dims[1] * dims[2], card.logits?.blend) : null;
      if (!values || d[2] !== dims[0] || d[3] !== dims[1] || d[4] !== dims[2]) {
        throw new ModelError(model.path, `output "${card.outputs.logits}" is ${out.type} [${d.join(', ')}] for ${n} asked class${n === 1 ? '' : 'es'} and input [1, 1, ${dims.join(', ')}]; expected float32 [1, ${n}, ${dims.join(', ')}] or [${n}, 1, ${dims.join(', ')}] (one logit per asked class)`);
      }
      return { data: values, channels: n + 1 };
    }
    if (d.length !== 5 || d[0] !== batch || d[2] !== dims[0] || d[3] !== dims[1] || d[4] !== dims[2]) {
      throw new ModelError(model.path, `output "${card.outputs.logits}" has shape [${d.join(', ')}] for input [${batch}, 1, ${dims.join(', ')}]; expected [${batch}, C, ${dims.join(', ')}]`);
    }
    if (out.type !== 'float32') throw new ModelError(model.path, `output "${card.outputs.logits}" is ${out.type}; expected float32 logits`);
    const values = out.data as Float32Array;
    if (target) {
      // an execution provider that ignored the pre-allocated output: use what it returned, and stop asking
      const last = values.length - 1;
      if (Object.is(target[0], values[0]) && Object.is(target[last], values[last])) return { data: target, channels: d[1] };
      writesInPlace = false;
    }
    return { data: values, channels: d[1] };
  };
  const maxClass = Math.max(0, ...Object.keys(card.labels).map(Number));
  let seenChannels = -1;
  const checkedRun: RunPatch = async (data, dims, batch, output) => {
    const out = await run(data, dims, batch, output);
    if (seenChannels < 0 && !queried && out.channels <= maxClass) {
      throw new ModelError(model.path, `the model outputs ${out.channels} channel${out.channels === 1 ? '' : 's'} (classes 0..${out.channels - 1}) but the card's labels name class ${maxClass}`);
    }
    seenChannels = out.channels;
    return out;
  };
  const n = shape[0] * shape[1] * shape[2];
  if (queries && card.logits?.blend === 'probabilities' && opts.probabilities?.length) {
    throw new ModelError(model.path, 'probability maps are softmax over the blended channels; with logits.blend "probabilities" they would not be the model\'s probabilities: not written for such a card');
  }
  // windowed: slabs across the axis the band lies along; whole-volume: across tensor axis 0
  const sweep = card.patchSize ? slidingWindowSweep(shape, card.patchSize) : 0;
  const writers = (opts.probabilities ?? []).map(({ file }) => openNiftiSlabWriter(file, probabilityGrid(work, workAxis, sweep), `umd-lens probability ${path.basename(file)}`));
  // asked classes are output channels 1.. in the order asked; a class not asked has no channel
  const channelOf = (cls: number): number => (queries ? queries.ids.indexOf(cls) + 1 : cls);
  const asked = (opts.probabilities ?? []).map((p) => ({ ...p, classes: queries ? p.classes.map(channelOf).filter((c) => c > 0) : p.classes }));
  const channels = [...new Set(asked.flatMap((p) => p.classes))];
  let sum: Float32Array | undefined;
  const probabilities: ProbabilitySink | undefined = writers.length
    ? {
      channels,
      slab: (_d0, planes) => asked.forEach(({ classes }, i) => {
        if (classes.length === 1) return writers[i].writeSlab(planes[channels.indexOf(classes[0])]);
        sum ??= new Float32Array(planes[0].length);
        sum.fill(0);
        for (const c of classes) {
          const p = planes[channels.indexOf(c)];
          for (let v = 0; v < p.length; v++) sum[v] += p[v];
        }
        writers[i].writeSlab(sum);
      }),
    }
    : undefined;
  let tensorClasses: Uint8Array | Uint16Array;
  try {
    if (card.patchSize) {
      // windowed: classes straight from a bounded band of logits, never the whole volume's
      tensorClasses = await slidingWindowClasses(input, shape, card.patchSize, checkedRun, {
        overlap: opts.overlap ?? card.overlap, tta: opts.tta, signal: opts.signal, onProgress: opts.onProgress, transform, strides,
        batchSize: queried ? 1 : allowedBatchSize(session, card.inputs.image, opts.batchSize ?? 1).batchSize, probabilities, bandDtype: opts.bandDtype,
      });
    } else {
      const logits = await wholeVolumeLogits(input, shape, checkedRun, { tta: opts.tta, signal: opts.signal, onProgress: opts.onProgress, transform, strides });
      if (probabilities) probabilitySlabs(logits, shape, probabilities);
      tensorClasses = argmaxChannels(logits, n);
    }
    for (const w of writers) w.close();
  } catch (e) {
    for (const w of writers) w.abort();
    throw e;
  }
  if (queries) {
    // channel c -> the c-th asked class id (0 stays background)
    const lut = [0, ...queries.ids];
    const ids: Uint8Array | Uint16Array = Math.max(...lut) < 256 ? new Uint8Array(tensorClasses.length) : new Uint16Array(tensorClasses.length);
    for (let v = 0; v < ids.length; v++) ids[v] = lut[tensorClasses[v]];
    tensorClasses = ids;
  }
  const classes = kji ? tensorClasses : fromIjk(tensorClasses, work.dims);
  const onWork: LabelVolume = { dims: work.dims, affine: work.affine, data: classes };
  return prep.toImageGrid(onWork);
}
