/**
 * Summaries of a run's case records: mean Dice and NSD per modality and organ, and the paired, intra-subject gap
 * between the structural scan and the PET of the same study (CT vs PET, MRI vs PET), for both metrics.
 * Means skip null scores (both masks empty, errors) and report how many were skipped.
 */
import type { Modality, Study } from '../dataset/organs';
import type { CaseRecord } from '../runstore/schema';

export interface CellSummary {
  modality: Modality;
  organ: string;
  meanDice: number | null;
  /** Cases with a score, and cases skipped (both-empty or error). */
  n: number;
  skipped: number;
  /** Mean NSD at the protocol's tolerance; null when no case has one (runs of format 1). */
  meanNsd: number | null;
  nNsd: number;
  skippedNsd: number;
}

export interface ModalitySummary {
  modality: Modality;
  /** Mean over organs of each organ's mean Dice (NSD). */
  meanDice: number | null;
  meanNsd: number | null;
  organs: number;
}

export interface PairedGap {
  organ: string;
  study: Study;
  /** Structural modality (a) vs PET (b) of the same study and subject. */
  pair: 'CT-PET' | 'MRI-PET';
  metric: GapMetric;
  n: number;
  meanA: number;
  meanB: number;
  /** mean over subjects of (score_a - score_b): positive = PET is worse. */
  meanDiff: number;
}

export interface RunSummary {
  cells: CellSummary[];
  modalities: ModalitySummary[];
  gaps: PairedGap[];
  errors: number;
}

export type GapMetric = 'dice' | 'nsd';

const MODALITY_ORDER: Modality[] = ['CT', 'MRI', 'PET'];

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

export function summarize(records: readonly CaseRecord[], organOrder?: readonly string[]): RunSummary {
  const organs = organOrder ? [...organOrder] : [...new Set(records.filter((r) => r.organ).map((r) => r.organ!))];
  const cells: CellSummary[] = [];
  const modalities: ModalitySummary[] = [];
  for (const modality of MODALITY_ORDER) {
    const mine = records.filter((r) => r.modality === modality && r.organ);
    if (mine.length === 0) continue;
    const organMeans: number[] = [];
    const organNsdMeans: number[] = [];
    for (const organ of organs) {
      const rs = mine.filter((r) => r.organ === organ);
      if (rs.length === 0) continue;
      const scores = rs.filter((r) => r.dice !== null).map((r) => r.dice!);
      const m = mean(scores);
      if (m !== null) organMeans.push(m);
      const nsds = rs.filter((r) => typeof r.nsd === 'number').map((r) => r.nsd as number);
      const mn = mean(nsds);
      if (mn !== null) organNsdMeans.push(mn);
      cells.push({ modality, organ, meanDice: m, n: scores.length, skipped: rs.length - scores.length, meanNsd: mn, nNsd: nsds.length, skippedNsd: rs.length - nsds.length });
    }
    modalities.push({ modality, meanDice: mean(organMeans), meanNsd: mean(organNsdMeans), organs: organMeans.length });
  }
  const gaps: PairedGap[] = [];
  const pairs: Array<[Study, Modality, PairedGap['pair']]> = [['PETCT', 'CT', 'CT-PET'], ['PETMRI', 'MRI', 'MRI-PET']];
  for (const metric of ['dice', 'nsd'] as const) for (const [study, structural, pair] of pairs) {
    for (const organ of organs) {
      const bySubject = new Map<string, { a?: number; b?: number }>();
      for (const r of records) {
        const score = r[metric];
        if (r.study !== study || r.organ !== organ || typeof score !== 'number') continue;
        const e = bySubject.get(r.subject) ?? {};
        if (r.modality === structural) e.a = score;
        else if (r.modality === 'PET') e.b = score;
        bySubject.set(r.subject, e);
      }
      const both = [...bySubject.values()].filter((e) => e.a !== undefined && e.b !== undefined) as { a: number; b: number }[];
      if (both.length === 0) continue;
      gaps.push({
        organ, study, pair, metric, n: both.length,
        meanA: mean(both.map((e) => e.a))!,
        meanB: mean(both.map((e) => e.b))!,
        meanDiff: mean(both.map((e) => e.a - e.b))!,
      });
    }
  }
  const errors = new Set(records.filter((r) => r.status === 'error').map((r) => `${r.study}_${r.subject}_${r.modality}`)).size;
  return { cells, modalities, gaps, errors };
}
