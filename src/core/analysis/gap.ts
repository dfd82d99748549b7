/**
 * The modality gap with paired statistics: per organ, how much worse the same model scores on one scan of a
 * subject than on another scan of the same subject.
 *
 * Pairs (a, b), matched by subject:
 *   CT-PET   CT vs PET of the PET/CT study
 *   MRI-PET  MRI vs PET of the PET/MRI study
 *   CT-MRI   CT of the PET/CT study vs MRI of the PET/MRI study (across the two studies of one subject)
 * A pair needs a score on both sides: a null score (both masks empty, error) or a missing case drops the pair.
 * Per organ, pair and metric (a GapRow):
 *   mean_a, mean_b, median_a, median_b   over the kept pairs
 *   mean_diff  mean of (a - b): positive = b is worse
 *   ci_low, ci_high  95% percentile bootstrap CI of that mean (stats/bootstrap.ts; seed default 0, 10,000 resamples)
 *   p          two-sided Wilcoxon signed-rank on (a - b) (stats/wilcoxon.ts; 1 when every difference is 0)
 *   p_holm     Holm-adjusted across the organs of one (pair, metric): the family is one table column
 *   drop_share share of subjects with a - b > drop_threshold (default 0.1)
 *   subjects   every kept pair, sorted by diff descending (worst drop first), ties by subject name
 * Rows with no kept pair are left out.
 *
 * The generalization illusion (illusion()): the card's `reported` scores (keys are the model's organ names,
 * mapped to dataset organs exactly as evaluation maps class names: organMap, name, synonym table) against the
 * mean measured score of that organ in each study and modality: diff = reported - measured (positive = the
 * paper's number is higher than what this data shows).
 */
import { organMatcher } from '../dataset/organMatch';
import type { Modality, Study } from '../dataset/organs';
import type { StoredRun } from '../runstore/runStore';
import { organOrder, mean, median, recordsByKey, caseKey, scoreOf, SCORE_METRICS, type ScoreMetric } from './scores';
import { bootstrapMeanCi } from './stats/bootstrap';
import { holm } from './stats/holm';
import { wilcoxonSignedRank } from './stats/wilcoxon';

export type GapPair = 'CT-PET' | 'MRI-PET' | 'CT-MRI';

/** Which scan each side of a pair is: [study, modality] of a, then of b. */
export const GAP_PAIRS: ReadonlyArray<{ pair: GapPair; a: [Study, Modality]; b: [Study, Modality] }> = [
  { pair: 'CT-PET', a: ['PETCT', 'CT'], b: ['PETCT', 'PET'] },
  { pair: 'MRI-PET', a: ['PETMRI', 'MRI'], b: ['PETMRI', 'PET'] },
  { pair: 'CT-MRI', a: ['PETCT', 'CT'], b: ['PETMRI', 'MRI'] },
];

export interface GapSubject {
  subject: string;
  a: number;
  b: number;
  diff: number;
}

export interface GapRow {
  organ: string;
  pair: GapPair;
  metric: ScoreMetric;
  n: number;
  mean_a: number;
  mean_b: number;
  median_a: number;
  median_b: number;
  mean_diff: number;
  ci_low: number;
  ci_high: number;
  p: number;
  p_holm: number;
  drop_threshold: number;
  drop_share: number;
  subjects: GapSubject[];
}

export interface GapOptions {
  metrics?: ScoreMetric[];
  resamples?: number;
  seed?: number;
  dropThreshold?: number;
}

/** The kept (a, b) pairs of one organ, pair type and metric, in subject order. */
export function pairedScores(run: StoredRun, organ: string, pair: (typeof GAP_PAIRS)[number], metric: ScoreMetric, byKey = recordsByKey(run)): GapSubject[] {
  const subjects = [...new Set(run.cases.map((r) => r.subject))].sort();
  const out: GapSubject[] = [];
  for (const subject of subjects) {
    const ra = byKey.get(caseKey({ subject, study: pair.a[0], modality: pair.a[1], organ }));
    const rb = byKey.get(caseKey({ subject, study: pair.b[0], modality: pair.b[1], organ }));
    const a = ra && scoreOf(ra, metric);
    const b = rb && scoreOf(rb, metric);
    if (a === undefined || b === undefined) continue;
    out.push({ subject, a, b, diff: a - b });
  }
  return out;
}

export function modalityGap(run: StoredRun, opts: GapOptions = {}): GapRow[] {
  const metrics = opts.metrics ?? [...SCORE_METRICS];
  const dropThreshold = opts.dropThreshold ?? 0.1;
  const byKey = recordsByKey(run);
  const organs = organOrder(run);
  const rows: GapRow[] = [];
  for (const metric of metrics) {
    for (const pair of GAP_PAIRS) {
      const family: GapRow[] = [];
      for (const organ of organs) {
        const kept = pairedScores(run, organ, pair, metric, byKey);
        if (kept.length === 0) continue;
        const diffs = kept.map((s) => s.diff);
        const ci = bootstrapMeanCi(diffs, { resamples: opts.resamples ?? 10000, seed: opts.seed ?? 0 });
        family.push({
          organ, pair: pair.pair, metric, n: kept.length,
          mean_a: mean(kept.map((s) => s.a)), mean_b: mean(kept.map((s) => s.b)),
          median_a: median(kept.map((s) => s.a)), median_b: median(kept.map((s) => s.b)),
          mean_diff: mean(diffs), ci_low: ci.low, ci_high: ci.high,
          p: wilcoxonSignedRank(diffs).p, p_holm: NaN,
          drop_threshold: dropThreshold, drop_share: diffs.filter((d) => d > dropThreshold).length / diffs.length,
          subjects: [...kept].sort((x, y) => y.diff - x.diff || (x.subject < y.subject ? -1 : x.subject > y.subject ? 1 : 0)),
        });
      }
      const adjusted = holm(family.map((r) => r.p));
      family.forEach((r, i) => { r.p_holm = adjusted[i]; });
      rows.push(...family);
    }
  }
  return rows;
}

export interface IllusionRow {
  organ: string;
  modality: Modality;
  study: Study;
  metric: ScoreMetric;
  reported: number;
  measured: number;
  diff: number;
  /** Where the card says the reported score comes from (ReportedScore.source), when it says. */
  source?: string;
}

const SCANS: ReadonlyArray<[Study, Modality]> = [['PETCT', 'CT'], ['PETCT', 'PET'], ['PETMRI', 'MRI'], ['PETMRI', 'PET']];

/**
 * The dataset organ of each reported name (`index`: its place among the card's reported organs). A name the run
 * scored as a class takes the organ run.json records for it (labelMapping); other names, and runs written before
 * labelMapping was recorded, are matched by the rules evaluation uses (dataset/organMatch.ts), so both find the
 * same organs.
 */
function reportedOrgans(run: StoredRun, names: readonly string[]): Array<{ name: string; index: number; organ: string }> {
  const stored = new Map((run.manifest.labelMapping?.matches ?? []).map((m) => [m.modelName, m.organ]));
  const byId = new Map(Object.entries(run.manifest.dataset.organs).map(([id, n]) => [Number(id), n]));
  const match = organMatcher({ byId }, run.manifest.card?.organMap);
  const out: Array<{ name: string; index: number; organ: string }> = [];
  names.forEach((name, index) => {
    const known = stored.get(name);
    if (known !== undefined) {
      out.push({ name, index, organ: known });
      return;
    }
    const hit = match(name);
    if (hit.kind === 'organ') out.push({ name, index, organ: byId.get(hit.id)! });
  });
  return out;
}

/**
 * Reported minus measured, per organ the card reports, study, modality and metric it reports. Reported organs the
 * dataset does not have, and scans with no score for the organ, give no row.
 */
export function illusion(run: StoredRun): IllusionRow[] {
  const reported = run.manifest.card?.reported ?? {};
  const names = Object.keys(reported);
  if (names.length === 0) return [];
  const matches = reportedOrgans(run, names);
  const rows: IllusionRow[] = [];
  const order = organOrder(run);
  matches.sort((x, y) => order.indexOf(x.organ) - order.indexOf(y.organ) || x.index - y.index);
  for (const m of matches) {
    const score = reported[m.name];
    for (const metric of SCORE_METRICS) {
      const rep = score[metric];
      if (typeof rep !== 'number') continue;
      for (const [study, modality] of SCANS) {
        const xs = run.cases
          .filter((r) => r.organ === m.organ && r.study === study && r.modality === modality)
          .map((r) => scoreOf(r, metric))
          .filter((v): v is number => v !== undefined);
        if (xs.length === 0) continue;
        const measured = mean(xs);
        rows.push({ organ: m.organ, modality, study, metric, reported: rep, measured, diff: rep - measured, ...(score.source ? { source: score.source } : {}) });
      }
    }
  }
  return rows;
}
