/**
 * Validation of a semantic card whose classes are asked for (docs/foundation-models.md sections 3 and 4): by id
 * (`classPrompt`, VISTA3D) or by a text query per class (`prompt.text`, SAT), with `logits.activation`
 * "sigmoid" (one independent logit per asked class). Problems carry their key paths like the rest of loadCard.ts.
 */
import type { ClassPrompt, LogitsSpec, PromptInputs } from './modelCard';
import { isObject, show, warnUnknownKeys } from './jsonChecks';
import { checkTextPrompt } from './checkTextPrompt';

export interface ClassQueryFields {
  classPrompt?: ClassPrompt;
  prompt?: PromptInputs;
  logits?: LogitsSpec;
}

/** `classPrompt`, `prompt` (text only) and `logits` of a card whose kind is "semantic". */
export function checkClassQueries(raw: Record<string, unknown>, errors: string[], warnings: string[], name: string): ClassQueryFields {
  const out: ClassQueryFields = {};
  const cp = raw.classPrompt;
  if (cp !== undefined) {
    if (!isObject(cp)) {
      errors.push(`classPrompt must be an object {"input": "<tensor>", "dtype": "int64" | "int32"} (got ${show(cp)})`);
    } else {
      warnUnknownKeys(cp, ['input', 'dtype'], 'classPrompt.', name, warnings);
      const okInput = typeof cp.input === 'string' && cp.input !== '';
      if (!okInput) errors.push(`classPrompt.input must be a non-empty string naming the model's class id input, e.g. "class_vector" (got ${show(cp.input)})`);
      const okType = cp.dtype === 'int64' || cp.dtype === 'int32';
      if (!okType) errors.push(`classPrompt.dtype must be "int64" or "int32" (got ${show(cp.dtype)})`);
      if (okInput && okType) out.classPrompt = { input: cp.input as string, dtype: cp.dtype as ClassPrompt['dtype'] };
    }
  }
  const p = raw.prompt;
  let text = false;
  if (p !== undefined) {
    if (isObject(p) && p.text !== undefined) {
      text = true;
      for (const k of Object.keys(p)) if (k !== 'text' && !k.startsWith('$')) warnings.push(`${name}: prompt.${k} is ignored for a semantic model (only prompt.text is read: one text query per asked class)`);
      const t = checkTextPrompt(p.text, 'prompt.text', errors, warnings, name);
      if (t) out.prompt = { text: t };
    } else {
      warnings.push(`${name}: prompt is ignored for a semantic model (kind "promptable" reads it; a semantic model reads prompt.text only)`);
    }
  }
  if (cp !== undefined && text) errors.push('classPrompt and prompt.text: a semantic model is asked for its classes by id or by text, not both');
  const l = raw.logits;
  if (l !== undefined) {
    if (!isObject(l)) {
      errors.push(`logits must be an object like {"activation": "sigmoid"} (got ${show(l)})`);
    } else {
      for (const k of Object.keys(l)) if (k !== 'activation' && k !== 'blend' && !k.startsWith('$')) warnings.push(`${name}: logits.${k} is ignored for a semantic model (only logits.activation and logits.blend are read)`);
      if (l.activation !== undefined && l.activation !== 'sigmoid' && l.activation !== 'softmax') errors.push(`logits.activation must be "sigmoid" or "softmax" (got ${show(l.activation)})`);
      else if (l.activation !== undefined) out.logits = { activation: l.activation as LogitsSpec['activation'] };
      if (l.blend !== undefined && l.blend !== 'logits' && l.blend !== 'probabilities') errors.push(`logits.blend must be "logits" (VISTA3D) or "probabilities" (sigmoid before blending, SAT) (got ${show(l.blend)})`);
      else if (l.blend !== undefined) out.logits = { ...out.logits, blend: l.blend as LogitsSpec['blend'] };
    }
  }
  const queried = cp !== undefined || text;
  if (queried && out.logits?.activation !== 'sigmoid' && !errors.some((e) => e.startsWith('logits'))) {
    errors.push(`logits.activation must be "sigmoid" for a model asked for its classes (${cp !== undefined ? 'classPrompt' : 'prompt.text'}): it returns one independent logit per asked class (got ${show(isObject(l) ? l.activation : l)})`);
  }
  if (!queried && out.logits?.blend !== undefined) errors.push('logits.blend needs classPrompt or prompt.text: it says how the asked classes\' logits are blended');
  if (!queried && out.logits?.activation === 'sigmoid') errors.push('logits.activation "sigmoid" needs classPrompt or prompt.text: a semantic model without asked classes is read by argmax over its channels');
  if (queried && raw.patchSize === undefined) errors.push('patchSize must be given (or null) for a model asked for its classes');
  return out;
}
