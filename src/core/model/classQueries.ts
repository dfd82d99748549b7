/**
 * Semantic models asked for their classes (docs/foundation-models.md sections 3 and 4): every window is fed, besides
 * the image, the asked classes as one constant tensor:
 *   classPrompt (VISTA3D)  their ids, [N, 1] int64 or int32 (VISTA3D's class_vector)
 *   prompt.text (SAT)      their text embedding rows, [N, dim] float32, in the same order
 * and returns one logit per asked class: [1, N, patch...] (VISTA3D with transpose=True, as MONAI's sliding window
 * calls it) or [N, 1, patch...] (VISTA3D's forward as written: class head output [N, B, ...]); with one window
 * per run both are the same values in the same order.
 *
 * The window's output is handed to the sliding window as [1 + N, patch...] with a constant background channel
 * in front (channel 0), blended with MONAI's gaussian weights (slidingWindow.ts), then the argmax over the
 * channels (first on ties) labels the voxel; channel c >= 1 stands for the asked class ids[c - 1]:
 *   logits.blend "logits" (default; VISTA3D's inferer blends the network's raw output): channels [0, l1, ..., lN].
 *     The argmax is VISTA3D's VistaPostTransformd: the class of the largest blended logit when it is > 0
 *     (sigmoid > 0.5), else background. The background channel blends to exactly 0.
 *   logits.blend "probabilities" (SAT's inference_engine.py: sigmoid per window, gaussian-weighted average):
 *     channels [0.5, s(l1), ..., s(lN)], s the sigmoid (float64, stored float32): the class of the largest blended
 *     probability when it is > 0.5, else background (the background blends to exactly 0.5: halving is exact).
 *     SAT itself thresholds each class on its own, so its masks may overlap; here a voxel has one class, and where
 *     two classes' probabilities both saturate to 1 the one asked first wins.
 */
import * as ort from 'onnxruntime-node';
import type { Modality } from '../dataset/organs';
import type { ModelCard } from './card/modelCard';
import { missingRowMessage, textRowFor, type TextTable } from './card/textEmbeddings';

/** The asked classes of one image and the constant feeds that tell the network. */
export interface ClassQueries {
  /** Model class ids, in output channel order (channel c + 1 is ids[c]). */
  ids: number[];
  feeds: Record<string, ort.Tensor>;
}

/** True for a semantic card whose windows are told which classes to score. */
export function isQueried(card: ModelCard): boolean {
  return card.kind === 'semantic' && (card.classPrompt !== undefined || card.prompt?.text !== undefined);
}

/** The card's classes (keys of `labels`) in numeric order. */
export function cardClasses(card: ModelCard): number[] {
  return Object.keys(card.labels).map(Number).sort((a, b) => a - b);
}

/**
 * Which of `ids` can be asked for on an image of `modality`: every one with class ids; with text queries those
 * with a row for their name (card `labels`) and modality, the others in `missing` with the reason.
 */
export function askable(card: ModelCard, text: TextTable | undefined, ids: readonly number[], modality: Modality | null): { ids: number[]; missing: Array<{ id: number; organ: string; message: string }> } {
  if (!card.prompt?.text || card.kind !== 'semantic') return { ids: [...ids], missing: [] };
  if (!text) throw new Error('askable: the card has prompt.text but no embeddings were loaded');
  const ok: number[] = [];
  const missing: Array<{ id: number; organ: string; message: string }> = [];
  for (const id of ids) {
    const organ = card.labels[String(id)];
    if (organ !== undefined && textRowFor(text, organ, modality)) ok.push(id);
    else missing.push({ id, organ: organ ?? String(id), message: missingRowMessage(text, organ ?? `class ${id}`, modality) });
  }
  return { ids: ok, missing };
}

/** The feeds for `ids` (all askable: see askable()). */
export function classQueries(card: ModelCard, text: TextTable | undefined, ids: readonly number[], modality: Modality | null): ClassQueries {
  const n = ids.length;
  if (card.classPrompt) {
    const { input, dtype } = card.classPrompt;
    const data = dtype === 'int64' ? BigInt64Array.from(ids.map(BigInt)) : Int32Array.from(ids);
    return { ids: [...ids], feeds: { [input]: new ort.Tensor(dtype, data, [n, 1]) } };
  }
  const spec = card.prompt?.text;
  if (!spec || !text) throw new Error('classQueries: not a queried card');
  const data = new Float32Array(n * spec.dim);
  ids.forEach((id, i) => {
    const row = textRowFor(text, card.labels[String(id)] ?? '', modality);
    if (!row) throw new Error(missingRowMessage(text, card.labels[String(id)] ?? `class ${id}`, modality));
    data.set(row, i * spec.dim);
  });
  return { ids: [...ids], feeds: { [spec.input]: new ort.Tensor('float32', data, [n, spec.dim]) } };
}

/**
 * One window's output [1, N, ...] or [N, 1, ...] as [1 + N, ...] logits, background 0 first; null when the shape
 * is neither (the caller names the file and shapes).
 */
export function withBackground(values: Float32Array, dims: readonly number[], n: number, nPatch: number, blend: 'logits' | 'probabilities' = 'logits'): Float32Array | null {
  const lead = dims.length === 5 && ((dims[0] === 1 && dims[1] === n) || (dims[0] === n && dims[1] === 1));
  if (!lead || values.length !== n * nPatch) return null;
  const out = new Float32Array((n + 1) * nPatch);
  if (blend === 'logits') {
    out.set(values, nPatch);
    return out;
  }
  out.fill(0.5, 0, nPatch);
  for (let v = 0; v < values.length; v++) out[nPatch + v] = 1 / (1 + Math.exp(-values[v]));
  return out;
}

/**
 * The prompt inputs a card names besides the image (classPrompt.input, prompt.text.input) exist, with the element
 * type the card says, before any image is read; the problems, or none.
 */
export function promptInputProblems(session: ort.InferenceSession, card: ModelCard): string[] {
  const want: Array<{ key: string; name: string; type: string }> = [];
  if (card.classPrompt) want.push({ key: 'classPrompt.input', name: card.classPrompt.input, type: card.classPrompt.dtype });
  if (card.prompt?.text) want.push({ key: 'prompt.text.input', name: card.prompt.text.input, type: 'float32' });
  const problems: string[] = [];
  for (const w of want) {
    if (!session.inputNames.includes(w.name)) {
      problems.push(`card ${w.key} is "${w.name}" but the model's inputs are ${session.inputNames.map((s) => `"${s}"`).join(', ')}`);
      continue;
    }
    const meta = session.inputMetadata?.find((m) => m.name === w.name);
    if (meta?.isTensor && meta.type !== w.type) problems.push(`input "${w.name}" is ${meta.type}; card ${w.key} feeds ${w.type}${w.key === 'classPrompt.input' ? ' (set classPrompt.dtype to the model\'s type)' : ''}`);
  }
  return problems;
}
