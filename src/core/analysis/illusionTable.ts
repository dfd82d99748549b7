/**
 * The generalization illusion as one table (the report's and the extension's view of gap.ts illusion()): one row
 * per organ and metric the card reports, with the reported score, the measured mean on each scan (CT, PET of the
 * PET/CT study, MRI, PET of the PET/MRI study) and the gap reported - measured on each; positive = the paper's
 * number is higher than this data shows. `worst` is the scan with the largest gap (ties: the first scan in
 * ILLUSION_SCANS order), where the reported number misleads most.
 */
import type { Modality, Study } from '../dataset/organs';
import type { IllusionRow } from './gap';
import type { ScoreMetric } from './scores';

/** A scan as the report names it: `<study>/<modality>`. */
export type ScanKey = 'PETCT/CT' | 'PETCT/PET' | 'PETMRI/MRI' | 'PETMRI/PET';

export const ILLUSION_SCANS: ReadonlyArray<{ key: ScanKey; study: Study; modality: Modality; label: string }> = [
  { key: 'PETCT/CT', study: 'PETCT', modality: 'CT', label: 'CT' },
  { key: 'PETCT/PET', study: 'PETCT', modality: 'PET', label: 'PET (PET/CT)' },
  { key: 'PETMRI/MRI', study: 'PETMRI', modality: 'MRI', label: 'MRI' },
  { key: 'PETMRI/PET', study: 'PETMRI', modality: 'PET', label: 'PET (PET/MRI)' },
];

export interface IllusionTableRow {
  organ: string;
  metric: ScoreMetric;
  reported: number;
  source?: string;
  /** Measured mean per scan; null where the run has no score of the organ on that scan. */
  measured: Record<ScanKey, number | null>;
  /** reported - measured per scan; null where not measured. */
  gap: Record<ScanKey, number | null>;
  worst: { scan: ScanKey; gap: number } | null;
}

export interface IllusionTable {
  /** The scans measured for at least one reported organ, in ILLUSION_SCANS order: the table's columns. */
  scans: ScanKey[];
  rows: IllusionTableRow[];
}

const none = (): Record<ScanKey, number | null> => ({ 'PETCT/CT': null, 'PETCT/PET': null, 'PETMRI/MRI': null, 'PETMRI/PET': null });

/** Reshapes illusion() rows (one per organ, metric and scan) into one row per organ and metric, in their order. */
export function illusionTable(rows: readonly IllusionRow[]): IllusionTable {
  const byKey = new Map<string, IllusionTableRow>();
  const seen = new Set<ScanKey>();
  for (const r of rows) {
    const k = JSON.stringify([r.organ, r.metric]);
    let row = byKey.get(k);
    if (!row) {
      row = { organ: r.organ, metric: r.metric, reported: r.reported, ...(r.source ? { source: r.source } : {}), measured: none(), gap: none(), worst: null };
      byKey.set(k, row);
    }
    const scan = `${r.study}/${r.modality}` as ScanKey;
    row.measured[scan] = r.measured;
    row.gap[scan] = r.diff;
    seen.add(scan);
  }
  for (const row of byKey.values()) {
    for (const { key } of ILLUSION_SCANS) {
      const g = row.gap[key];
      if (g !== null && (!row.worst || g > row.worst.gap)) row.worst = { scan: key, gap: g };
    }
  }
  return { scans: ILLUSION_SCANS.map((s) => s.key).filter((k) => seen.has(k)), rows: [...byKey.values()] };
}

/** The column label of a scan ("CT", "PET (PET/CT)", ...). */
export function scanLabel(key: ScanKey): string {
  return ILLUSION_SCANS.find((s) => s.key === key)!.label;
}
