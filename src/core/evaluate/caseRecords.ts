/**
 * The records a case leaves in cases.jsonl (runstore/schema.ts): one per scored organ, semantic and promptable
 * models alike, or one case error. Key order is the file's: records are compared byte for byte across runs.
 */
import * as path from 'node:path';
import type { Case } from '../dataset/discover';
import type { OrganMetrics } from '../metrics/caseMetrics';
import type { CaseErrorRecord, OrganRecord } from '../runstore/schema';

/** What names a case: a Case, or a dataset problem (CaseProblem) that never got one. */
export type CaseName = Pick<Case, 'subject' | 'study' | 'modality'>;

/**
 * One scored organ. `extra` comes last: the probability map's file (semantic) or the prompt, clicks and overlap
 * (promptable).
 */
export function organRecord(
  c: CaseName, organ: { id: number; organ: string }, s: OrganMetrics, spacing: [number, number, number],
  image: string, predRel: string, extra: Partial<OrganRecord>,
): OrganRecord {
  return {
    subject: c.subject, study: c.study, modality: c.modality, organ: organ.organ, labelId: organ.id,
    dice: s.dice, volume_gt_ml: s.volume_gt_ml, volume_pred_ml: s.volume_pred_ml, status: s.status,
    iou: s.iou, nsd: s.nsd, hd95: s.hd95, hd: s.hd, assd: s.assd, volume_error_ml: s.volume_error_ml,
    tp: s.tp, fp: s.fp, fn: s.fn, tau_mm: s.tau_mm, spacing_mm: spacing,
    image, pred: predRel, ...extra,
  };
}

/** The one record of a case that failed; `image` is made relative to the dataset root. */
export function caseErrorRecord(c: CaseName, datasetRoot: string, image: string, message: string): CaseErrorRecord {
  return {
    subject: c.subject, study: c.study, modality: c.modality, organ: null, labelId: null, dice: null,
    volume_gt_ml: null, volume_pred_ml: null, status: 'error', image: path.relative(datasetRoot, image), error: message,
  };
}
