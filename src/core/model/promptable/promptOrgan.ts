/**
 * One click (or one prompt) for one organ, whichever graphs the card has: an encoder-decoder card
 * (card.decoder) encodes the crop once and decodes per click (encoderDecoder.ts); a single-graph card runs its
 * one graph per click on the crop and the prompt (predictPromptedOrgan.ts). `state` is the organ's, created once
 * (newOrganPromptState) and passed to each of its clicks: it fixes the crop, carries the previous output and
 * counts the graph runs.
 */
import type { Grid } from '../../geometry/affine';
import type { ImageVolume } from '../../geometry/volume';
import type { Modality } from '../../dataset/organs';
import type { LoadedModel } from '../predict';
import { predictEncoderDecoderOrgan } from './encoderDecoder';
import { predictPromptedOrgan, type OrganPrompt } from './predictPromptedOrgan';
import type { OrganPromptState } from './promptState';

/** The organ's 0/1 mask on `onto` after this prompt (all clicks so far). */
export function promptOrgan(model: LoadedModel, image: ImageVolume, modality: Modality | null, prompt: OrganPrompt, state: OrganPromptState, onto: Grid = image): Promise<Uint8Array> {
  const { decoder } = model;
  if (decoder) return predictEncoderDecoderOrgan({ card: model.card, session: model.session, path: model.path, decoder }, image, modality, prompt, state, onto);
  return predictPromptedOrgan(model.session, model.card, model.path, image, modality, prompt, onto, state);
}
