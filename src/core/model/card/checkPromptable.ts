/**
 * Validation of the card fields only a promptable model has (`prompt`, `cropSize`), reporting each problem with
 * its key path like the rest of loadCard.ts. `spacing: null` is allowed: the crop is then a block of the image's
 * own voxels (nnInteractive, docs/foundation-models.md section 2).
 */
import type { PromptChannel, PromptInputs } from './modelCard';
import { isObject, show } from './jsonChecks';
import { checkPreviousMask } from './checkDecoder';
import { checkTextPrompt } from './checkTextPrompt';

const PROMPT_KEYS = ['points', 'pointLabels', 'box', 'channels', 'radiusMm', 'radiusVoxels', 'interactionDecay', 'text', 'previousMask'];
const CHANNELS: readonly PromptChannel[] = ['positive', 'negative', 'box', 'box-negative', 'previous', 'empty'];
/** Kinds that stand for an interaction no protocol simulates: they may repeat (nnInteractive has two scribble channels). */
const REPEATABLE: readonly PromptChannel[] = ['empty'];

/**
 * Checks `prompt` and `cropSize` of a card whose kind is "promptable" (pushes to `errors`/`warnings`). Returns
 * the typed fields, or undefined where invalid.
 */
export function checkPromptable(raw: Record<string, unknown>, errors: string[], warnings: string[], name: string): { prompt?: PromptInputs; cropSize?: [number, number, number]; cropNormalization?: 'crop' | 'image' } {
  let cropSize: [number, number, number] | undefined;
  const c = raw.cropSize;
  if (Array.isArray(c) && c.length === 3 && c.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0)) cropSize = [c[0], c[1], c[2]];
  else errors.push(`cropSize must be [a, b, c] positive integers (voxels of the crop, in the tensor's spatial order) for a promptable model (got ${show(c)})`);
  if (raw.patchSize !== undefined && raw.patchSize !== null) warnings.push(`${name}: patchSize is ignored for a promptable model (cropSize sets the input size)`);

  const cn = raw.cropNormalization;
  if (cn !== undefined && cn !== 'crop' && cn !== 'image') errors.push(`cropNormalization must be "crop" (statistics of the crop) or "image" (of the whole image, nnInteractive) (got ${show(cn)})`);
  const cropNormalization = cn === 'crop' || cn === 'image' ? cn : undefined;
  const p = raw.prompt;
  if (!isObject(p)) {
    errors.push(`prompt must be an object naming how prompts are fed: {"points": ..., "pointLabels": ..., "box": ...} or {"channels": ["positive", "negative", "box"]} (got ${show(p)})`);
    return { cropSize, cropNormalization };
  }
  for (const k of Object.keys(p)) if (!PROMPT_KEYS.includes(k) && !k.startsWith('$')) warnings.push(`${name}: unknown key prompt.${k} (ignored)`);
  const prompt: PromptInputs = {};
  const before = errors.length;
  for (const k of ['points', 'pointLabels', 'box'] as const) {
    if (p[k] === undefined) continue;
    if (typeof p[k] === 'string' && p[k] !== '') prompt[k] = p[k] as string;
    else errors.push(`prompt.${k} must be a non-empty string naming the model's input tensor (got ${show(p[k])})`);
  }
  if ((p.points === undefined) !== (p.pointLabels === undefined)) errors.push('prompt.points and prompt.pointLabels go together: give both or neither');
  if (p.channels !== undefined) {
    const list = Array.isArray(p.channels) ? p.channels : [];
    const unknown = list.filter((x) => !(CHANNELS as readonly unknown[]).includes(x));
    const repeated = list.filter((x, i) => !REPEATABLE.includes(x as PromptChannel) && list.indexOf(x) !== i);
    if (list.length > 0 && unknown.length === 0 && repeated.length === 0) {
      prompt.channels = list as PromptChannel[];
    } else {
      const why = !Array.isArray(p.channels) || list.length === 0 ? '' : unknown.length ? `: unknown channel ${unknown.map((x) => show(x)).join(', ')}` : `: ${repeated.map((x) => show(x)).join(', ')} given twice (only "empty" may repeat)`;
      errors.push(`prompt.channels must be a non-empty list of ${CHANNELS.map((c) => `"${c}"`).join(', ')}${why} (got ${show(p.channels)})`);
    }
  }
  if (p.radiusMm !== undefined) {
    if (typeof p.radiusMm === 'number' && Number.isFinite(p.radiusMm) && p.radiusMm > 0) prompt.radiusMm = p.radiusMm;
    else errors.push(`prompt.radiusMm must be a positive number of mm (got ${show(p.radiusMm)})`);
  }
  if (p.previousMask !== undefined) prompt.previousMask = checkPreviousMask(p.previousMask, errors, warnings, name);
  if (p.radiusVoxels !== undefined) {
    if (typeof p.radiusVoxels === 'number' && Number.isFinite(p.radiusVoxels) && p.radiusVoxels > 0) prompt.radiusVoxels = p.radiusVoxels;
    else errors.push(`prompt.radiusVoxels must be a positive number of crop voxels (got ${show(p.radiusVoxels)})`);
    if (p.radiusMm !== undefined) errors.push('prompt: give radiusMm or radiusVoxels, not both');
  }
  if (p.interactionDecay !== undefined) {
    if (typeof p.interactionDecay === 'number' && p.interactionDecay > 0 && p.interactionDecay <= 1) prompt.interactionDecay = p.interactionDecay;
    else errors.push(`prompt.interactionDecay must be a number in (0, 1] (nnInteractive's interaction_decay; got ${show(p.interactionDecay)})`);
  }
  if (p.text !== undefined) {
    const text = checkTextPrompt(p.text, 'prompt.text', errors, warnings, name);
    if (text) prompt.text = text;
  }
  if (p.channels === undefined && (p.radiusVoxels !== undefined || p.interactionDecay !== undefined)) warnings.push(`${name}: prompt.radiusVoxels and prompt.interactionDecay shape dense channels; without prompt.channels they are ignored`);
  const tensors = p.points !== undefined || p.box !== undefined;
  if (errors.length === before) {
    if (tensors && p.channels !== undefined) errors.push('prompt: give tensor inputs (points/pointLabels/box) or dense channels, not both');
    else if (!tensors && p.channels === undefined && p.text === undefined) errors.push('prompt must name at least one of points (+ pointLabels), box, channels or text');
  }
  return { prompt, cropSize, cropNormalization };
}
