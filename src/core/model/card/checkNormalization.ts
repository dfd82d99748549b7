/**
 * Validation of one `normalization.<modality>` entry of a card (semantics in normalize.ts). Each problem names
 * its key path, e.g. "normalization.ct.lowerPercentile".
 */
import type { Normalization, NormalizationMask, NormalizationMethod } from './modelCard';
import { isObject, show } from './jsonChecks';

export const METHODS: readonly NormalizationMethod[] = ['none', 'minmax', 'zscore', 'clip-zscore', 'suv-clip'];
type NumberField = 'lower' | 'upper' | 'lowerPercentile' | 'upperPercentile' | 'mean' | 'std';
const NUMBER_FIELDS: readonly NumberField[] = ['lower', 'upper', 'lowerPercentile', 'upperPercentile', 'mean', 'std'];
/** Which optional fields each method reads; the rest are reported as ignored. */
const METHOD_FIELDS: Record<NormalizationMethod, readonly string[]> = {
  none: [],
  minmax: [],
  zscore: ['mean', 'std', 'mask', 'outside'],
  'clip-zscore': ['lower', 'upper', 'lowerPercentile', 'upperPercentile', 'mean', 'std', 'mask'],
  'suv-clip': ['lower', 'upper'],
};

function checkMask(v: unknown, at: string, errors: string[]): NormalizationMask | undefined {
  if (v === 'nonzero') return v;
  if (isObject(v) && Object.keys(v).length === 1 && typeof v.above === 'number' && Number.isFinite(v.above)) return { above: v.above };
  errors.push(`${at} must be "nonzero" or {"above": <number>} (got ${show(v)})`);
  return undefined;
}

export function checkNormalization(v: unknown, at: string, errors: string[], warnings: string[], name: string): Normalization | undefined {
  if (!isObject(v)) {
    errors.push(`${at} must be an object like {"method": "zscore"} (got ${show(v)})`);
    return undefined;
  }
  const method = v.method;
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
    errors.push(`${at}.method must be one of ${METHODS.map((m) => `"${m}"`).join(', ')} (got ${show(method)})`);
    return undefined;
  }
  const m = method as NormalizationMethod;
  const out: Normalization = { method: m };
  const before = errors.length;
  for (const k of Object.keys(v)) {
    if (k === 'method' || k.startsWith('$')) continue;
    if (!(NUMBER_FIELDS as readonly string[]).includes(k) && k !== 'mask' && k !== 'outside') {
      warnings.push(`${name}: unknown key ${at}.${k} (ignored)`);
    } else if (!METHOD_FIELDS[m].includes(k)) {
      warnings.push(`${name}: ${at}.${k} is ignored by method "${m}"`);
    } else if (k === 'mask') {
      const mask = checkMask(v[k], `${at}.mask`, errors);
      if (mask) out.mask = mask;
    } else if (k === 'outside') {
      if (v[k] === 'zero' || v[k] === 'scaled') out.outside = v[k];
      else errors.push(`${at}.outside must be "zero" (voxels outside the mask become 0) or "scaled" (z-scored with the mask's statistics) (got ${show(v[k])})`);
    } else if (typeof v[k] !== 'number' || !Number.isFinite(v[k])) {
      errors.push(`${at}.${k} must be a finite number (got ${show(v[k])})`);
    } else {
      out[k as NumberField] = v[k] as number;
    }
  }
  if (errors.length > before) return undefined;
  if (out.outside !== undefined && out.mask === undefined) warnings.push(`${name}: ${at}.outside is ignored without ${at}.mask (every voxel is z-scored)`);
  if (out.std !== undefined && !(out.std > 0)) errors.push(`${at}.std must be > 0 (got ${out.std})`);
  if ((out.mean === undefined) !== (out.std === undefined) && METHOD_FIELDS[m].includes('mean')) {
    errors.push(`${at}: give both mean and std, or neither (computed from the image)`);
  }
  for (const k of ['lowerPercentile', 'upperPercentile'] as const) {
    const q = out[k];
    if (q !== undefined && !(q >= 0 && q <= 100)) errors.push(`${at}.${k} must be a percentile in [0, 100] (got ${q})`);
  }
  if (m === 'clip-zscore') {
    for (const side of ['lower', 'upper'] as const) {
      const fixed = out[side] !== undefined;
      const pct = out[`${side}Percentile`] !== undefined;
      if (fixed && pct) errors.push(`${at}: give ${side} or ${side}Percentile, not both`);
      if (!fixed && !pct) errors.push(`${at}: clip-zscore needs lower and upper, each fixed or as a percentile (lowerPercentile, upperPercentile); ${side} is missing`);
    }
    if (out.lower !== undefined && out.upper !== undefined && !(out.lower < out.upper)) errors.push(`${at}: lower must be below upper (got ${out.lower} >= ${out.upper})`);
    if (out.lowerPercentile !== undefined && out.upperPercentile !== undefined && !(out.lowerPercentile < out.upperPercentile)) {
      errors.push(`${at}: lowerPercentile must be below upperPercentile (got ${out.lowerPercentile} >= ${out.upperPercentile})`);
    }
  }
  if (m === 'suv-clip') {
    if (out.upper === undefined) errors.push(`${at}: suv-clip needs upper (the SUV ceiling)`);
    else if (!((out.lower ?? 0) < out.upper)) errors.push(`${at}: lower (default 0) must be below upper (got ${out.lower ?? 0} >= ${out.upper})`);
  }
  return errors.length > before ? undefined : out;
}
