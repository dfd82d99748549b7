/**
 * The decoder graph of an encoder-decoder card (docs/foundation-models.md, section 1), opened next to the
 * encoder's session with the same options, and both graphs' tensor names checked against the card before any
 * image is read: the decoder is fed the encoder's `decoder.embeddings` and the card's prompt tensors, nothing
 * else, so each of its inputs must be one of those and each of those one of its inputs.
 */
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from './card/modelCard';
import { decoderPath } from './card/checkDecoder';
import { ModelError, sessionOptions, type SessionOptions } from './session';

export interface DecoderSession {
  session: ort.InferenceSession;
  /** Absolute path of the decoder's .onnx. */
  path: string;
}

/**
 * Opens `card.decoder.file` (relative to `cardPath`, the card's file or the ONNX file whose metadata holds it)
 * and checks it and the encoder against the card (checkEncoderDecoder). The caller owns both sessions.
 */
export async function openDecoder(encoder: ort.InferenceSession, encoderPath: string, card: ModelCard, cardPath: string, opts: SessionOptions = {}): Promise<DecoderSession> {
  if (!card.decoder) throw new Error('openDecoder: the card has no decoder');
  const file = decoderPath(cardPath, card.decoder.file);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, sessionOptions(opts));
  } catch (e) {
    throw new ModelError(file, `cannot load the decoder ONNX model named by ${path.basename(cardPath)} decoder.file (${(e as Error).message})`);
  }
  try {
    checkEncoderDecoder(encoder, session, card, cardPath, encoderPath, file);
  } catch (e) {
    await session.release();
    throw e;
  }
  return { session, path: file };
}

const list = (names: readonly string[]) => (names.length ? names.map((n) => `"${n}"`).join(', ') : 'none');
const fixedShape = (m: ort.InferenceSession.ValueMetadata | undefined): number[] | null =>
  m && m.isTensor && m.shape.every((d) => typeof d === 'number' && d > 0) ? (m.shape as number[]) : null;

/**
 * Every problem of an encoder + decoder pair against its card, thrown at once as a ModelError naming the card
 * file (the problems are the card's keys): embeddings that are not encoder outputs, encoder inputs other than the
 * image, card prompt tensors the decoder lacks, decoder inputs the card feeds nothing, outputs.logits missing
 * from the decoder, and fixed shapes that contradict cropSize, logits.size or the previous mask's form.
 */
export function checkEncoderDecoder(encoder: ort.InferenceSession, decoder: ort.InferenceSession, card: ModelCard, cardPath: string, encoderPath: string, decoderFile: string): void {
  const enc = path.basename(encoderPath);
  const dec = path.basename(decoderFile);
  const problems: string[] = [];
  const embeddings = card.decoder?.embeddings ?? [];
  for (const e of embeddings) {
    if (!encoder.outputNames.includes(e)) problems.push(`decoder.embeddings names "${e}", which is not an output of the encoder ${enc} (its outputs: ${list(encoder.outputNames)})`);
  }
  const extra = encoder.inputNames.filter((n) => n !== card.inputs.image);
  if (extra.length) problems.push(`the encoder ${enc} has inputs ${list(extra)} besides inputs.image "${card.inputs.image}": with a decoder, the encoder is fed the image only (prompts go to the decoder)`);

  const p = card.prompt ?? {};
  const fed: Array<[string, string]> = embeddings.map((e) => [`decoder.embeddings`, e]);
  for (const k of ['points', 'pointLabels', 'box'] as const) if (p[k]) fed.push([`prompt.${k}`, p[k]!]);
  if (p.previousMask) fed.push(['prompt.previousMask.input', p.previousMask.input]);
  if (p.text) fed.push(['prompt.text.input', p.text.input]);
  for (const [key, name] of fed) {
    if (!decoder.inputNames.includes(name)) problems.push(`${key} is "${name}" but the decoder ${dec}'s inputs are ${list(decoder.inputNames)}`);
  }
  for (const name of decoder.inputNames) {
    if (!fed.some(([, n]) => n === name)) problems.push(`the decoder ${dec} has input "${name}", which the card feeds nothing: name it in decoder.embeddings or prompt (points, pointLabels, box, previousMask.input)`);
  }
  if (!decoder.outputNames.includes(card.outputs.logits)) problems.push(`outputs.logits is "${card.outputs.logits}" but the decoder ${dec}'s outputs are ${list(decoder.outputNames)}`);

  // fixed shapes, where the graphs declare them, against what the card makes the engine feed and expect
  const crop = card.cropSize;
  const image = fixedShape(encoder.inputMetadata?.find((m) => m.name === card.inputs.image));
  if (image && crop && (image.length !== 5 || image.slice(2).some((d, a) => d !== crop[a]))) {
    problems.push(`cropSize [${crop.join(', ')}] does not fit the encoder ${enc}'s input "${card.inputs.image}" of fixed shape [${image.join(', ')}]`);
  }
  const size = card.logits?.size ?? crop;
  const logits = fixedShape(decoder.outputMetadata?.find((m) => m.name === card.outputs.logits));
  if (logits && size && (logits.length !== 5 || logits.slice(2).some((d, a) => d !== size[a]))) {
    problems.push(`${card.logits?.size ? 'logits.size' : 'cropSize (no logits.size given)'} [${size.join(', ')}] does not fit the decoder ${dec}'s output "${card.outputs.logits}" of fixed shape [${logits.join(', ')}]`);
  }
  if (p.previousMask) {
    const want = p.previousMask.form === 'logits' ? card.logits?.size : crop;
    const got = fixedShape(decoder.inputMetadata?.find((m) => m.name === p.previousMask!.input));
    if (want && got && (got.length !== 5 || got[1] !== 1 || got.slice(2).some((d, a) => d !== want[a]))) {
      problems.push(`prompt.previousMask: form "${p.previousMask.form}" feeds [1, 1, ${want.join(', ')}] (${p.previousMask.form === 'logits' ? 'logits.size' : 'cropSize'}), but the decoder ${dec}'s input "${p.previousMask.input}" has fixed shape [${got.join(', ')}]`);
    }
  }
  if (problems.length) throw new ModelError(cardPath, problems.length === 1 ? problems[0] : `the encoder and decoder do not fit the card:\n${problems.map((s) => `  ${s}`).join('\n')}`);
}
