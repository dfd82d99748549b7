/**
 * The main job: a model on every case of a dataset -> per-organ scores in a run directory.
 *
 * Flow: plan the run (plan.ts: cases, protocol, manifest), take over the finished cases of a resumed run
 * (resumePlan.ts), record each dataset problem as a case error, run every case (runCase.ts: read image ->
 * model classes on the image grid -> dataset label ids -> resampled onto the study's label grid -> all metrics per
 * organ -> records appended to cases.jsonl, prediction written to pred/), then finish (finish.ts). A failing case
 * becomes an `error` record naming the file and the problem (caseRecords.ts); the run goes on. Labels are read
 * once per study and shared by its images.
 */
import * as path from 'node:path';
import { discoverDataset, type Dataset } from '../dataset/discover';
import { maxVolumeBytes } from '../nifti/limits';
import { SurfacePool } from '../metrics/surfacePool';
import { loadModel, type LoadedModel } from '../model/predict';
import { Eta } from './eta';
import { RunWriter } from '../runstore/runStore';
import type { ResumeState } from '../runstore/resume';
import { isCaseError, type CaseRecord } from '../runstore/schema';
import type { EvaluateOptions, EvaluateResult } from './evaluateApi';
import { caseErrorRecord, type CaseName } from './caseRecords';
import { finishRun } from './finish';
import { planRun } from './plan';
import { planResume } from './resumePlan';
import { runCase, type CaseRunner } from './runCase';

export type { EvaluateEvent, EvaluateOptions, EvaluateResult } from './evaluateApi';
export { probabilityRequests, sha256File } from './plan';

export async function evaluateRun(opts: EvaluateOptions): Promise<EvaluateResult> {
  const emit = opts.onEvent ?? (() => {});
  const modelPath = path.resolve(opts.modelPath);
  const dataset: Dataset = discoverDataset(opts.datasetRoot);
  if (opts.overlap !== undefined && !(opts.overlap >= 0 && opts.overlap < 1)) throw new Error(`overlap must be in [0, 1) (got ${opts.overlap})`);
  maxVolumeBytes({ maxVolumeMB: opts.maxVolumeMB }); // a bad limit fails the run up front, not every case
  const model: LoadedModel = await loadModel(modelPath, { threads: opts.threads, device: opts.device });
  if (opts.prompt && model.card.kind !== 'promptable') {
    await model.close();
    throw new Error(`--prompt ${opts.prompt.kind}: ${modelPath} is a semantic model (card kind "${model.card.kind}"); prompts are for kind "promptable"`);
  }
  let pool: SurfacePool | undefined;
  try {
    const plan = await planRun(opts, modelPath, dataset, model, emit);
    const { runDir, manifest, cases, problems } = plan;
    let resume: ResumeState | undefined;
    if (opts.resume) resume = planResume(plan, opts.runDir, emit);
    const writer = new RunWriter(runDir, manifest);
    const total = cases.length + problems.length;
    emit({ type: 'started', runDir, total });
    const records: CaseRecord[] = [...(resume?.kept ?? [])];
    let errors = resume?.kept.filter(isCaseError).length ?? 0;
    let done = resume?.finished.size ?? 0;
    pool = new SurfacePool(opts.metricThreads);

    const errorRecord = (c: CaseName & { id: string }, image: string, file: string, message: string): CaseRecord => {
      errors++;
      emit({ type: 'case-error', caseId: c.id, file, message });
      return caseErrorRecord(c, dataset.root, image, message);
    };

    for (const p of problems) {
      if (resume?.finished.has(p.id)) continue;
      const rec = errorRecord(p, p.file, p.file, `${p.file}: ${p.message}`);
      writer.appendCase([rec]);
      records.push(rec);
      done++;
    }

    const runner: CaseRunner = { opts, plan, model, pool };
    let cancelled = false;
    const eta = new Eta(cases.filter((c) => !resume?.finished.has(c.id)).length);
    for (const c of cases) {
      if (resume?.finished.has(c.id)) continue;
      if (opts.signal?.aborted) { cancelled = true; break; }
      const message = `${c.study} ${c.subject} ${c.modality}`;
      emit({ type: 'progress', done, total, message, etaSeconds: eta.secondsLeft(0) });
      let lastWindowEvent = Date.now();
      const onProgress = (w: number, wt: number): void => {
        const t = Date.now();
        if (w === 0 || w === wt || t - lastWindowEvent < 2000) return;
        lastWindowEvent = t;
        emit({ type: 'window-progress', done, total, windowsDone: w, windowsTotal: wt, etaSeconds: eta.secondsLeft(w / wt), message });
      };
      let recs: CaseRecord[];
      try {
        recs = await runCase(runner, c, onProgress);
      } catch (e) {
        if (opts.signal?.aborted) { cancelled = true; break; }
        const err = e as Error & { file?: string };
        const file = err.file ?? c.image;
        const message = err.message.includes(path.basename(file)) ? err.message : `${file}: ${err.message}`;
        recs = [errorRecord(c, c.image, file, message)];
      }
      writer.appendCase(recs);
      records.push(...recs);
      done++;
      eta.caseDone();
    }
    return finishRun(plan, writer, records, { done, total, errors, cancelled }, emit);
  } finally {
    await pool?.close();
    await model.close();
  }
}

/** Continues the interrupted run in `opts.runDir` (see EvaluateOptions.resume and runstore/resume.ts). */
export function resumeRun(opts: EvaluateOptions & { runDir: string }): Promise<EvaluateResult> {
  return evaluateRun({ ...opts, resume: true });
}
