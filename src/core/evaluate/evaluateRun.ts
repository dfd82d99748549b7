/**
 * The main job: a model on every case of a dataset -> per-organ scores in a run directory.
 *
 * Flow per case: read image -> model classes on the image grid -> dataset label ids -> resampled (nearest,
 * through the affines) onto the study's label grid -> all metrics per organ -> records appended to cases.jsonl,
 * prediction written to pred/. A failing case becomes an `error` record naming the file and the problem; the
 * run goes on. Labels are read once per study and shared by its images.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoverDataset, type Case, type Dataset } from '../dataset/discover';
import { spacingMm, voxelToWorld, type Grid } from '../geometry/affine';
import { resampleNearest } from '../geometry/resample';
import { readImage, readLabels } from '../nifti/read';
import { maxVolumeBytes } from '../nifti/limits';
import type { LabelVolume } from '../geometry/volume';
import { writeNifti } from '../nifti/write';
import { caseMetrics } from '../metrics/caseMetrics';
import type { PromptSpec } from '../prompts/promptSpec';
import { promptableCase } from './promptableCase';
import { makeProtocol, toleranceFor, type MetricProtocol, type ProtocolName, type ToleranceOverrides, type ToleranceSource } from '../metrics/protocol';
import { SurfacePool } from '../metrics/surfacePool';
import { loadModel, predictClasses, type LoadedModel } from '../model/predict';
import { allowedBatchSize, type Device } from '../model/session';
import type { MirrorAxis } from '../model/inference';
import { Eta } from './eta';
import { summarize, type RunSummary } from '../analysis/summary';
import { newRunDir, RunWriter } from '../runstore/runStore';
import { insideRunDir } from '../runstore/confine';
import { shardSubjects, caseKey, writeCasesCanonical, type ShardSpec } from '../runstore/shard';
import { prepareResume, type ResumeState } from '../runstore/resume';
import type { CaseRecord, RunManifest } from '../runstore/schema';
import { RUN_FORMAT_VERSION } from '../runstore/schema';
import { applyMapping, mapModelClasses } from './labelMapping';
import { versions } from './versions';

export interface EvaluateOptions {
  modelPath: string;
  datasetRoot: string;
  runDir?: string;
  runsRoot?: string;
  subjects?: readonly string[];
  threads?: number;
  /** Inference: execution provider (default cpu), sliding-window overlap (default: the card's), windows per run
   * (default 1), mirroring TTA (default off). */
  device?: Device;
  overlap?: number;
  batchSize?: number;
  tta?: boolean | readonly MirrorAxis[];
  /** Metric protocol to start from (default umd) and tolerance overrides after the card's (settings, CLI). */
  protocol?: ProtocolName;
  toleranceOverrides?: Array<[ToleranceSource, ToleranceOverrides | undefined]>;
  /**
   * Organs (dataset names) whose softmax probability is written per case to prob/<case>/<organ>.nii.gz (float32,
   * on the model's grid; an organ the model splits over several classes gets their sum), or 'all'. Off by default:
   * a whole-body probability map is hundreds of MB before compression.
   */
  probabilities?: readonly string[] | 'all';
  /** Worker threads for the surface metrics of a case's organs (default: the cores available). */
  metricThreads?: number;
  /** Largest volume read, in MiB (NIfTI ReadLimits.maxVolumeMB; default 2048): a bigger one is a case error. */
  maxVolumeMB?: number;
  /** Evaluate only this shard's subjects (runstore/shard.ts); recorded in run.json, merged by `umd-lens merge`. */
  shard?: ShardSpec;
  /**
   * Continue the run in `runDir` (runstore/resume.ts): refuses when model, card, protocol, dataset or shard differ,
   * keeps every finished case as written, runs the rest; cases.jsonl ends in canonical order either way.
   */
  resume?: boolean;
  /**
   * Promptable models (card kind "promptable"): the prompt made from each organ's ground truth (default center),
   * its seed (random point, box jitter; default 0) and box jitter in mm (default 0). Refused for a semantic model.
   */
  prompt?: PromptSpec;
  promptSeed?: number;
  boxJitterMm?: number;
  signal?: AbortSignal;
  onEvent?: (e: EvaluateEvent) => void;
}

export type EvaluateEvent =
  | { type: 'started'; runDir: string; total: number }
  | { type: 'progress'; done: number; total: number; message: string; etaSeconds?: number }
  /** Within the current case (throttled): windows run so far, and the estimate of the whole run's time left. */
  | { type: 'window-progress'; done: number; total: number; windowsDone: number; windowsTotal: number; etaSeconds?: number; message: string }
  | { type: 'case-error'; caseId: string; file?: string; message: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** The last event: cases finished out of `total`, and whether the run stopped early (EvaluateResult.cancelled). */
  | { type: 'finished'; done: number; total: number; cancelled: boolean };

export interface EvaluateResult {
  runDir: string;
  manifest: RunManifest;
  records: CaseRecord[];
  summary: RunSummary;
  cancelled: boolean;
}


export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function worldBox(g: Grid): { lo: number[]; hi: number[] } {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const i of [-0.5, g.dims[0] - 0.5]) for (const j of [-0.5, g.dims[1] - 0.5]) for (const k of [-0.5, g.dims[2] - 0.5]) {
    const w = voxelToWorld(g.affine, [i, j, k]);
    for (let a = 0; a < 3; a++) { lo[a] = Math.min(lo[a], w[a]); hi[a] = Math.max(hi[a], w[a]); }
  }
  return { lo, hi };
}

function sameGrid(a: Grid, b: Grid): boolean {
  return a.dims.every((d, n) => d === b.dims[n]) && a.affine.every((v, n) => Math.abs(v - b.affine[n]) < 1e-4);
}

/**
 * The organs asked for probability maps, each with the model classes that map to it (none: the model cannot
 * say). Unknown organ names fail up front, naming the dataset's organs.
 */
export function probabilityRequests(asked: readonly string[] | 'all' | undefined, organs: ReadonlyMap<number, string>, lut: Uint16Array): Array<{ organ: string; id: number; classes: number[] }> {
  if (!asked || (asked !== 'all' && asked.length === 0)) return [];
  const byName = new Map([...organs].map(([id, name]) => [name.toLowerCase(), id]));
  const ids = asked === 'all' ? [...organs.keys()] : asked.map((name) => {
    const id = byName.get(name.trim().toLowerCase());
    if (id === undefined) throw new Error(`probabilities asked for "${name}", which is not an organ of this dataset (${[...organs.values()].join(', ')})`);
    return id;
  });
  return [...new Set(ids)].map((id) => ({
    organ: organs.get(id)!, id,
    classes: [...lut.keys()].filter((cls) => cls > 0 && lut[cls] === id),
  }));
}

/**
 * A label id the organ map does not name would be left out of every score without a trace: the map (umd.json)
 * and the data disagree, so the study's cases are errors naming the ids.
 */
function checkLabelIds(file: string, labels: LabelVolume, dataset: Dataset): LabelVolume {
  const seen = new Uint8Array(65536);
  const data = labels.data;
  for (let i = 0; i < data.length; i++) seen[data[i]] = 1;
  const unknown: number[] = [];
  for (let id = 1; id < seen.length; id++) if (seen[id] && !dataset.organs.byId.has(id)) unknown.push(id);
  if (unknown.length) {
    throw new CaseError(file, `${file}: label ids ${unknown.join(', ')} are not in the organ map (${path.join(dataset.root, 'umd.json')} names ${[...dataset.organs.byId.keys()].join(', ')})`);
  }
  return labels;
}

/** Error thrown for one case; carries the file at fault. */
class CaseError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
  }
}

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
    emit({ type: 'log', level: 'info', message: `model card: ${model.cardSource} (${model.cardFiles.join(', ')})` });
    for (const w of model.warnings) emit({ type: 'log', level: 'warn', message: w });
    const batch = allowedBatchSize(model.session, model.card.inputs.image, opts.batchSize ?? 1);
    if (batch.note) emit({ type: 'log', level: 'warn', message: batch.note });
    emit({ type: 'log', level: 'info', message: `inference: ${opts.device ?? 'cpu'}, ${opts.threads ?? 'default'} threads, overlap ${opts.overlap ?? model.card.overlap ?? 0.5}, batch ${batch.batchSize}, TTA ${opts.tta ? 'mirroring' : 'off'}` });
    const mapping = mapModelClasses(model.card, dataset.organs);
    const renamed = mapping.matches.filter((m) => m.by !== 'name');
    if (renamed.length) {
      emit({ type: 'log', level: 'info', message: `model classes scored as dataset organs: ${renamed.map((m) => `${m.modelName} -> ${m.organ} (${m.by})`).join(', ')}` });
    }
    if (mapping.excluded.length) {
      emit({ type: 'log', level: 'info', message: `model classes left unscored by the card's organMap: ${mapping.excluded.join(', ')}` });
    }
    if (mapping.unmatched.length) {
      emit({ type: 'log', level: 'warn', message: `model organs not in the dataset (not scored): ${mapping.unmatched.join(', ')}` });
    }
    const probabilityOrgans = probabilityRequests(opts.probabilities, dataset.organs.byId, mapping.lut);
    for (const p of probabilityOrgans.filter((q) => q.classes.length === 0)) {
      emit({ type: 'log', level: 'warn', message: `no model class maps to ${p.organ}: no probability map for it` });
    }
    const askedSubjects = opts.subjects ? new Set(opts.subjects) : undefined;
    const subjectFilter = opts.shard
      ? shardSubjects([...dataset.cases, ...dataset.problems].map((c) => c.subject).filter((s) => !askedSubjects || askedSubjects.has(s)), opts.shard)
      : askedSubjects;
    const cases = dataset.cases.filter((c) => !subjectFilter || subjectFilter.has(c.subject));
    const problems = dataset.problems.filter((p) => !subjectFilter || subjectFilter.has(p.subject));
    const protocol: MetricProtocol = makeProtocol(opts.protocol ?? 'umd', [['card', model.card.nsdToleranceMm], ...(opts.toleranceOverrides ?? [])]);
    protocol.toleranceByOrganMm = Object.fromEntries([...dataset.organs.byId].map(([id, organ]) => [organ, toleranceFor(protocol, organ, id)]));
    const modelName = path.basename(modelPath).replace(/\.onnx$/i, '');
    const runDir = path.resolve(opts.runDir ?? newRunDir(opts.runsRoot ?? path.join(process.cwd(), '.umd', 'runs'), modelName));
    const manifest: RunManifest = {
      format: RUN_FORMAT_VERSION,
      model: { path: modelPath, sha256: await sha256File(modelPath), name: modelName },
      card: model.card,
      cardSource: model.cardSource,
      cardFiles: model.cardFiles,
      dataset: { root: dataset.root, organs: Object.fromEntries([...dataset.organs.byId].map(([id, n]) => [String(id), n])) },
      labelMapping: { matches: mapping.matches, excluded: mapping.excluded, unmatched: mapping.unmatched },
      protocol,
      inference: {
        device: opts.device ?? 'cpu', threads: opts.threads ?? null, overlap: opts.overlap ?? model.card.overlap ?? 0.5,
        batchSize: batch.batchSize, ttaAxes: opts.tta === true ? [0, 1, 2] : opts.tta ? [...opts.tta] : [],
      },
      versions: versions(),
      startedAt: new Date().toISOString(),
      ...(opts.shard ? { shard: { index: opts.shard.index, count: opts.shard.count } } : {}),
    };
    let resume: ResumeState | undefined;
    if (opts.resume) {
      if (!opts.runDir) throw new Error('resume needs the run directory to continue (--out <runDir>)');
      resume = prepareResume(runDir, manifest, dataset.organs.byId.size);
      const previous = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunManifest;
      const todo = [...cases, ...problems].filter((c) => !resume!.finished.has(caseKey(c))).length;
      manifest.startedAt = previous.startedAt;
      manifest.resumed = [...(previous.resumed ?? []), { at: new Date().toISOString(), casesKept: resume.finished.size, casesRun: todo, tornBytes: resume.tornBytes }];
      emit({ type: 'log', level: 'info', message: `resuming ${runDir}: ${resume.finished.size} finished case(s) kept, ${todo} to run${resume.tornBytes ? `, torn last line (${resume.tornBytes} bytes) dropped` : ''}` });
    }
    const writer = new RunWriter(runDir, manifest);
    const total = cases.length + problems.length;
    emit({ type: 'started', runDir, total });
    const records: CaseRecord[] = [...(resume?.kept ?? [])];
    let errors = resume?.kept.filter((r) => r.status === 'error' && r.organ === null).length ?? 0;
    let done = resume?.finished.size ?? 0;
    const organIds = [...dataset.organs.byId.keys()];
    const organRequests = organIds.map((id) => ({ id, organ: dataset.organs.byId.get(id)! }));
    pool = new SurfacePool(opts.metricThreads);

    const errorRecord = (c: { subject: string; study: Case['study']; modality: Case['modality']; id: string }, image: string, file: string, message: string): CaseRecord => {
      errors++;
      emit({ type: 'case-error', caseId: c.id, file, message });
      return {
        subject: c.subject, study: c.study, modality: c.modality, organ: null, labelId: null, dice: null,
        volume_gt_ml: null, volume_pred_ml: null, status: 'error', image: path.relative(dataset.root, image), error: message,
      };
    };

    for (const p of problems) {
      if (resume?.finished.has(p.id)) continue;
      const rec = errorRecord(p, p.file, p.file, `${p.file}: ${p.message}`);
      writer.appendCase([rec]);
      records.push(rec);
      done++;
    }

    let labelsCache: { file: string; vol: LabelVolume } | undefined;
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
        const limits = { maxVolumeMB: opts.maxVolumeMB };
        if (labelsCache?.file !== c.labels) labelsCache = { file: c.labels, vol: checkLabelIds(c.labels, readLabels(c.labels, limits), dataset) };
        const labels = labelsCache.vol;
        const image = readImage(c.image, limits);
        const a = worldBox(image);
        const b = worldBox(labels);
        if ([0, 1, 2].some((ax) => a.hi[ax] <= b.lo[ax] || b.hi[ax] <= a.lo[ax])) {
          throw new CaseError(c.image, `${c.image}: image and labels (${c.labels}) do not overlap in world space; check their affines`);
        }
        const probFiles = new Map(probabilityOrgans.filter((p) => p.classes.length).map((p) => [p.id, path.join('prob', c.id, `${p.organ.replace(/[^A-Za-z0-9._-]+/g, '_')}.nii.gz`)]));
        if (model.card.kind === 'promptable') {
          const pc = await promptableCase(model, image, c.modality, labels, c.subject, organRequests, protocol,
            { spec: opts.prompt ?? { kind: 'center' }, seed: opts.promptSeed ?? 0, boxJitterMm: opts.boxJitterMm ?? 0, signal: opts.signal }, pool);
          const predRel = path.join('pred', `${c.id}.nii.gz`);
          writeNifti(insideRunDir(runDir, predRel), { dims: labels.dims, affine: labels.affine, data: pc.labelMap }, `umd-lens prompted ${modelName}`);
          recs = pc.organs.map(({ id, scores: s, ...p }) => ({
            subject: c.subject, study: c.study, modality: c.modality, organ: dataset.organs.byId.get(id)!, labelId: id,
            dice: s.dice, volume_gt_ml: s.volume_gt_ml, volume_pred_ml: s.volume_pred_ml, status: s.status,
            iou: s.iou, nsd: s.nsd, hd95: s.hd95, hd: s.hd, assd: s.assd, volume_error_ml: s.volume_error_ml,
            tp: s.tp, fp: s.fp, fn: s.fn, tau_mm: s.tau_mm, spacing_mm: spacingMm(labels.affine),
            image: path.relative(dataset.root, c.image), pred: predRel, ...p,
          }));
        } else {
          const classes = await predictClasses(model, image, c.modality, {
            signal: opts.signal, onProgress, overlap: opts.overlap, batchSize: batch.batchSize, tta: opts.tta,
            probabilities: probabilityOrgans.filter((p) => probFiles.has(p.id)).map((p) => ({ classes: p.classes, file: insideRunDir(runDir, probFiles.get(p.id)!) })),
          });
          const mapped: LabelVolume = { dims: classes.dims, affine: classes.affine, data: applyMapping(classes.data, mapping.lut) };
          const pred = sameGrid(mapped, labels) ? mapped : resampleNearest(mapped, labels);
          const scores = await caseMetrics(labels, labels.data, pred.data, organRequests, protocol, pool);
          const spacing = spacingMm(labels.affine);
          const predRel = path.join('pred', `${c.id}.nii.gz`);
          writeNifti(insideRunDir(runDir, predRel), pred, `umd-lens prediction ${modelName}`);
          recs = organIds.map((id) => {
            const s = scores.get(id)!;
            return {
              subject: c.subject, study: c.study, modality: c.modality, organ: dataset.organs.byId.get(id)!, labelId: id,
              dice: s.dice, volume_gt_ml: s.volume_gt_ml, volume_pred_ml: s.volume_pred_ml, status: s.status,
              iou: s.iou, nsd: s.nsd, hd95: s.hd95, hd: s.hd, assd: s.assd, volume_error_ml: s.volume_error_ml,
              tp: s.tp, fp: s.fp, fn: s.fn, tau_mm: s.tau_mm, spacing_mm: spacing,
              image: path.relative(dataset.root, c.image), pred: predRel,
              ...(probFiles.has(id) ? { probabilities: probFiles.get(id) } : {}),
            };
          });
        }
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
    emit({ type: 'finished', done, total, cancelled });
    const finished = writer.finish({ cases: done, errors });
    // a resumed run appended after its kept cases, and its problems came first: one canonical order for every run
    writeCasesCanonical(path.join(runDir, 'cases.jsonl'), records);
    const organOrder = [...dataset.organs.byId.values()];
    return { runDir, manifest: finished, records, summary: summarize(records, organOrder), cancelled };
  } finally {
    await pool?.close();
    await model.close();
  }
}

/** Continues the interrupted run in `opts.runDir` (see EvaluateOptions.resume and runstore/resume.ts). */
export function resumeRun(opts: EvaluateOptions & { runDir: string }): Promise<EvaluateResult> {
  return evaluateRun({ ...opts, resume: true });
}
