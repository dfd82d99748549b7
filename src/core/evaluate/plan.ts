/**
 * What a run will do, decided before any case runs: how the model's classes map to the dataset's organs, which
 * probability maps are written, the cases of this run (subjects asked, shard), the metric protocol, the run
 * directory and the manifest that records all of it (run.json).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Case, CaseProblem, Dataset } from '../dataset/discover';
import { makeProtocol, toleranceFor, type MetricProtocol, type ToleranceOverrides, type ToleranceSource } from '../metrics/protocol';
import type { LoadedModel } from '../model/predict';
import { allowedBatchSize } from '../model/session';
import { isQueried } from '../model/classQueries';
import { newRunDir } from '../runstore/runStore';
import { RUN_FORMAT_VERSION, type RunManifest, type RunPrompting } from '../runstore/schema';
import { shardSubjects } from '../runstore/shard';
import type { EvaluateEvent, EvaluateOptions } from './evaluateApi';
import { mapModelClasses, type LabelMapping } from './labelMapping';
import { PAPER_PROTOCOL, resolvePrompting } from './paperProtocol';
import { versions } from './versions';

export interface ProbabilityRequest {
  organ: string;
  id: number;
  classes: number[];
}

export interface RunPlan {
  modelPath: string;
  /** The model file's name without .onnx: names the run directory and the predictions' NIfTI description. */
  modelName: string;
  dataset: Dataset;
  mapping: LabelMapping;
  batchSize: number;
  probabilityOrgans: ProbabilityRequest[];
  /** This run's cases and dataset problems (subjects asked, shard), in discovery order. */
  cases: Case[];
  problems: CaseProblem[];
  /** Every organ of the dataset, by label id: what each case is scored on. */
  organRequests: Array<{ id: number; organ: string }>;
  protocol: MetricProtocol;
  /** How each organ is asked for (paperProtocol.ts), recorded in the manifest. */
  prompting: RunPrompting;
  runDir: string;
  manifest: RunManifest;
}

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The organs asked for probability maps, each with the model classes that map to it (none: the model cannot
 * say). Unknown organ names fail up front, naming the dataset's organs.
 */
export function probabilityRequests(asked: readonly string[] | 'all' | undefined, organs: ReadonlyMap<number, string>, lut: Uint16Array): ProbabilityRequest[] {
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

/** Logs the model card, inference settings and label mapping as it decides them; the manifest is not written yet. */
export async function planRun(opts: EvaluateOptions, modelPath: string, dataset: Dataset, model: LoadedModel, emit: (e: EvaluateEvent) => void): Promise<RunPlan> {
  emit({ type: 'log', level: 'info', message: `model card: ${model.cardSource} (${model.cardFiles.join(', ')})` });
  for (const w of model.warnings) emit({ type: 'log', level: 'warn', message: w });
  const { prompting, warnings: promptingWarnings } = resolvePrompting(opts, model.card, modelPath);
  for (const w of promptingWarnings) emit({ type: 'log', level: 'warn', message: w });
  // a model asked for its classes runs its windows one at a time (model/classQueries.ts)
  const batch = isQueried(model.card) ? { batchSize: 1, note: (opts.batchSize ?? 1) > 1 ? 'this model is asked for its classes (classPrompt / prompt.text): windows run one at a time' : undefined } : allowedBatchSize(model.session, model.card.inputs.image, opts.batchSize ?? 1);
  if (batch.note) emit({ type: 'log', level: 'warn', message: batch.note });
  emit({ type: 'log', level: 'info', message: `inference: ${opts.device ?? 'cpu'}, ${opts.threads ?? 'default'} threads, overlap ${opts.overlap ?? model.card.overlap ?? 0.5}, batch ${batch.batchSize}, TTA ${opts.tta ? 'mirroring' : 'off'}${opts.bandDtype === 'float16' ? ', float16 band' : ''}` });
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
  // umd-paper takes no tolerance override: resolvePrompting refused the others, the card's is left out
  const overrides: Array<[ToleranceSource, ToleranceOverrides | undefined]> =
    opts.protocol === PAPER_PROTOCOL ? [] : [['card', model.card.nsdToleranceMm], ...(opts.toleranceOverrides ?? [])];
  const protocol: MetricProtocol = makeProtocol(opts.protocol ?? 'umd', overrides);
  protocol.toleranceByOrganMm = Object.fromEntries([...dataset.organs.byId].map(([id, organ]) => [organ, toleranceFor(protocol, organ, id)]));
  const modelName = path.basename(modelPath).replace(/\.onnx$/i, '');
  const runDir = path.resolve(opts.runDir ?? newRunDir(opts.runsRoot ?? path.join(process.cwd(), '.umd', 'runs'), modelName));
  const manifest: RunManifest = {
    format: RUN_FORMAT_VERSION,
    model: { path: modelPath, sha256: await sha256File(modelPath), name: modelName, ...(model.decoder ? { decoder: { path: model.decoder.path, sha256: await sha256File(model.decoder.path) } } : {}) },
    card: model.card,
    cardSource: model.cardSource,
    cardFiles: model.cardFiles,
    dataset: { root: dataset.root, organs: Object.fromEntries([...dataset.organs.byId].map(([id, n]) => [String(id), n])) },
    labelMapping: { matches: mapping.matches, excluded: mapping.excluded, unmatched: mapping.unmatched },
    protocol,
    prompting,
    inference: {
      device: opts.device ?? 'cpu', threads: opts.threads ?? null, overlap: opts.overlap ?? model.card.overlap ?? 0.5,
      batchSize: batch.batchSize, ttaAxes: opts.tta === true ? [0, 1, 2] : opts.tta ? [...opts.tta] : [],
      ...(opts.bandDtype === 'float16' ? { bandDtype: 'float16' as const } : {}),
    },
    versions: versions(),
    startedAt: new Date().toISOString(),
    ...(opts.shard ? { shard: { index: opts.shard.index, count: opts.shard.count } } : {}),
  };
  const organRequests = [...dataset.organs.byId.keys()].map((id) => ({ id, organ: dataset.organs.byId.get(id)! }));
  return { modelPath, modelName, dataset, mapping, batchSize: batch.batchSize, probabilityOrgans, cases, problems, organRequests, protocol, prompting, runDir, manifest };
}
