/**
 * Validation of the card keys about organs rather than tensors: `organMap` (model organ name -> dataset organ)
 * and `reported` (the authors' own scores per organ). Problems name the key path, as in loadCard.ts.
 */
import { organKey } from '../../dataset/organs';
import type { ReportedScore } from './modelCard';
import { isObject, show, warnUnknownKeys } from './jsonChecks';
import { umdOrganFor } from '../../dataset/organSynonyms';

/** Organ names a card speaks of: its labels' names, the organs its organMap sends them to, their UMD organs. */
function knownOrganKeys(labels: Record<string, string>, organMap: Record<string, string | null> | undefined): Set<string> {
  const keys = new Set<string>();
  const targets = Object.values(organMap ?? {}).filter((t): t is string => t !== null);
  for (const name of [...Object.values(labels), ...targets]) {
    keys.add(organKey(name));
    const umd = umdOrganFor(name);
    if (umd) keys.add(organKey(umd));
  }
  return keys;
}

export function checkOrganMap(v: unknown, labels: Record<string, string>, errors: string[], warnings: string[], label: string): Record<string, string | null> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) {
    errors.push(`organMap must be an object {"<model organ>": "<dataset organ>" or null} (got ${show(v)})`);
    return undefined;
  }
  const labelKeys = new Set(Object.values(labels).map(organKey));
  const out: Record<string, string | null> = {};
  for (const [from, to] of Object.entries(v)) {
    if (from.startsWith('$')) continue;
    if (to !== null && (typeof to !== 'string' || to.trim() === '')) {
      errors.push(`organMap.${from} must be a dataset organ name or null (not scored) (got ${show(to)})`);
      continue;
    }
    if (!labelKeys.has(organKey(from))) warnings.push(`${label}: organMap.${from} names no class of labels (ignored)`);
    out[from] = to === null ? null : to.trim();
  }
  return out;
}

export function checkReported(
  v: unknown, labels: Record<string, string>, organMap: Record<string, string | null> | undefined, errors: string[], warnings: string[], label: string,
): Record<string, ReportedScore> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) {
    errors.push(`reported must be an object {"<organ>": {"dice": 0.9, "nsd": 0.8, "source": "..."}} (got ${show(v)})`);
    return undefined;
  }
  const organs = knownOrganKeys(labels, organMap);
  const out: Record<string, ReportedScore> = {};
  for (const [organ, entry] of Object.entries(v)) {
    if (organ.startsWith('$')) continue;
    const at = `reported.${organ}`;
    if (!isObject(entry)) {
      errors.push(`${at} must be an object {"dice", "nsd", "source"} (got ${show(entry)})`);
      continue;
    }
    warnUnknownKeys(entry, ['dice', 'nsd', 'source'], `${at}.`, label, warnings);
    const score: ReportedScore = {};
    const before = errors.length;
    for (const metric of ['dice', 'nsd'] as const) {
      const x = entry[metric];
      if (x === undefined) continue;
      if (typeof x === 'number' && x >= 0 && x <= 1) score[metric] = x;
      else errors.push(`${at}.${metric} must be a number in [0, 1] (got ${show(x)})`);
    }
    if (entry.source !== undefined) {
      if (typeof entry.source === 'string') score.source = entry.source;
      else errors.push(`${at}.source must be a string (got ${show(entry.source)})`);
    }
    if (errors.length > before) continue;
    if (score.dice === undefined && score.nsd === undefined) errors.push(`${at} must give dice, nsd or both`);
    else {
      if (!organs.has(organKey(organ)) && !organs.has(organKey(umdOrganFor(organ) ?? organ))) {
        warnings.push(`${label}: ${at}: no class of labels is this organ (kept)`);
      }
      out[organ] = score;
    }
  }
  return out;
}
