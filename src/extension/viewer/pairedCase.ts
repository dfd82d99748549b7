/**
 * The paired view's other scan: the same subject of the same study in the other modality, same organ, from the
 * same run (CT | PET of a PET/CT study, MRI | PET of a PET/MRI study). Pure: no `vscode` import.
 */
import type { CaseRecord } from '../../core/runstore/schema';

/** Modalities shown side by side, left first: the anatomical scan, then PET. */
export function pairedModality(record: Pick<CaseRecord, 'study' | 'modality'>): string {
  if (record.modality !== 'PET') return 'PET';
  return record.study === 'PETMRI' ? 'MRI' : 'CT';
}

export type PairLookup =
  | { record: CaseRecord }
  | { missing: string };

export function findPairedRecord(records: readonly CaseRecord[], record: CaseRecord): PairLookup {
  const modality = pairedModality(record);
  const same = (r: CaseRecord) => r.study === record.study && r.subject === record.subject && r.modality === modality;
  const found = records.find((r) => same(r) && r.organ === record.organ) ?? records.find((r) => same(r) && r.organ === null);
  if (found) return { record: found };
  return { missing: `No ${modality} scan of ${record.subject} (${record.study}) in this run${records.some(same) ? ` for ${record.organ ?? 'this organ'}` : ''}.` };
}

/** Left pane first: CT or MRI on the left, PET on the right, whichever the user opened. */
export function leftFirst<T extends { modality: string }>(a: T, b: T): [T, T] {
  return a.modality === 'PET' && b.modality !== 'PET' ? [b, a] : [a, b];
}
