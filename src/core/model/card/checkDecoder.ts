/**
 * Validation of the encoder-decoder card fields (docs/foundation-models.md, section 1): `decoder` (a second graph
 * run per prompt, fed the encoder's embeddings), `logits` (low-res output size, its resize, the activation) and
 * `prompt.previousMask` (the previous output fed back), each problem with its key path like loadCard.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DecoderGraph, LogitsSpec, PreviousMaskInput, PromptInputs } from './modelCard';
import { isObject, isTriple, show, warnUnknownKeys } from './jsonChecks';

/** `prompt.previousMask`: {"input": "<decoder input>", "form": "logits" | "binary"}. */
export function checkPreviousMask(v: unknown, errors: string[], warnings: string[], name: string): PreviousMaskInput | undefined {
  const shape = 'prompt.previousMask must be {"input": "<tensor name>", "form": "logits" | "binary"}';
  if (!isObject(v)) {
    errors.push(`${shape} (got ${show(v)})`);
    return undefined;
  }
  warnUnknownKeys(v, ['input', 'form'], 'prompt.previousMask.', name, warnings);
  const before = errors.length;
  if (typeof v.input !== 'string' || v.input === '') errors.push(`prompt.previousMask.input must be a non-empty string naming the input the previous output is fed to (got ${show(v.input)})`);
  if (v.form !== 'logits' && v.form !== 'binary') errors.push(`prompt.previousMask.form must be "logits" (the previous raw logits at logits.size) or "binary" (the previous 0/1 mask on the crop) (got ${show(v.form)})`);
  return errors.length === before ? { input: v.input as string, form: v.form as PreviousMaskInput['form'] } : undefined;
}

/** `logits`: {"size": [a, b, c], "upsample": "trilinear" | "nearest", "activation": "sigmoid" | "softmax"}, all optional. */
function checkLogits(v: unknown, errors: string[], warnings: string[], name: string): LogitsSpec | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) {
    errors.push(`logits must be an object {"size": [a, b, c], "upsample": "trilinear" | "nearest", "activation": "sigmoid" | "softmax"} (got ${show(v)})`);
    return undefined;
  }
  warnUnknownKeys(v, ['size', 'upsample', 'activation'], 'logits.', name, warnings);
  const spec: LogitsSpec = {};
  if (v.size !== undefined) {
    if (isTriple(v.size, true)) spec.size = [v.size[0], v.size[1], v.size[2]];
    else errors.push(`logits.size must be [a, b, c] positive integers (the output's spatial size, tensor order) (got ${show(v.size)})`);
  }
  if (v.upsample !== undefined) {
    if (v.upsample === 'trilinear' || v.upsample === 'nearest') spec.upsample = v.upsample;
    else errors.push(`logits.upsample must be "trilinear" (PyTorch F.interpolate, align_corners=False) or "nearest" (got ${show(v.upsample)})`);
    if (v.size === undefined) warnings.push(`${name}: logits.upsample is ignored without logits.size (the output is taken at the input's size)`);
  }
  if (v.activation !== undefined) {
    if (v.activation === 'sigmoid' || v.activation === 'softmax') spec.activation = v.activation;
    else errors.push(`logits.activation must be "sigmoid" or "softmax" (got ${show(v.activation)})`);
  }
  return spec;
}

/** `decoder`: {"file": "<path relative to the card>.onnx", "embeddings": ["<encoder output>", ...]}; the file must exist. */
function checkDecoderGraph(v: unknown, file: string, errors: string[], warnings: string[], name: string): DecoderGraph | undefined {
  if (v === undefined) return undefined;
  const shape = 'decoder must be {"file": "<decoder .onnx, relative to the card>", "embeddings": ["<encoder output>", ...]}';
  if (!isObject(v)) {
    errors.push(`${shape} (got ${show(v)})`);
    return undefined;
  }
  warnUnknownKeys(v, ['file', 'embeddings'], 'decoder.', name, warnings);
  const before = errors.length;
  if (typeof v.file !== 'string' || v.file === '') errors.push(`decoder.file must be a non-empty path of the decoder's .onnx, relative to the card (got ${show(v.file)})`);
  else if (!fs.existsSync(decoderPath(file, v.file))) errors.push(`decoder.file: ${v.file} not found (looked for ${decoderPath(file, v.file)})`);
  const e = v.embeddings;
  if (!(Array.isArray(e) && e.length > 0 && e.every((x) => typeof x === 'string' && x !== '') && new Set(e).size === e.length)) {
    errors.push(`decoder.embeddings must be a non-empty list of distinct encoder output names, fed to the decoder inputs of the same names (got ${show(e)})`);
  }
  return errors.length === before ? { file: v.file as string, embeddings: [...(e as string[])] } : undefined;
}

/** The decoder's .onnx: `decoder.file` resolved against the directory of the card (or of the ONNX file carrying it). */
export function decoderPath(cardFile: string, decoderFile: string): string {
  return path.resolve(path.dirname(cardFile), decoderFile);
}

/**
 * Checks `decoder` and `logits` of a card, and how they fit with its kind and (already checked) `prompt`:
 * a decoder takes prompts as tensors (dense prompt channels would go to the encoder, which sees the image only),
 * and a previous mask of form "logits" needs `logits.size` (the zeros fed before the first click have that size).
 */
export function checkDecoderFields(raw: Record<string, unknown>, file: string, prompt: PromptInputs | undefined, errors: string[], warnings: string[], name: string): { decoder?: DecoderGraph; logits?: LogitsSpec } {
  const decoder = checkDecoderGraph(raw.decoder, file, errors, warnings, name);
  const logits = checkLogits(raw.logits, errors, warnings, name);
  if (raw.decoder !== undefined && raw.kind !== 'promptable') errors.push('decoder: only a promptable model (kind "promptable") has a decoder graph run per prompt');
  if (raw.decoder !== undefined && prompt?.channels) errors.push('decoder: with a decoder, prompts are tensor inputs of the decoder (prompt.points/pointLabels/box/previousMask); dense prompt.channels would go to the encoder, which is fed the image only');
  if (prompt?.previousMask?.form === 'logits' && !logits?.size) errors.push('prompt.previousMask.form "logits" needs logits.size: the previous logits are fed at the output\'s own size, zeros of that size before the first click');
  return { decoder, logits };
}
