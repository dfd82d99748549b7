/**
 * Summaries of a run's case records: mean Dice per modality and organ, and the paired, intra-subject gap
 * between the structural scan and the PET of the same study (CT vs PET, MRI vs PET).
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
}

export interface ModalitySummary {
  modality: Modality;
  /** Mean over organs of each organ's mean Dice. */
  meanDice: number | null;
  organs: number;
}

export interface PairedGap {
  organ: string;
  study: Study;
  /** Structural modality (a) vs PET (b) of the same study and subject. */
  pair: 'CT-PET' | 'MRI-PET';
  n: number;
  meanA: number;
  meanB: number;
  /** mean over subjects of (dice_a - dice_b): positive = PET is worse. */
  meanDiff: number;
}

export interface RunSummary {
  cells: CellSummary[];
  modalities: ModalitySummary[];
  gaps: PairedGap[];
  errors: number;
}

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
    for (const organ of organs) {
      const rs = mine.filter((r) => r.organ === organ);
      if (rs.length === 0) continue;
      const scores = rs.filter((r) => r.dice !== null).map((r) => r.dice!);
      const m = mean(scores);
      if (m !== null) organMeans.push(m);
      cells.push({ modality, organ, meanDice: m, n: scores.length, skipped: rs.length - scores.length });
    }
    modalities.push({ modality, meanDice: mean(organMeans), organs: organMeans.length });
  }
  const gaps: PairedGap[] = [];
  const pairs: Array<[Study, Modality, PairedGap['pair']]> = [['PETCT', 'CT', 'CT-PET'], ['PETMRI', 'MRI', 'MRI-PET']];
  for (const [study, structural, pair] of pairs) {
    for (const organ of organs) {
      const bySubject = new Map<string, { a?: number; b?: number }>();
      for (const r of records) {
        if (r.study !== study || r.organ !== organ || r.dice === null) continue;
        const e = bySubject.get(r.subject) ?? {};
        if (r.modality === structural) e.a = r.dice;
        else if (r.modality === 'PET') e.b = r.dice;
        bySubject.set(r.subject, e);
      }
      const both = [...bySubject.values()].filter((e) => e.a !== undefined && e.b !== undefined) as { a: number; b: number }[];
      if (both.length === 0) continue;
      gaps.push({
        organ, study, pair, n: both.length,
        meanA: mean(both.map((e) => e.a))!,
        meanB: mean(both.map((e) => e.b))!,
        meanDiff: mean(both.map((e) => e.a - e.b))!,
      });
    }
  }
  const errors = new Set(records.filter((r) => r.status === 'error').map((r) => `${r.study}_${r.subject}_${r.modality}`)).size;
  return { cells, modalities, gaps, errors };
}
