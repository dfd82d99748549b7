import type { CaseRecord } from '../runstore/schema';

/** Columns of the per-case CSV, in order; one row per case record (one case x organ, or one case-level error). */
export const CSV_COLUMNS = [
  'subject', 'study', 'modality', 'organ', 'label_id', 'status', 'dice', 'iou', 'nsd', 'hd95', 'hd', 'assd',
  'volume_gt_ml', 'volume_pred_ml', 'volume_error_ml', 'tp', 'fp', 'fn', 'tau_mm', 'error',
] as const;

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF; inner quotes doubled. null/undefined -> empty. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function cell(r: CaseRecord, c: (typeof CSV_COLUMNS)[number]): unknown {
  return c === 'label_id' ? r.labelId : (r as unknown as Record<string, unknown>)[c];
}

/** The run's case records as CSV: header line, then one CRLF-terminated line per record (RFC 4180). */
export function casesCsv(cases: readonly CaseRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of cases) lines.push(CSV_COLUMNS.map((c) => csvField(cell(r, c))).join(','));
  return lines.join('\r\n') + '\r\n';
}
