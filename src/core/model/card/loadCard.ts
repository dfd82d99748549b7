/**
 * Reading and validating the model card `<name>.umd.json` that sits beside `<name>.onnx` (and the same schema
 * when it arrives as the ONNX model's `umd` metadata entry).
 *
 * Every problem is reported at once, each naming the card file and the key path ("normalization.ct.method"),
 * because a card is written by hand and fixing one error per run is slow. Unknown keys are warnings, not
 * errors: a newer card may carry fields this version does not read. Keys starting with "$" ($schema,
 * $comment) are accepted silently.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModalityKey, ModelCard, Normalization, PadSpec } from './modelCard';
import { CardError, isObject, show, warnUnknownKeys } from './jsonChecks';
import { checkOrganMap, checkReported } from './checkOrganKeys';
import { checkNormalization } from './checkNormalization';
import { isAxisCodes } from './axisCodes';
import { checkCropRule } from './checkCropRule';
import { checkPromptable } from './checkPromptable';
import { checkDecoderFields } from './checkDecoder';
import { checkClassQueries } from './checkClassPrompt';

export { CardError } from './jsonChecks';

export interface LoadedCard {
  card: ModelCard;
  cardPath: string;
  warnings: string[];
}

/** `<dir>/<name>.onnx` -> `<dir>/<name>.umd.json`. */
export function cardPathFor(onnxPath: string): string {
  const base = path.basename(onnxPath).replace(/\.onnx$/i, '');
  return path.join(path.dirname(onnxPath), `${base}.umd.json`);
}

export function loadCard(onnxPath: string): LoadedCard {
  const cardPath = cardPathFor(onnxPath);
  let text: string;
  try {
    text = fs.readFileSync(cardPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `model card not found: every model needs a card beside it (${path.basename(cardPath)} next to ${path.basename(onnxPath)})` : `cannot read model card (${code ?? String(e)})`;
    throw new CardError(cardPath, [why]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CardError(cardPath, [`not valid JSON (${(e as Error).message})`]);
  }
  const { card, warnings } = validateCard(raw, cardPath);
  return { card, cardPath, warnings };
}

/** `training` and `heldOut` are free-form provenance (how the checkpoint was made, what it scored): kept, not read. */
const TOP_KEYS = ['kind', 'inputs', 'outputs', 'patchSize', 'spatialOrder', 'orientation', 'spacing', 'pad', 'normalization', 'labels', 'overlap', 'name', 'description', 'training', 'heldOut', 'nsdToleranceMm', 'organMap', 'reported', 'prompt', 'cropSize', 'decoder', 'logits', 'classPrompt', 'cropNormalization', 'crop', 'pointRule'];
const MODALITY_KEYS: readonly ModalityKey[] = ['ct', 'mri', 'pet', '*'];
/**
 * Checks a parsed card against the ModelCard schema. Throws CardError listing every problem; returns the
 * typed card (a fresh object holding only the known keys) and the warnings, each starting with `name`.
 */
export function validateCard(raw: unknown, file: string, name = path.basename(file)): { card: ModelCard; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const warnUnknown = (obj: Record<string, unknown>, known: readonly string[], prefix: string) => warnUnknownKeys(obj, known, prefix, name, warnings);
  if (!isObject(raw)) throw new CardError(file, ['the card must be a JSON object']);
  warnUnknown(raw, TOP_KEYS, '');

  if (raw.kind !== 'semantic' && raw.kind !== 'promptable') errors.push(`kind must be "semantic" or "promptable" (got ${show(raw.kind)})`);
  const promptable = raw.kind === 'promptable' ? checkPromptable(raw, errors, warnings, name) : undefined;
  // `logits` means the decoder's low-res output for a promptable card (checkDecoder.ts) and the blending of the
  // asked classes for a semantic one (checkClassPrompt.ts): each kind reads its own fields
  const graphs: ReturnType<typeof checkDecoderFields> = raw.kind === 'promptable' ? checkDecoderFields(raw, file, promptable?.prompt, errors, warnings, name) : {};
  if (raw.kind === 'semantic' && raw.decoder !== undefined) errors.push('decoder: only a promptable model (kind "promptable") has a decoder graph run per prompt');
  const queries = raw.kind === 'semantic' ? checkClassQueries(raw, errors, warnings, name) : undefined;
  if (raw.kind === 'semantic') for (const k of ['cropSize', 'cropNormalization']) if (raw[k] !== undefined) warnings.push(`${name}: ${k} is ignored for a semantic model (kind "promptable" reads it)`);
  if (raw.kind === 'promptable' && raw.classPrompt !== undefined) warnings.push(`${name}: classPrompt is ignored for a promptable model (kind "semantic" reads it)`);

  const names = (key: 'inputs' | 'outputs', field: string): string => {
    const v = raw[key];
    if (!isObject(v)) {
      errors.push(`${key} must be an object like {"${field}": "<tensor name>"} (got ${show(v)})`);
      return '';
    }
    warnUnknown(v, [field], `${key}.`);
    const s = v[field];
    if (typeof s !== 'string' || s === '') {
      errors.push(`${key}.${field} must be a non-empty string naming the model's ${key === 'inputs' ? 'input' : 'output'} tensor (got ${show(s)})`);
      return '';
    }
    return s;
  };
  const image = names('inputs', 'image');
  const logits = names('outputs', 'logits');

  const triple = (key: 'patchSize' | 'spacing', ok: (x: number) => boolean, what: string): [number, number, number] | null => {
    const v = raw[key];
    if (v === null) return null;
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && ok(x))) return [v[0], v[1], v[2]];
    errors.push(`${key} must be [a,b,c] ${what} or null (got ${show(v)})`);
    return null;
  };
  const patchSize = triple('patchSize', (x) => Number.isInteger(x) && x > 0, 'positive integers');
  const spacing = triple('spacing', (x) => Number.isFinite(x) && x > 0, 'positive numbers (mm along i, j, k)');

  const spatialOrder = raw.spatialOrder;
  if (spatialOrder !== 'kji' && spatialOrder !== 'ijk') errors.push(`spatialOrder must be "kji" or "ijk" (got ${show(spatialOrder)})`);

  const orientation = raw.orientation;
  if (orientation !== undefined && orientation !== null && !(typeof orientation === 'string' && isAxisCodes(orientation))) {
    errors.push(`orientation must be three axis codes naming x, y and z once each, as nibabel's aff2axcodes prints them ("RAS", "LPS", "LIA", ...), or null (got ${show(orientation)})`);
  }
  const pad = checkPad(raw.pad, errors, warnings, name);

  const normalization: Partial<Record<ModalityKey, Normalization>> = {};
  if (!isObject(raw.normalization)) {
    errors.push(`normalization must be an object keyed by "ct", "mri", "pet" or "*" (got ${show(raw.normalization)})`);
  } else {
    for (const [key, value] of Object.entries(raw.normalization)) {
      if (key.startsWith('$')) continue;
      if (!(MODALITY_KEYS as readonly string[]).includes(key)) {
        warnings.push(`${name}: unknown key normalization.${key} (ignored; keys are ${MODALITY_KEYS.map((k) => `"${k}"`).join(', ')})`);
        continue;
      }
      const n = checkNormalization(value, `normalization.${key}`, errors, warnings, name);
      if (n) normalization[key as ModalityKey] = n;
    }
    if (!('*' in raw.normalization)) {
      const missing = MODALITY_KEYS.filter((k) => k !== '*' && !(k in (raw.normalization as object)));
      if (missing.length) {
        warnings.push(`${name}: normalization has no "*" entry and none for ${missing.join(', ')}: such images are fed without normalization`);
      }
    }
  }

  const labels: Record<string, string> = {};
  if (!isObject(raw.labels)) {
    errors.push(`labels must be an object mapping class ids to organ names, e.g. {"1": "liver"} (got ${show(raw.labels)})`);
  } else {
    for (const [id, organ] of Object.entries(raw.labels)) {
      if (!/^(0|[1-9]\d*)$/.test(id) || Number(id) > 65535) errors.push(`labels.${id}: class ids must be integers 0..65535`);
      else if (typeof organ !== 'string' || organ.trim() === '') errors.push(`labels.${id} must be a non-empty organ name (got ${show(organ)})`);
      else labels[id] = organ;
    }
    if (Object.keys(raw.labels).length === 0) errors.push('labels must name at least one class');
  }

  let overlap: number | undefined;
  if (raw.overlap !== undefined) {
    if (typeof raw.overlap === 'number' && raw.overlap >= 0 && raw.overlap < 1) overlap = raw.overlap;
    else errors.push(`overlap must be a number in [0, 1) (got ${show(raw.overlap)})`);
  }
  if (raw.overlap !== undefined && patchSize === null && overlap !== undefined) {
    warnings.push(`${name}: overlap is ignored because patchSize is null (whole-volume inference)`);
  }
  // NSD tolerance: one number for every organ, or {"<organ>": mm, "*": mm}
  let nsdToleranceMm: Record<string, number> | undefined;
  const tol = raw.nsdToleranceMm;
  if (typeof tol === 'number' && Number.isFinite(tol) && tol >= 0) nsdToleranceMm = { '*': tol };
  else if (isObject(tol)) {
    nsdToleranceMm = {};
    for (const [organ, mm] of Object.entries(tol)) {
      if (typeof mm === 'number' && Number.isFinite(mm) && mm >= 0) nsdToleranceMm[organ] = mm;
      else errors.push(`nsdToleranceMm.${organ} must be a non-negative number of mm (got ${show(mm)})`);
    }
  } else if (tol !== undefined) {
    errors.push(`nsdToleranceMm must be a number of mm or an object {"<organ>": mm, "*": mm} (got ${show(tol)})`);
  }
  const organMap = checkOrganMap(raw.organMap, labels, errors, warnings, name);
  const reported = checkReported(raw.reported, labels, organMap, errors, warnings, name);
  const cropRule = checkCropRule(raw, errors, warnings, name);
  for (const key of ['name', 'description'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') errors.push(`${key} must be a string (got ${show(raw[key])})`);
  }

  if (errors.length) throw Object.assign(new CardError(file, errors), { warnings });
  const card: ModelCard = {
    kind: promptable ? 'promptable' : 'semantic',
    inputs: { image },
    outputs: { logits },
    patchSize,
    spatialOrder: spatialOrder as ModelCard['spatialOrder'],
    spacing,
    normalization,
    labels,
  };
  if (promptable) {
    card.prompt = promptable.prompt;
    card.cropSize = promptable.cropSize;
    if (promptable.cropNormalization) card.cropNormalization = promptable.cropNormalization;
  }
  if (graphs.decoder) card.decoder = graphs.decoder;
  if (graphs.logits) card.logits = graphs.logits;
  if (queries?.classPrompt) card.classPrompt = queries.classPrompt;
  if (queries?.prompt) card.prompt = queries.prompt;
  if (queries?.logits) card.logits = queries.logits;
  if (typeof orientation === 'string') card.orientation = orientation;
  if (pad) card.pad = pad;
  if (overlap !== undefined) card.overlap = overlap;
  if (nsdToleranceMm) card.nsdToleranceMm = nsdToleranceMm;
  if (organMap) card.organMap = organMap;
  if (reported) card.reported = reported;
  Object.assign(card, cropRule);
  if (typeof raw.name === 'string') card.name = raw.name;
  if (typeof raw.description === 'string') card.description = raw.description;
  return { card, warnings };
}

/** `pad`: {"divisibleBy": n or [a, b, c]} or {"size": [a, b, c]}, in the tensor's spatial order; null = none. */
function checkPad(v: unknown, errors: string[], warnings: string[], name: string): PadSpec | undefined {
  if (v === undefined || v === null) return undefined;
  const shape = 'pad must be {"divisibleBy": n or [a, b, c]} or {"size": [a, b, c]} (positive integers, in the tensor\'s spatial order) or null';
  if (!isObject(v)) {
    errors.push(`${shape} (got ${show(v)})`);
    return undefined;
  }
  const given = ['divisibleBy', 'size'].filter((k) => k in v);
  for (const k of Object.keys(v)) if (k !== 'divisibleBy' && k !== 'size' && !k.startsWith('$')) warnings.push(`${name}: unknown key pad.${k} (ignored)`);
  if (given.length !== 1) {
    errors.push(`${shape}: give exactly one of divisibleBy and size (got ${show(v)})`);
    return undefined;
  }
  const key = given[0] as 'divisibleBy' | 'size';
  const x = v[key];
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;
  if (key === 'divisibleBy' && ok(x)) return { divisibleBy: [x, x, x] };
  if (Array.isArray(x) && x.length === 3 && x.every(ok)) return key === 'size' ? { size: [x[0], x[1], x[2]] } : { divisibleBy: [x[0], x[1], x[2]] };
  errors.push(`pad.${key} must be ${key === 'size' ? '[a, b, c]' : 'a number or [a, b, c]'} of positive integers (got ${show(x)})`);
  return undefined;
}
