/**
 * One case: read its labels (once per study) and image, check they share a place in the world, run the model
 * (semantic: classes -> dataset label ids -> resampled onto the labels' grid; promptable: each organ prompted on its
 * own), write the prediction to pred/ and score every organ. Failures throw, naming the file at fault where known.
 */
import * as path from 'node:path';
import type { Case, Dataset } from '../dataset/discover';
import { spacingMm, type Grid } from '../geometry/affine';
import { resampleNearest } from '../geometry/resample';
import type { ImageVolume, LabelVolume } from '../geometry/volume';
import { boxesOverlap, worldBox } from '../geometry/worldBox';
import { caseMetrics } from '../metrics/caseMetrics';
import type { SurfacePool } from '../metrics/surfacePool';
import { checkPredictMemory, predictClasses, type LoadedModel } from '../model/predict';
import { readImage, readImageStored, readLabels } from '../nifti/read';
import { writeNifti } from '../nifti/write';
import { insideRunDir } from '../runstore/confine';
import type { OrganRecord, RunPrompting } from '../runstore/schema';
import { organRecord } from './caseRecords';
import type { EvaluateOptions } from './evaluateApi';
import { applyMapping } from './labelMapping';
import type { RunPlan } from './plan';
import { promptableCase, type PromptOptions } from './promptableCase';
import { askedClasses } from './askedClasses';

/** Error thrown for one case; carries the file at fault. */
export class CaseError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
  }
}

function sameGrid(a: Grid, b: Grid): boolean {
  return a.dims.every((d, n) => d === b.dims[n]) && a.affine.every((v, n) => Math.abs(v - b.affine[n]) < 1e-4);
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

/** The prompt options of every organ, as the run's manifest records them (paperProtocol.ts). */
function promptOptions(p: RunPrompting, signal?: AbortSignal): PromptOptions {
  if (p.model !== 'promptable') throw new Error('a promptable model with a semantic prompting record');
  return { spec: p.prompt, seed: p.seed, boxJitterMm: p.boxJitterMm, crop: p.crop, signal };
}

/** What every case of a run shares. `labelsCache` keeps the last study's labels: its other images reuse them. */
export interface CaseRunner {
  opts: EvaluateOptions;
  plan: RunPlan;
  model: LoadedModel;
  pool: SurfacePool;
  /** `vol.data` is in the pool's heap (a copy when `copied`), where the metrics read it without a copy a case. */
  labelsCache?: { file: string; vol: LabelVolume; copied: boolean };
}

/** Runs and scores case `c`; `onProgress` gets the sliding window's progress (semantic models). */
export async function runCase(r: CaseRunner, c: Case, onProgress: (windowsDone: number, windowsTotal: number) => void): Promise<OrganRecord[]> {
  const { opts, model, pool } = r;
  const { dataset, runDir, modelName, protocol, organRequests, probabilityOrgans, mapping } = r.plan;
  const limits = { maxVolumeMB: opts.maxVolumeMB };
  if (r.labelsCache?.file !== c.labels) {
    const old = r.labelsCache;
    if (old?.copied) pool.heap.release(old.vol.data.byteOffset, old.vol.data.byteLength);
    r.labelsCache = undefined;
    const read = checkLabelIds(c.labels, readLabels(c.labels, limits), dataset);
    const data = pool.share(read.data);
    r.labelsCache = { file: c.labels, vol: { ...read, data }, copied: data !== read.data };
  }
  const labels = r.labelsCache.vol;
  const probFiles = new Map(probabilityOrgans.filter((p) => p.classes.length).map((p) => [p.id, path.join('prob', c.id, `${p.organ.replace(/[^A-Za-z0-9._-]+/g, '_')}.nii.gz`)]));
  const semantic = model.card.kind !== 'promptable';
  const probabilities = probabilityOrgans.filter((p) => probFiles.has(p.id)).map((p) => ({ classes: p.classes, file: insideRunDir(runDir, probFiles.get(p.id)!) }));
  // refused from the header before any voxel is read: a case error naming the image, the run goes on
  if (semantic) checkPredictMemory(model, c.image, { batchSize: r.plan.batchSize, tta: opts.tta, bandDtype: opts.bandDtype, probabilities, maxMemoryGB: opts.maxMemoryGB, limits });
  // a semantic model's image stays in its stored type (an int16 CT: half of float32), normalized per window
  const image = semantic ? readImageStored(c.image, limits) : readImage(c.image, limits);
  if (!boxesOverlap(worldBox(image), worldBox(labels))) {
    throw new CaseError(c.image, `${c.image}: image and labels (${c.labels}) do not overlap in world space; check their affines`);
  }
  const imageRel = path.relative(dataset.root, c.image);
  const predRel = path.join('pred', `${c.id}.nii.gz`);
  const spacing = spacingMm(labels.affine);
  if (!semantic) {
    const pc = await promptableCase(model, image as ImageVolume, c.modality, labels, c.subject, organRequests, protocol, {
      ...promptOptions(r.plan.prompting, opts.signal),
      onOrganError: (message) => opts.onEvent?.({ type: 'log', level: 'error', message: `${c.id}: ${message}` }),
    }, pool);
    writeNifti(insideRunDir(runDir, predRel), { dims: labels.dims, affine: labels.affine, data: pc.labelMap }, `umd-lens prompted ${modelName}`);
    return pc.organs.map(({ id, scores, ...p }) => organRecord(c, { id, organ: dataset.organs.byId.get(id)! }, scores, spacing, imageRel, predRel, p));
  }
  const asked = askedClasses(model, mapping.lut, c.modality);
  for (const message of asked.errors) opts.onEvent?.({ type: 'log', level: 'error', message: `${c.id}: ${message}` });
  const scored = organRequests.filter((o) => !asked.unscored.has(o.id));
  const classes = await predictClasses(model, image, c.modality, {
    signal: opts.signal, onProgress, overlap: opts.overlap, batchSize: r.plan.batchSize, tta: opts.tta, bandDtype: opts.bandDtype, probabilities, classes: asked.classes,
  });
  const mapped: LabelVolume = { dims: classes.dims, affine: classes.affine, data: applyMapping(classes.data, mapping.lut) };
  const pred = sameGrid(mapped, labels) ? mapped : resampleNearest(mapped, labels);
  const scores = await caseMetrics(labels, labels.data, pred.data, scored, protocol, pool);
  writeNifti(insideRunDir(runDir, predRel), pred, `umd-lens prediction ${modelName}`);
  return scored.map((o) => organRecord(c, o, scores.get(o.id)!, spacing, imageRel, predRel, probFiles.has(o.id) ? { probabilities: probFiles.get(o.id) } : {}));
}
