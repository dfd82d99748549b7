/**
 * One click of an encoder-decoder promptable model (SAM-Med3D family, SegVol; docs/foundation-models.md,
 * section 1): the card's own graph encodes the organ's crop once, its `decoder.embeddings` outputs are kept in
 * the organ's OrganPromptState, and the decoder runs per click on them, every click so far, the box if any and
 * the previous output (`prompt.previousMask`).
 */
import * as ort from 'onnxruntime-node';
import type { Grid } from '../../geometry/affine';
import { resampleLinear, resampleNearest } from '../../geometry/resample';
import type { ImageVolume, Volume } from '../../geometry/volume';
import type { Modality } from '../../dataset/organs';
import type { DecoderSession } from '../decoderSession';
import type { ModelCard } from '../card/modelCard';
import { normalize } from '../preprocess/normalize';
import { normalizationFor } from '../predict';
import { ModelError } from '../session';
import { cropMaskFromLogits } from './lowResLogits';
import { cropGrid, promptCentreMm, tensorPromptFeeds, toTensorLayout, toTensorOrder, type OrganPrompt } from './predictPromptedOrgan';
import type { OrganPromptState } from './promptState';

/** What one click needs of a loaded encoder-decoder model (LoadedModel has it). */
export interface EncoderDecoderModel {
  card: ModelCard;
  /** The encoder: the card's own graph. */
  session: ort.InferenceSession;
  path: string;
  decoder: DecoderSession;
}

/**
 * The crop's embeddings: from `state` when this organ's crop was encoded already, else the encoder is run once on
 * the crop (resampled trilinear to the card's spacing, normalized for `modality`, [1, 1, crop...] in the card's
 * spatialOrder) and its `decoder.embeddings` outputs are kept.
 */
async function embeddings(model: EncoderDecoderModel, image: ImageVolume, modality: Modality | null, grid: Grid, state: OrganPromptState): Promise<Record<string, ort.Tensor>> {
  if (state.embeddings) return state.embeddings;
  const { card } = model;
  const crop = resampleLinear(image, grid);
  const norm = normalize(crop.data, normalizationFor(card, modality));
  const input = new ort.Tensor('float32', toTensorLayout(norm, grid.dims, card), [1, 1, ...toTensorOrder(card, grid.dims)]);
  const names = card.decoder!.embeddings;
  const out = await model.session.run({ [card.inputs.image]: input }, names);
  state.runs.encoder++;
  state.embeddings = Object.fromEntries(names.map((n) => [n, out[n]]));
  return state.embeddings;
}

/**
 * Runs one click for one organ and returns its 0/1 mask on `onto`. The first call fixes the crop (centred on the
 * first click, or the box centre) and encodes it; every call runs the decoder once with all of `prompt`'s clicks
 * ([1, N, 3] crop voxel coordinates in tensor order, [1, N] labels), the box, and the previous output (zeros on
 * the first click); its logits (at `logits.size`) are resized to the crop (PyTorch trilinear, align_corners=False),
 * activated, and the mask pasted back (nearest neighbour). The raw logits and the crop mask are kept in `state`
 * for the next click.
 */
export async function predictEncoderDecoderOrgan(model: EncoderDecoderModel, image: ImageVolume, modality: Modality | null, prompt: OrganPrompt, state: OrganPromptState, onto: Grid = image): Promise<Uint8Array> {
  const { card } = model;
  if (card.kind !== 'promptable' || !card.prompt || !card.spacing || !card.decoder) throw new ModelError(model.path, 'not an encoder-decoder promptable model card');
  const grid = (state.crop ??= cropGrid(image, card, promptCentreMm(prompt)));
  const feeds = { ...(await embeddings(model, image, modality, grid, state)), ...tensorPromptFeeds(card, grid, prompt, model.decoder.path, state) };
  const out = (await model.decoder.session.run(feeds, [card.outputs.logits]))[card.outputs.logits];
  state.runs.decoder++;
  const mask = cropMaskFromLogits(out, card, grid, model.decoder.path);
  state.previousLogits = out;
  state.previousMask = mask;
  const cropMask: Volume<Uint8Array> = { dims: grid.dims, affine: grid.affine, data: mask };
  return resampleNearest(cropMask, onto).data;
}
