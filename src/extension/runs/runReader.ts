/**
 * Reads run directories (run.json + cases.jsonl, see src/core/runstore/schema.ts) and summarizes them for
 * the tree: mean Dice per modality, per organ, and each organ's cases worst first. Light: fs + types only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Modality } from '../../core/dataset/organs';
import { listRuns, readRun } from '../../core/runstore/runStore';
import type { CaseRecord, RunManifest } from '../../core/runstore/schema';

export interface RunInfo {
  dir: string;
  manifest: RunManifest;
  records: CaseRecord[];
}

export const MODALITY_ORDER: readonly Modality[] = ['CT', 'PET', 'MRI'];

/** Run directories under a runs root, newest first. */
export const listRunDirs = listRuns;

/** A run as the tree needs it (the run store's reader keeps every complete line of a run still being written). */
export function readRunInfo(dir: string): RunInfo {
  const { manifest, cases } = readRun(dir);
  return { dir, manifest, records: cases };
}

export function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Organs of a run in label-id order: from run.json's dataset map, then any others seen in the records. */
export function runOrgans(run: RunInfo): { id: number; name: string }[] {
  const organs = Object.entries(run.manifest.dataset?.organs ?? {})
    .map(([id, name]) => ({ id: Number(id), name }))
    .sort((a, b) => a.id - b.id);
  for (const r of run.records) {
    if (r.organ && !organs.some((o) => o.name === r.organ)) organs.push({ id: r.labelId ?? 0, name: r.organ });
  }
  return organs;
}

export interface OrganStats {
  organ: string;
  labelId: number | null;
  meanDice: number | null;
  n: number;
  skipped: number;
  /** Mean NSD at the run's tolerance (null for runs without surface metrics). */
  meanNsd: number | null;
  cases: CaseRecord[];
}

export interface ModalityStats {
  modality: Modality;
  meanDice: number | null;
  meanNsd: number | null;
  organs: OrganStats[];
}

/** Worst first: lowest Dice first; records without a score (error, both empty) after the scored ones. */
export function worstFirst(a: CaseRecord, b: CaseRecord): number {
  const da = a.dice ?? Infinity;
  const db = b.dice ?? Infinity;
  if (da !== db) return da - db;
  return `${a.subject}${a.study}`.localeCompare(`${b.subject}${b.study}`);
}

export function modalityStats(run: RunInfo): ModalityStats[] {
  const out: ModalityStats[] = [];
  const organs = runOrgans(run);
  for (const modality of MODALITY_ORDER) {
    const mine = run.records.filter((r) => r.modality === modality && r.organ);
    if (!mine.length) continue;
    const organStats: OrganStats[] = [];
    for (const o of organs) {
      const cases = mine.filter((r) => r.organ === o.name).sort(worstFirst);
      if (!cases.length) continue;
      const scores = cases.filter((r) => r.dice !== null).map((r) => r.dice as number);
      const nsds = cases.filter((r) => typeof r.nsd === 'number').map((r) => r.nsd as number);
      organStats.push({ organ: o.name, labelId: cases[0].labelId ?? o.id, meanDice: mean(scores), n: scores.length, skipped: cases.length - scores.length, meanNsd: mean(nsds), cases });
    }
    const organMeans = organStats.map((s) => s.meanDice).filter((d): d is number => d !== null);
    const organNsds = organStats.map((s) => s.meanNsd).filter((d): d is number => d !== null);
    out.push({ modality, meanDice: mean(organMeans), meanNsd: mean(organNsds), organs: organStats });
  }
  return out;
}

/** "umd, NSD at 1 mm" (with "custom" and "some organs differ" where the run overrode tolerances). */
export function protocolLabel(m: Pick<RunManifest, 'protocol'>): string | undefined {
  const p = m.protocol;
  if (!p) return undefined;
  return `${p.name}${p.custom ? ' (custom)' : ''}, NSD at ${p.toleranceMm.default} mm${Object.keys(p.toleranceMm.organs ?? {}).length ? ' (some organs differ)' : ''}`;
}

export function fmtDice(d: number | null | undefined): string {
  return d === null || d === undefined ? '—' : d.toFixed(3);
}

/** Files a case viewer needs: the scanned image, the study's labels, the prediction. */
export function caseFiles(run: RunInfo, r: CaseRecord): { image: string; labels: string; pred?: string; datasetRoot: string } {
  const datasetRoot = run.manifest.dataset.root;
  const resolve = (p: string) => {
    if (path.isAbsolute(p)) return p;
    const inRun = path.join(run.dir, p);
    return fs.existsSync(inRun) ? inRun : path.join(datasetRoot, p);
  };
  const studyDir = path.join(datasetRoot, r.study, r.subject);
  const labels = ['labels.nii.gz', 'labels.nii'].map((f) => path.join(studyDir, f)).find((f) => fs.existsSync(f)) ?? path.join(studyDir, 'labels.nii.gz');
  const image = r.image ? resolve(r.image) : path.join(studyDir, `${r.modality}.nii.gz`);
  const predRel = r.pred ?? `pred/${r.study}_${r.subject}_${r.modality}.nii.gz`;
  const pred = path.isAbsolute(predRel) ? predRel : path.join(run.dir, predRel);
  return { image, labels, pred: fs.existsSync(pred) ? pred : undefined, datasetRoot };
}
