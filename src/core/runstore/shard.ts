/**
 * Sharding a run over machines, and the canonical order of a run's records (which evaluate, resume and merge all
 * write, so a merged or resumed run is byte-identical to an uninterrupted, unsharded one).
 *
 * Unit of sharding: the subject. All scans of a subject (CT, PET, MRI, in both studies) go to one shard, so each
 * study's labels are read once per shard and a subject's structural/PET pair is scored by the same process (the
 * gap analysis pairs them). Subjects are sorted by name and dealt round-robin: the k-th subject (0-based) goes to
 * shard (k mod N) + 1. That is deterministic for a given dataset, balanced to within one subject per shard, and
 * needs no coordination between machines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { STUDY_MODALITIES, type Study } from '../dataset/organs';
import type { CaseRecord } from './schema';

/** Shard `index` of `count`, 1-based: `--shard 1/4` .. `--shard 4/4`. */
export interface ShardSpec { index: number; count: number }

/** Parses "i/N" (1 <= i <= N, integers); throws a message naming the value otherwise. */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`--shard must be i/N with 1 <= i <= N (e.g. 2/4), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new Error(`--shard must be i/N with 1 <= i <= N (shards are numbered from 1), got "${text}"`);
  return { index, count };
}

/** The subjects (of `all`) that shard `spec` evaluates: sorted names, dealt round-robin. */
export function shardSubjects(all: Iterable<string>, spec: ShardSpec): Set<string> {
  const sorted = [...new Set(all)].sort();
  return new Set(sorted.filter((_, k) => k % spec.count === spec.index - 1));
}

/** `<study>_<subject>_<modality>`, the case a record belongs to. */
export function caseKey(r: Pick<CaseRecord, 'study' | 'subject' | 'modality'>): string {
  return `${r.study}_${r.subject}_${r.modality}`;
}

/**
 * Canonical record order = dataset discovery order: study (PETCT, PETMRI), subject name (sorted as discovery does),
 * modality in the study's order (CT/MRI, then PET); records of one case keep their written order (organ id order).
 * The sort is stable, so a file already in this order is left unchanged.
 */
export function canonicalOrder(records: readonly CaseRecord[]): CaseRecord[] {
  const studies = Object.keys(STUDY_MODALITIES) as Study[];
  const rank = (r: CaseRecord): [number, string, number] => [
    studies.indexOf(r.study), r.subject, (STUDY_MODALITIES[r.study] as readonly string[]).indexOf(r.modality),
  ];
  return records.map((r, n) => ({ r, n, k: rank(r) })).sort((a, b) =>
    a.k[0] - b.k[0] || (a.k[1] < b.k[1] ? -1 : a.k[1] > b.k[1] ? 1 : 0) || a.k[2] - b.k[2] || a.n - b.n,
  ).map((x) => x.r);
}

/** One JSON line per record, as RunWriter appends them. */
export function casesJsonl(records: readonly CaseRecord[]): string {
  return records.map((r) => JSON.stringify(r) + '\n').join('');
}

/** Writes `records` to `file` in canonical order, atomically (temp file + rename). */
export function writeCasesCanonical(file: string, records: readonly CaseRecord[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, casesJsonl(canonicalOrder(records)));
  fs.renameSync(tmp, file);
}
