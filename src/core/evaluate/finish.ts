/**
 * The end of a run, finished or cancelled: the last event ('finished'), run.json with its finish time and counts,
 * cases.jsonl rewritten in canonical order, and the summary.
 */
import * as path from 'node:path';
import { summarize } from '../analysis/summary';
import type { RunWriter } from '../runstore/runStore';
import type { CaseRecord } from '../runstore/schema';
import { writeCasesCanonical } from '../runstore/shard';
import type { EvaluateEvent, EvaluateResult } from './evaluateApi';
import type { RunPlan } from './plan';

export function finishRun(
  plan: RunPlan, writer: RunWriter, records: CaseRecord[], counts: { done: number; total: number; errors: number; cancelled: boolean },
  emit: (e: EvaluateEvent) => void,
): EvaluateResult {
  const { runDir, dataset } = plan;
  const { done, total, errors, cancelled } = counts;
  emit({ type: 'finished', done, total, cancelled });
  const finished = writer.finish({ cases: done, errors });
  // a resumed run appended after its kept cases, and its problems came first: one canonical order for every run
  writeCasesCanonical(path.join(runDir, 'cases.jsonl'), records);
  const organOrder = [...dataset.organs.byId.values()];
  return { runDir, manifest: finished, records, summary: summarize(records, organOrder), cancelled };
}
