/**
 * One organ from one prompt with a promptable model: a crop of `cropSize` voxels at the card's `spacing` centred
 * on the prompt, normalized as the card says, prompts fed as tensors or dense channels, logits -> a 0/1 mask,
 * pasted back (nearest neighbour, through both affines) onto the image's grid; voxels outside the crop are 0.
 */
import * as ort from 'onnxruntime-node';
import { worldToVoxel, type Grid, type WorldMm } from '../../geometry/affine';
import { resampleLinear, resampleNearest } from '../../geometry/resample';
import type { ImageVolume, Volume } from '../../geometry/volume';
import type { PromptBox } from '../../prompts/boxPrompt';
import type { PromptPoint } from '../../prompts/promptPoint';
import type { ModelCard } from '../card/modelCard';
import { normalize } from '../preprocess/normalize';
import { normalizationFor } from '../predict';
import { ModelError } from '../session';
import type { Modality } from '../../dataset/organs';

/** What the model is told about one organ: clicks (the first one centres the crop) and/or a box. */
export interface OrganPrompt {
  points: readonly PromptPoint[];
  box?: PromptBox;
  /** Where the crop is centred when not on the prompt: the card's `crop: "official"` (the ground truth's box centre). */
  centreMm?: WorldMm;
}

/**
 * The crop grid: `cropSize` (tensor spatial order, turned into i, j, k here) voxels of `spacing` mm, with the
 * image's own axis directions (the card's `orientation` is not applied to crops), its centre voxel
 * ((n - 1) / 2 along each axis) at `centreMm`.
 */
export function cropGrid(image: Grid, card: ModelCard, centreMm: WorldMm): Grid {
  if (!card.cropSize || !card.spacing) throw new Error('cropGrid: not a promptable card (cropSize and spacing are required)');
  const dims = (card.spatialOrder === 'kji' ? [card.cropSize[2], card.cropSize[1], card.cropSize[0]] : card.cropSize.slice()) as [number, number, number];
  const a = image.affine;
  const affine = a.slice();
  for (let c = 0; c < 3; c++) {
    const len = Math.hypot(a[c], a[4 + c], a[8 + c]);
    for (let r = 0; r < 3; r++) affine[4 * r + c] = (a[4 * r + c] / len) * card.spacing[c];
  }
  for (let r = 0; r < 3; r++) {
    affine[4 * r + 3] = centreMm[r] - (affine[4 * r] * (dims[0] - 1) + affine[4 * r + 1] * (dims[1] - 1) + affine[4 * r + 2] * (dims[2] - 1)) / 2;
  }
  return { dims, affine };
}

/** Where a prompt centres its crop: the first click, else the box's centre (mean of its corner voxels in mm). */
export function promptCentreMm(prompt: OrganPrompt): WorldMm {
  if (prompt.points.length) return prompt.points[0].mm;
  if (prompt.box) return [0, 1, 2].map((a) => (prompt.box!.minMm[a] + prompt.box!.maxMm[a]) / 2) as unknown as WorldMm;
  throw new Error('a prompt needs at least one point or a box');
}

/** (i, j, k) -> tensor spatial order. */
const toTensorOrder = (card: ModelCard, v: readonly number[]): number[] => (card.spatialOrder === 'kji' ? [v[2], v[1], v[0]] : [v[0], v[1], v[2]]);

/** An i-fastest volume as the flat data of a tensor in `spatialOrder` (last dim fastest). */
function toTensorLayout(data: Float32Array, dims: readonly number[], card: ModelCard): Float32Array {
  if (card.spatialOrder === 'kji') return data;
  const [n0, n1, n2] = dims;
  const out = new Float32Array(data.length);
  for (let k = 0; k < n2; k++) for (let j = 0; j < n1; j++) for (let i = 0; i < n0; i++) out[k + n2 * (j + n1 * i)] = data[i + n0 * (j + n1 * k)];
  return out;
}

/** Dense prompt channel: 0/1 balls of radius `radiusMm` around `points` on `grid` (i-fastest). */
function ballChannel(grid: Grid, spacing: readonly number[], points: readonly PromptPoint[], radiusMm: number): Float32Array {
  const [n0, n1, n2] = grid.dims;
  const out = new Float32Array(n0 * n1 * n2);
  for (const p of points) {
    const c = worldToVoxel(grid.affine, p.mm);
    for (let k = 0; k < n2; k++) {
      const dk = (k - c[2]) * spacing[2];
      for (let j = 0; j < n1; j++) {
        const dj = (j - c[1]) * spacing[1];
        for (let i = 0; i < n0; i++) {
          const di = (i - c[0]) * spacing[0];
          if (di * di + dj * dj + dk * dk <= radiusMm * radiusMm) out[i + n0 * (j + n1 * k)] = 1;
        }
      }
    }
  }
  return out;
}

/** Dense box channel: 1 inside the box (corner voxel centres mapped into the crop, rounded outward), else 0. */
function boxChannel(grid: Grid, box: PromptBox | undefined): Float32Array {
  const [n0, n1, n2] = grid.dims;
  const out = new Float32Array(n0 * n1 * n2);
  if (!box) return out;
  const a = worldToVoxel(grid.affine, box.minMm);
  const b = worldToVoxel(grid.affine, box.maxMm);
  const lo = [0, 1, 2].map((x) => Math.max(0, Math.floor(Math.min(a[x], b[x]))));
  const hi = [0, 1, 2].map((x) => Math.min(grid.dims[x] - 1, Math.ceil(Math.max(a[x], b[x]))));
  for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) out[i + n0 * (j + n1 * k)] = 1;
  return out;
}

/**
 * Runs the model on one organ's prompt and returns that organ's 0/1 mask on `onto` (default: `image`'s grid;
 * evaluation passes the labels' grid, which a PET image need not share). Logits with one
 * channel: foreground where logit > 0 (sigmoid > 0.5); with C >= 2 channels: where channel 1 is the argmax
 * (first channel wins ties, as numpy's argmax).
 */
export async function predictPromptedOrgan(session: ort.InferenceSession, card: ModelCard, onnxPath: string, image: ImageVolume, modality: Modality | null, prompt: OrganPrompt, onto: Grid = image): Promise<Uint8Array> {
  if (card.kind !== 'promptable' || !card.prompt || !card.spacing) throw new ModelError(onnxPath, 'not a promptable model card');
  const grid = cropGrid(image, card, prompt.centreMm ?? promptCentreMm(prompt));
  const crop = resampleLinear(image, grid);
  const norm = normalize(crop.data, normalizationFor(card, modality));
  const spatial = toTensorOrder(card, grid.dims);
  const n = norm.length;
  const channels: Float32Array[] = [toTensorLayout(norm, grid.dims, card)];
  for (const ch of card.prompt.channels ?? []) {
    const radius = card.prompt.radiusMm ?? 5;
    const data = ch === 'box' ? boxChannel(grid, prompt.box) : ballChannel(grid, card.spacing, prompt.points.filter((p) => p.label === (ch === 'positive' ? 1 : 0)), radius);
    channels.push(toTensorLayout(data, grid.dims, card));
  }
  const input = new Float32Array(n * channels.length);
  channels.forEach((c, i) => input.set(c, i * n));
  const feeds: Record<string, ort.Tensor> = { [card.inputs.image]: new ort.Tensor('float32', input, [1, channels.length, ...spatial]) };
  const p = card.prompt;
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
  for (const name of Object.keys(feeds)) {
    if (!session.inputNames.includes(name)) throw new ModelError(onnxPath, `card names input "${name}" but the model's inputs are ${session.inputNames.map((s) => `"${s}"`).join(', ')}`);
  }
  const out = (await session.run(feeds))[card.outputs.logits];
  const logits = out.data as Float32Array;
  const c = out.dims.length === 5 ? out.dims[1] : 1;
  if (logits.length !== c * n) throw new ModelError(onnxPath, `output "${card.outputs.logits}" has shape [${out.dims.join(', ')}]; expected [1, C, ${spatial.join(', ')}]`);
  // tensor layout back to i-fastest: for kji it already is; for ijk, transpose
  const maskT = new Uint8Array(n);
  for (let v = 0; v < n; v++) {
    if (c === 1) maskT[v] = logits[v] > 0 ? 1 : 0;
    else {
      let best = 0;
      for (let ch = 1; ch < c; ch++) if (logits[ch * n + v] > logits[best * n + v]) best = ch;
      maskT[v] = best === 1 ? 1 : 0;
    }
  }
  let mask = maskT;
  if (card.spatialOrder === 'ijk') {
    const [n0, n1, n2] = grid.dims;
    mask = new Uint8Array(n);
    for (let k = 0; k < n2; k++) for (let j = 0; j < n1; j++) for (let i = 0; i < n0; i++) mask[i + n0 * (j + n1 * k)] = maskT[k + n2 * (j + n1 * i)];
  }
  const cropMask: Volume<Uint8Array> = { dims: grid.dims, affine: grid.affine, data: mask };
  return resampleNearest(cropMask, onto).data;
}
