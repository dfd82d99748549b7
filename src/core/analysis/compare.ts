/**
 * A run against a baseline run on the same cases: per organ and modality, did the scores go down (regression),
 * up (improvement), or neither?
 *
 * Cases are matched by (subject, study, modality, organ). A cell pools the matched cases of one organ and one
 * modality; for PET, the PET of the PET/CT study and the PET of the PET/MRI study are distinct cases of one
 * subject and both go into the PET cell. A matched case counts when both runs have a score for it (null scores,
 * both-empty or error, are skipped and counted in `skipped`).
 * Per cell and metric:
 *   mean_run, mean_baseline  over the counted cases
 *   mean_diff  mean of (run - baseline): negative = the run is worse
 *   ci_low, ci_high  95% percentile bootstrap CI of mean_diff (seed default 0, 10,000 resamples)
 *   p          two-sided Wilcoxon signed-rank on (run - baseline), not adjusted for the number of cells
 *   class      "regression"  when mean_diff <= -minEffect and p < alpha
 *              "improvement" when mean_diff >= +minEffect and p < alpha
 *              "unchanged"   otherwise (too small an effect, or not significant; a cell of < 6 cases can
 *                            never reach p < 0.05 with the exact test, so it stays "unchanged")
 *   Defaults: minEffect 0.02, alpha 0.05.
 * onlyInRun / onlyInBaseline: case keys (organ records and case-level errors) present in one run only.
 */
import type { Modality, Study } from '../dataset/organs';
import type { StoredRun } from '../runstore/runStore';
import type { CaseRecord } from '../runstore/schema';
import { caseKey, mean, organOrder, scoreOf, SCORE_METRICS, type ScoreMetric } from './scores';
import { bootstrapMeanCi } from './stats/bootstrap';
import { wilcoxonSignedRank } from './stats/wilcoxon';

export interface CaseKey {
  subject: string;
  study: Study;
  modality: Modality;
  /** null for a case-level error record (the whole case failed). */
  organ: string | null;
}

export type ChangeClass = 'regression' | 'improvement' | 'unchanged';

export interface CompareCell {
  organ: string;
  modality: Modality;
  metric: ScoreMetric;
  n: number;
  /** Matched cases with a null score on either side. */
  skipped: number;
  mean_run: number;
  mean_baseline: number;
  mean_diff: number;
  ci_low: number;
  ci_high: number;
  p: number;
  class: ChangeClass;
}

export interface CompareOptions {
  metrics?: ScoreMetric[];
  minEffect?: number;
  alpha?: number;
  seed?: number;
  resamples?: number;
}

export interface Comparison {
  cells: CompareCell[];
  onlyInRun: CaseKey[];
  onlyInBaseline: CaseKey[];
  options: Required<CompareOptions>;
}

export const MODALITIES: readonly Modality[] = ['CT', 'MRI', 'PET'];

function keysOf(run: StoredRun): Map<string, CaseKey> {
  const out = new Map<string, CaseKey>();
  for (const r of run.cases) {
    const k: CaseKey = { subject: r.subject, study: r.study, modality: r.modality, organ: r.organ ?? null };
    out.set(caseKey(k), k);
  }
  return out;
}

/** Organ records of a run keyed by caseKey, for matchedScores. */
export function organRecords(run: StoredRun): Map<string, CaseRecord> {
  return new Map(run.cases.filter((r) => r.organ).map((r) => [caseKey(r), r]));
}

/** The matched (run, baseline) scores of one organ and modality (PET of both studies pooled). */
export function matchedScores(run: StoredRun, baseByKey: Map<string, CaseRecord>, organ: string, modality: Modality, metric: ScoreMetric): { pairs: Array<{ run: number; base: number }>; skipped: number } {
  const pairs: Array<{ run: number; base: number }> = [];
  let skipped = 0;
  for (const r of run.cases) {
    if (r.organ !== organ || r.modality !== modality) continue;
    const b = baseByKey.get(caseKey(r));
    if (!b) continue;
    const x = scoreOf(r, metric);
    const y = scoreOf(b, metric);
    if (x === undefined || y === undefined) skipped++;
    else pairs.push({ run: x, base: y });
  }
  return { pairs, skipped };
}

export function classify(meanDiff: number, p: number, minEffect: number, alpha: number): ChangeClass {
  if (!(p < alpha)) return 'unchanged';
  if (meanDiff <= -minEffect) return 'regression';
  if (meanDiff >= minEffect) return 'improvement';
  return 'unchanged';
}

export function compareRuns(run: StoredRun, baseline: StoredRun, opts: CompareOptions = {}): Comparison {
  const options: Required<CompareOptions> = {
    metrics: opts.metrics ?? [...SCORE_METRICS], minEffect: opts.minEffect ?? 0.02, alpha: opts.alpha ?? 0.05,
    seed: opts.seed ?? 0, resamples: opts.resamples ?? 10000,
  };
  const runKeys = keysOf(run);
  const baseKeys = keysOf(baseline);
  const onlyInRun = [...runKeys].filter(([k]) => !baseKeys.has(k)).map(([, v]) => v);
  const onlyInBaseline = [...baseKeys].filter(([k]) => !runKeys.has(k)).map(([, v]) => v);

  const baseByKey = organRecords(baseline);
  const organs = organOrder(run);
  for (const o of organOrder(baseline)) if (!organs.includes(o)) organs.push(o);
  const cells: CompareCell[] = [];
  for (const metric of options.metrics) {
    for (const organ of organs) {
      for (const modality of MODALITIES) {
        const { pairs, skipped } = matchedScores(run, baseByKey, organ, modality, metric);
        if (pairs.length === 0) continue;
        const diffs = pairs.map((q) => q.run - q.base);
        const meanDiff = mean(diffs);
        const p = wilcoxonSignedRank(diffs).p;
        const ci = bootstrapMeanCi(diffs, { seed: options.seed, resamples: options.resamples });
        cells.push({
          organ, modality, metric, n: pairs.length, skipped,
          mean_run: mean(pairs.map((q) => q.run)), mean_baseline: mean(pairs.map((q) => q.base)),
          mean_diff: meanDiff, ci_low: ci.low, ci_high: ci.high, p,
          class: classify(meanDiff, p, options.minEffect, options.alpha),
        });
      }
    }
  }
  return { cells, onlyInRun, onlyInBaseline, options };
}
