/**
 * Validation of the card fields only a promptable model has (`prompt`, `cropSize`, and a `spacing` that must be
 * set), reporting each problem with its key path like the rest of loadCard.ts.
 */
import type { PromptInputs } from './modelCard';
import { isObject, show } from './jsonChecks';
import { checkPreviousMask } from './checkDecoder';

const PROMPT_KEYS = ['points', 'pointLabels', 'box', 'channels', 'radiusMm', 'previousMask'];
const CHANNELS = ['positive', 'negative', 'box'] as const;

/**
 * Checks `prompt` and `cropSize` of a card whose kind is "promptable" (pushes to `errors`/`warnings`), and that
 * `spacing` is not null (the crop is resampled to it). Returns the typed fields, or undefined where invalid.
 */
export function checkPromptable(raw: Record<string, unknown>, errors: string[], warnings: string[], name: string): { prompt?: PromptInputs; cropSize?: [number, number, number] } {
  let cropSize: [number, number, number] | undefined;
  const c = raw.cropSize;
  if (Array.isArray(c) && c.length === 3 && c.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0)) cropSize = [c[0], c[1], c[2]];
  else errors.push(`cropSize must be [a, b, c] positive integers (voxels of the crop, in the tensor's spatial order) for a promptable model (got ${show(c)})`);
  if (raw.spacing === null) errors.push('spacing must be set for a promptable model: the crop around the prompt is resampled to it (SAM-Med3D: [1.5, 1.5, 1.5])');
  if (raw.patchSize !== undefined && raw.patchSize !== null) warnings.push(`${name}: patchSize is ignored for a promptable model (cropSize sets the input size)`);

  const p = raw.prompt;
  if (!isObject(p)) {
    errors.push(`prompt must be an object naming how prompts are fed: {"points": ..., "pointLabels": ..., "box": ...} or {"channels": ["positive", "negative", "box"]} (got ${show(p)})`);
    return { cropSize };
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
    if (Array.isArray(p.channels) && p.channels.length > 0 && p.channels.every((x) => (CHANNELS as readonly unknown[]).includes(x)) && new Set(p.channels).size === p.channels.length) {
      prompt.channels = p.channels as PromptInputs['channels'];
    } else {
      errors.push(`prompt.channels must be a non-empty list of distinct "positive", "negative", "box" (got ${show(p.channels)})`);
    }
  }
  if (p.radiusMm !== undefined) {
    if (typeof p.radiusMm === 'number' && Number.isFinite(p.radiusMm) && p.radiusMm > 0) prompt.radiusMm = p.radiusMm;
    else errors.push(`prompt.radiusMm must be a positive number of mm (got ${show(p.radiusMm)})`);
  }
  if (p.previousMask !== undefined) prompt.previousMask = checkPreviousMask(p.previousMask, errors, warnings, name);
  const tensors = p.points !== undefined || p.box !== undefined;
  if (errors.length === before) {
    if (tensors && p.channels !== undefined) errors.push('prompt: give tensor inputs (points/pointLabels/box) or dense channels, not both');
    else if (!tensors && p.channels === undefined) errors.push('prompt must name at least one of points (+ pointLabels), box or channels');
  }
  return { prompt, cropSize };
}
