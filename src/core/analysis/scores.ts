/**
 * Reading scores out of a stored run for the paired analyses (gap, compare, gates): organ order, per-case scores
 * keyed by (subject, study, modality, organ), means and medians. A score is usable when it is a number; null
 * (both masks empty, error) and absent (NSD in format-1 runs) are not scores.
 */
import type { Modality, Study } from '../dataset/organs';
import type { StoredRun } from '../runstore/runStore';
import type { CaseRecord } from '../runstore/schema';

export type ScoreMetric = 'dice' | 'nsd';
export const SCORE_METRICS: readonly ScoreMetric[] = ['dice', 'nsd'];

export function isScoreMetric(m: string): m is ScoreMetric {
  return m === 'dice' || m === 'nsd';
}

/** The record's score for a metric, or undefined when it has none. */
export function scoreOf(r: CaseRecord, metric: ScoreMetric): number | undefined {
  const v = r[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Organs in the dataset's label-id order (run.json), then any others in order of appearance. */
export function organOrder(run: StoredRun): string[] {
  const fromManifest = Object.entries(run.manifest.dataset?.organs ?? {})
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, name]) => name);
  const seen = new Set(fromManifest);
  for (const r of run.cases) if (r.organ && !seen.has(r.organ)) { seen.add(r.organ); fromManifest.push(r.organ); }
  return fromManifest;
}

export function caseKey(r: { subject: string; study: Study; modality: Modality; organ: string | null }): string {
  return JSON.stringify([r.subject, r.study, r.modality, r.organ]);
}

/**
 * Organ records of a run by caseKey. A key recorded twice means a corrupt run (cases.jsonl is written once per
 * case): that is an error naming the run directory.
 */
export function recordsByKey(run: StoredRun): Map<string, CaseRecord> {
  const out = new Map<string, CaseRecord>();
  for (const r of run.cases) {
    if (!r.organ) continue;
    const k = caseKey(r);
    if (out.has(k)) throw new Error(`${run.dir}: cases.jsonl holds ${r.study} ${r.subject} ${r.modality} ${r.organ} twice`);
    out.set(k, r);
  }
  return out;
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : NaN;
}

/** Median as numpy.median: the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
