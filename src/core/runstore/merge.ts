/**
 * Merging shard runs (`evaluate --shard i/N`) into one run identical to the unsharded run: the same cases.jsonl
 * bytes (canonical order, runstore/shard.ts), hence the same summary, and the same pred/ (and prob/) files,
 * hard-linked where the file system allows, copied otherwise. The run store stays below analysis: the caller
 * summarizes the merged records (the summary is not a file of the run).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkSameRun } from './resume';
import { CASES_FILE, readRun, RUN_FILE, writeJsonAtomic, type StoredRun } from './runStore';
import type { CaseRecord, RunManifest } from './schema';
import { caseKey, canonicalOrder, writeCasesCanonical } from './shard';

export interface MergeResult { runDir: string; manifest: RunManifest; records: CaseRecord[] }

function linkOrCopy(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.rmSync(to, { force: true });
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile() && !d.name.endsWith('.tmp'))
    .map((d) => path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

/**
 * Checks that `shardDirs` are the complete, disjoint, finished shards 1..N of one run (same model sha256, card,
 * protocol, dataset root and organs) and writes the merged run to `outDir`. Throws naming the shard run at fault.
 */
export function mergeRuns(shardDirs: readonly string[], outDir: string): MergeResult {
  if (shardDirs.length === 0) throw new Error('merge needs the shard run directories');
  const runs: StoredRun[] = shardDirs.map((d) => readRun(path.resolve(d)));
  for (const r of runs) {
    if (!r.manifest.shard) throw new Error(`${path.join(r.dir, RUN_FILE)}: not a shard run (no "shard"; made without --shard)`);
    if (!r.manifest.finishedAt) throw new Error(`${path.join(r.dir, RUN_FILE)}: shard ${r.manifest.shard.index}/${r.manifest.shard.count} did not finish (resume it with evaluate --resume)`);
  }
  const first = runs[0];
  const count = first.manifest.shard!.count;
  for (const r of runs.slice(1)) {
    checkSameRun(r.dir, r.manifest, { ...first.manifest, shard: r.manifest.shard }, `merge with ${first.dir}`);
    if (r.manifest.shard!.count !== count) throw new Error(`${path.join(r.dir, RUN_FILE)}: shard ${r.manifest.shard!.index}/${r.manifest.shard!.count} is not one of ${count} like ${first.dir}`);
  }
  const seen = new Map<number, string>();
  for (const r of runs) {
    const i = r.manifest.shard!.index;
    if (seen.has(i)) throw new Error(`shard ${i}/${count} given twice: ${seen.get(i)} and ${r.dir}`);
    seen.set(i, r.dir);
  }
  const missing = Array.from({ length: count }, (_, k) => k + 1).filter((i) => !seen.has(i));
  if (missing.length) throw new Error(`missing shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')}: merge needs all ${count}`);
  const owner = new Map<string, string>();
  for (const r of runs) {
    for (const key of new Set(r.cases.map(caseKey))) {
      if (owner.has(key)) throw new Error(`case ${key} is in two shard runs (${owner.get(key)} and ${r.dir}): the shards overlap`);
      owner.set(key, r.dir);
    }
  }
  const out = path.resolve(outDir);
  if (runs.some((r) => path.resolve(r.dir) === out)) throw new Error(`${out}: the merged run must go to a new directory, not a shard's`);
  if (fs.existsSync(path.join(out, RUN_FILE))) throw new Error(`${out}: already holds a run (${RUN_FILE}); merge into a new directory`);
  const records = canonicalOrder(runs.flatMap((r) => r.cases));
  for (const r of runs) {
    for (const sub of ['pred', 'prob']) {
      for (const f of filesUnder(path.join(r.dir, sub))) linkOrCopy(f, path.join(out, path.relative(r.dir, f)));
    }
  }
  fs.mkdirSync(path.join(out, 'pred'), { recursive: true });
  writeCasesCanonical(path.join(out, CASES_FILE), records);
  const ordered = [...runs].sort((a, b) => a.manifest.shard!.index - b.manifest.shard!.index);
  const { shard: _shard, resumed: _resumed, ...base } = first.manifest;
  const manifest: RunManifest = {
    ...base,
    startedAt: ordered.map((r) => r.manifest.startedAt).sort()[0],
    finishedAt: new Date().toISOString(),
    counts: {
      cases: ordered.reduce((n, r) => n + (r.manifest.counts?.cases ?? 0), 0),
      errors: ordered.reduce((n, r) => n + (r.manifest.counts?.errors ?? 0), 0),
    },
    merged: { shards: ordered.map((r) => ({ index: r.manifest.shard!.index, count, dir: r.dir, startedAt: r.manifest.startedAt, finishedAt: r.manifest.finishedAt })) },
  };
  writeJsonAtomic(path.join(out, RUN_FILE), manifest);
  return { runDir: out, manifest, records };
}
