/**
 * What one organ's prompting carries from one click to the next. The crop does not move after the first click
 * (it is centred on the first click or on the card's `crop` rule), so the encoder's outputs for it can be kept
 * and the previous output fed back (card `prompt.previousMask`, channel "previous").
 */
import type * as ort from 'onnxruntime-node';
import type { Grid } from '../../geometry/affine';

export interface OrganPromptState {
  /** The crop grid chosen at the first click; later clicks reuse it. */
  crop?: Grid;
  /** Encoder outputs for this crop (card `decoder.embeddings`), by output name. */
  embeddings?: Record<string, ort.Tensor>;
  /** The previous click's raw logits as the model returned them (tensor layout, output size). */
  previousLogits?: ort.Tensor;
  /** The previous click's 0/1 mask on the crop grid, i fastest. */
  previousMask?: Uint8Array;
  /** Graph runs so far for this organ: the encoder should run once however many clicks follow. */
  runs: { encoder: number; decoder: number };
}

export function newOrganPromptState(): OrganPromptState {
  return { runs: { encoder: 0, decoder: 0 } };
}
