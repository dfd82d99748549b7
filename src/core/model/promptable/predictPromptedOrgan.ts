/**
 * One organ from one prompt with a promptable model: a crop of `cropSize` voxels at the card's `spacing` centred
 * on the prompt, normalized as the card says, prompts fed as tensors or dense channels, logits -> a 0/1 mask,
 * pasted back (nearest neighbour, through both affines) onto the image's grid; voxels outside the crop are 0.
 */
import * as ort from 'onnxruntime-node';
import { spacingMm, worldToVoxel, type Grid, type WorldMm } from '../../geometry/affine';
import { resampleLinear, resampleNearest } from '../../geometry/resample';
import type { ImageVolume, Volume } from '../../geometry/volume';
import type { PromptBox } from '../../prompts/boxPrompt';
import type { PromptPoint } from '../../prompts/promptPoint';
import type { ModelCard } from '../card/modelCard';
import { applyPointwise, normalize, normalizer, type Pointwise } from '../preprocess/normalize';
import { normalizationFor } from '../predict';
import { axisCodes, transformBetween } from '../preprocess/orientation';
import { ModelError } from '../session';
import type { Modality } from '../../dataset/organs';
import { cropMaskFromLogits } from './lowResLogits';
import { promptChannels } from './promptChannels';
import type { OrganPromptState } from './promptState';

/**
 * What the model is told about one organ: clicks (the first one centres the crop) and/or a box, and with a card's
 * `prompt.text` the organ's text embedding row (`dim` floats, card/textEmbeddings.ts), fed as [1, dim].
 */
export interface OrganPrompt {
  points: readonly PromptPoint[];
  box?: PromptBox;
  text?: Float32Array;
  /** Where the crop is centred when not on the prompt: the card's `crop: "official"` (the ground truth's box centre). */
  centreMm?: WorldMm;
}

/**
 * The crop grid: `cropSize` (tensor spatial order, turned into i, j, k here) voxels of `spacing` mm, its centre
 * voxel ((n - 1) / 2 along each axis) at `centreMm`. Its axes are the image's own, permuted and flipped to the
 * card's `orientation` when it has one (SAM-Med3D's tio.ToCanonical, SegVol's Orientationd: RAS), so the model
 * sees the anatomy the way round it was trained on. With `spacing: null` the crop is a block of the image's own
 * voxels, no resampling (nnInteractive runs at native resolution): crop voxel q along axis t is image voxel
 * round(c) + s (q - floor(n / 2)) along the image axis that t takes, s = -1 where that axis is flipped, c =
 * `centreMm` as an image voxel index.
 */
export function cropGrid(image: Grid, card: ModelCard, centreMm: WorldMm): Grid {
  if (!card.cropSize) throw new Error('cropGrid: not a promptable card (cropSize is required)');
  const dims = (card.spatialOrder === 'kji' ? [card.cropSize[2], card.cropSize[1], card.cropSize[0]] : card.cropSize.slice()) as [number, number, number];
  const a = image.affine;
  const { perm, flip } = card.orientation ? transformBetween(axisCodes(a), card.orientation) : { perm: [0, 1, 2], flip: [false, false, false] };
  const sign = flip.map((f) => (f ? -1 : 1));
  const affine = a.slice();
  if (!card.spacing) {
    const c = worldToVoxel(a, centreMm).map(Math.round);
    // the image voxel of crop voxel (0, 0, 0), and the crop's columns: the image's, permuted and signed
    const o = c.slice();
    for (let t = 0; t < 3; t++) o[perm[t]] = c[perm[t]] - sign[t] * Math.floor(dims[t] / 2);
    for (let r = 0; r < 3; r++) {
      for (let t = 0; t < 3; t++) affine[4 * r + t] = sign[t] * a[4 * r + perm[t]];
      affine[4 * r + 3] = a[4 * r] * o[0] + a[4 * r + 1] * o[1] + a[4 * r + 2] * o[2] + a[4 * r + 3];
    }
    return { dims, affine };
  }
  for (let t = 0; t < 3; t++) {
    const c = perm[t];
    const len = Math.hypot(a[c], a[4 + c], a[8 + c]);
    for (let r = 0; r < 3; r++) affine[4 * r + t] = ((sign[t] * a[4 * r + c]) / len) * card.spacing[t];
  }
  for (let r = 0; r < 3; r++) {
    affine[4 * r + 3] = centreMm[r] - (affine[4 * r] * (dims[0] - 1) + affine[4 * r + 1] * (dims[1] - 1) + affine[4 * r + 2] * (dims[2] - 1)) / 2;
  }
  return { dims, affine };
}

/**
 * Where a prompt centres its crop: `centreMm` when given (the official crop), else the first click, else the box's
 * centre (mean of its corner voxels in mm).
 */
export function promptCentreMm(prompt: OrganPrompt): WorldMm {
  if (prompt.centreMm) return prompt.centreMm;
  if (prompt.points.length) return prompt.points[0].mm;
  if (prompt.box) return [0, 1, 2].map((a) => (prompt.box!.minMm[a] + prompt.box!.maxMm[a]) / 2) as unknown as WorldMm;
  throw new Error('a prompt needs at least one point or a box');
}

/** Whole-image normalizers (card `cropNormalization: "image"`), per image and normalization: one pass per image, not per click. */
const imageNormalizers = new WeakMap<Float32Array, Map<string, Pointwise>>();

/**
 * The normalized crop. "crop" (default, SAM-Med3D): statistics of the crop itself. "image" (nnInteractive, which
 * normalizes the whole image before any patch is cut): statistics of the whole image, applied to the crop; crop
 * voxels outside the image are 0 after normalization (nnInteractive pads its normalized image with 0).
 */
export function normalizedCrop(image: ImageVolume, grid: Grid, card: ModelCard, modality: Modality | null): Float32Array {
  const norm = normalizationFor(card, modality);
  if (card.cropNormalization !== 'image') return normalize(resampleLinear(image, grid).data, norm);
  let byNorm = imageNormalizers.get(image.data as Float32Array);
  if (!byNorm) imageNormalizers.set(image.data as Float32Array, (byNorm = new Map()));
  const key = JSON.stringify(norm);
  let f = byNorm.get(key);
  if (!f) byNorm.set(key, (f = normalizer(image.data as Float32Array, norm)));
  const out = applyPointwise(resampleLinear(image, grid, NaN).data, f);
  for (let v = 0; v < out.length; v++) if (Number.isNaN(out[v])) out[v] = 0;
  return out;
}

/** (i, j, k) -> tensor spatial order. */
export const toTensorOrder = (card: ModelCard, v: readonly number[]): number[] => (card.spatialOrder === 'kji' ? [v[2], v[1], v[0]] : [v[0], v[1], v[2]]);

/** An i-fastest volume as the flat data of a tensor in `spatialOrder` (last dim fastest). */
export function toTensorLayout(data: Float32Array, dims: readonly number[], card: ModelCard): Float32Array {
  if (card.spatialOrder === 'kji') return data;
  const [n0, n1, n2] = dims;
  const out = new Float32Array(data.length);
  for (let k = 0; k < n2; k++) for (let j = 0; j < n1; j++) for (let i = 0; i < n0; i++) out[k + n2 * (j + n1 * i)] = data[i + n0 * (j + n1 * k)];
  return out;
}

/**
 * Runs the model on one organ's prompt and returns that organ's 0/1 mask on `onto` (default: `image`'s grid;
 * evaluation passes the labels' grid, which a PET image need not share). Logits with one
 * channel: foreground where logit > 0 (sigmoid > 0.5); with C >= 2 channels: where channel 1 is the argmax
 * (first channel wins ties, as numpy's argmax); with the card's `logits` (lowResLogits.ts) resized first and
 * activated as it says. `state` (one organ's, across its clicks): the crop is the one of its first click, the
 * previous output is fed back (`prompt.previousMask`, or the "previous" channel) and kept, the graph run is
 * counted (runs.encoder: this one graph sees the image each time).
 */
export async function predictPromptedOrgan(session: ort.InferenceSession, card: ModelCard, onnxPath: string, image: ImageVolume, modality: Modality | null, prompt: OrganPrompt, onto: Grid = image, state?: OrganPromptState): Promise<Uint8Array> {
  if (card.kind !== 'promptable' || !card.prompt) throw new ModelError(onnxPath, 'not a promptable model card');
  const grid = state?.crop ?? cropGrid(image, card, promptCentreMm(prompt));
  const norm = normalizedCrop(image, grid, card, modality);
  const spatial = toTensorOrder(card, grid.dims);
  const n = norm.length;
  const channels: Float32Array[] = [toTensorLayout(norm, grid.dims, card)];
  const previousMask = state?.previousMask?.length === n ? state.previousMask : undefined;
  for (const data of promptChannels(card.prompt, grid, card.spacing ?? spacingMm(grid.affine), { points: prompt.points, box: prompt.box, previousMask })) {
    channels.push(toTensorLayout(data, grid.dims, card));
  }
  const input = new Float32Array(n * channels.length);
  channels.forEach((c, i) => input.set(c, i * n));
  const feeds: Record<string, ort.Tensor> = { [card.inputs.image]: new ort.Tensor('float32', input, [1, channels.length, ...spatial]), ...tensorPromptFeeds(card, grid, prompt, onnxPath, state) };
  for (const name of Object.keys(feeds)) {
    if (!session.inputNames.includes(name)) throw new ModelError(onnxPath, `card names input "${name}" but the model's inputs are ${session.inputNames.map((s) => `"${s}"`).join(', ')}`);
  }
  const out = (await session.run(feeds))[card.outputs.logits];
  const mask = cropMaskFromLogits(out, card, grid, onnxPath);
  if (state) {
    state.crop = grid;
    state.runs.encoder++;
    state.previousLogits = out;
    state.previousMask = mask;
  }
  const cropMask: Volume<Uint8Array> = { dims: grid.dims, affine: grid.affine, data: mask };
  return resampleNearest(cropMask, onto).data;
}

/**
 * The prompt's tensor inputs named by the card (`prompt.points` + `pointLabels` [1, N, 3] + [1, N], `box` [1, 6],
 * `previousMask` [1, 1, ...]), in crop voxel coordinates of `grid`, tensor order. The previous mask comes from
 * `state` (zeros before the first click): form "logits" the previous raw output at `logits.size`, form
 * "binary" the previous 0/1 crop mask.
 */
export function tensorPromptFeeds(card: ModelCard, grid: Grid, prompt: OrganPrompt, onnxPath: string, state?: OrganPromptState): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const p = card.prompt ?? {};
  if (p.points) {
    if (!prompt.points.length) throw new ModelError(onnxPath, `input "${p.points}" needs at least one click; this prompt has none (use a point prompt or clicks)`);
    const xyz = new Float32Array(prompt.points.length * 3);
    const labels = new Float32Array(prompt.points.length);
    prompt.points.forEach((pt, i) => {
      xyz.set(toTensorOrder(card, worldToVoxel(grid.affine, pt.mm)), 3 * i);
      labels[i] = pt.label;
    });
    feeds[p.points] = new ort.Tensor('float32', xyz, [1, prompt.points.length, 3]);
    feeds[p.pointLabels!] = new ort.Tensor('float32', labels, [1, prompt.points.length]);
  }
  if (p.box) {
    if (!prompt.box) throw new ModelError(onnxPath, `input "${p.box}" needs a box; use --prompt box`);
    const a = toTensorOrder(card, worldToVoxel(grid.affine, prompt.box.minMm));
    const b = toTensorOrder(card, worldToVoxel(grid.affine, prompt.box.maxMm));
    feeds[p.box] = new ort.Tensor('float32', Float32Array.from([0, 1, 2].map((x) => Math.min(a[x], b[x])).concat([0, 1, 2].map((x) => Math.max(a[x], b[x])))), [1, 6]);
  }
  if (p.text) {
    if (!prompt.text) throw new ModelError(onnxPath, `input "${p.text.input}" needs the organ's text embedding row; none was given`);
    if (prompt.text.length !== p.text.dim) throw new ModelError(onnxPath, `text embedding row has ${prompt.text.length} values; prompt.text.dim is ${p.text.dim}`);
    feeds[p.text.input] = new ort.Tensor('float32', prompt.text, [1, p.text.dim]);
  }
  if (p.previousMask) {
    const crop = toTensorOrder(card, grid.dims);
    if (p.previousMask.form === 'logits') {
      const size = card.logits?.size ?? crop;
      const prev = state?.previousLogits;
      if (prev && prev.dims[1] !== 1) throw new ModelError(onnxPath, `prompt.previousMask form "logits" feeds the previous output back as [1, 1, ...], but output "${card.outputs.logits}" has ${prev.dims[1]} channels`);
      feeds[p.previousMask.input] = prev ?? new ort.Tensor('float32', new Float32Array(size[0] * size[1] * size[2]), [1, 1, ...size]);
    } else {
      const prev = state?.previousMask ? Float32Array.from(state.previousMask) : new Float32Array(grid.dims[0] * grid.dims[1] * grid.dims[2]);
      feeds[p.previousMask.input] = new ort.Tensor('float32', toTensorLayout(prev, grid.dims, card), [1, 1, ...crop]);
    }
  }
  return feeds;
}
