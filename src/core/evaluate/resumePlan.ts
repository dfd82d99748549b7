/**
 * Resuming a run (EvaluateOptions.resume): which cases are finished and kept as written (runstore/resume.ts), and
 * the manifest carrying the first start time and this resume's counts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prepareResume, type ResumeState } from '../runstore/resume';
import type { RunManifest } from '../runstore/schema';
import { caseKey } from '../runstore/shard';
import type { EvaluateEvent } from './evaluateApi';
import type { RunPlan } from './plan';

/** Reads the run to continue and updates `plan.manifest` in place (startedAt, resumed) before it is written. */
export function planResume(plan: RunPlan, givenRunDir: string | undefined, emit: (e: EvaluateEvent) => void): ResumeState {
  const { runDir, manifest, dataset, cases, problems } = plan;
  if (!givenRunDir) throw new Error('resume needs the run directory to continue (--out <runDir>)');
  const resume = prepareResume(runDir, manifest, dataset.organs.byId.size);
  const previous = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunManifest;
  const todo = [...cases, ...problems].filter((c) => !resume.finished.has(caseKey(c))).length;
  manifest.startedAt = previous.startedAt;
  manifest.resumed = [...(previous.resumed ?? []), { at: new Date().toISOString(), casesKept: resume.finished.size, casesRun: todo, tornBytes: resume.tornBytes }];
  emit({ type: 'log', level: 'info', message: `resuming ${runDir}: ${resume.finished.size} finished case(s) kept, ${todo} to run${resume.tornBytes ? `, torn last line (${resume.tornBytes} bytes) dropped` : ''}` });
  return resume;
}
