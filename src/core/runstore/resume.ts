/**
 * Resuming an interrupted run (a killed process, a preempted node). A case is finished when cases.jsonl holds its
 * error record, or one record for every organ of the dataset's organ map; anything else of it (possible only
 * through a torn last line) is dropped and the case runs again. Predictions are written to a temp name and renamed
 * (writeNifti), so a pred/*.nii.gz present is complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CASES_FILE, RUN_FILE } from './runStore';
import { isCaseError, type CaseRecord, type RunManifest } from './schema';
import { caseKey, writeCasesCanonical } from './shard';

export interface ResumeState {
  /** Records of the finished cases, kept as they were (never recomputed). */
  kept: CaseRecord[];
  /** Case keys (`<study>_<subject>_<modality>`) that are finished. */
  finished: Set<string>;
  /** Bytes of a torn last line cut off cases.jsonl (0 when it ended cleanly). */
  tornBytes: number;
}

/**
 * Compares what defines a run's results (model sha256, card, metric protocol, prompting, dataset root and organs,
 * shard) and throws naming each difference; inference settings may differ (another machine, another thread count).
 */
export function checkSameRun(dir: string, stored: RunManifest, now: RunManifest, what = 'resume'): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const diffs: string[] = [];
  if (stored.model.sha256 !== now.model.sha256) diffs.push(`model sha256 ${stored.model.sha256} (run) vs ${now.model.sha256} (${now.model.path})`);
  if (stored.model.decoder?.sha256 !== now.model.decoder?.sha256) diffs.push(`decoder sha256 ${stored.model.decoder?.sha256 ?? 'none'} (run) vs ${now.model.decoder?.sha256 ?? 'none'} (${now.model.decoder?.path ?? 'no decoder'})`);
  if (!same(stored.card, now.card)) diffs.push('model card differs');
  if (!same(stored.protocol, now.protocol)) {
    diffs.push(`metric protocol differs${stored.protocol?.name !== now.protocol?.name ? ` (${stored.protocol?.name} (run) vs ${now.protocol?.name})` : ''}`);
  }
  // runs written before prompting was recorded resume as long as this one asks for no named protocol either
  if ((stored.prompting || now.prompting?.protocol) && !same(stored.prompting ?? null, now.prompting ?? null)) {
    diffs.push(`prompting ${JSON.stringify(stored.prompting ?? null)} (run) vs ${JSON.stringify(now.prompting ?? null)}`);
  }
  if (stored.dataset.root !== now.dataset.root) diffs.push(`dataset root ${stored.dataset.root} (run) vs ${now.dataset.root}`);
  if (!same(stored.dataset.organs, now.dataset.organs)) diffs.push('dataset organ map differs');
  if (!same(stored.shard ?? null, now.shard ?? null)) diffs.push(`shard ${JSON.stringify(stored.shard ?? null)} (run) vs ${JSON.stringify(now.shard ?? null)}`);
  if (diffs.length) throw new Error(`${path.join(dir, RUN_FILE)}: cannot ${what} this run: ${diffs.join('; ')}`);
}

/**
 * Reads the run in `dir` for resuming: checks it against `now` (checkSameRun), truncates a torn last line of
 * cases.jsonl, keeps the records of finished cases and rewrites cases.jsonl with exactly those (canonical order,
 * atomically) so appending the remaining cases continues a clean file.
 */
export function prepareResume(dir: string, now: RunManifest, organCount: number): ResumeState {
  const runFile = path.join(dir, RUN_FILE);
  if (!fs.existsSync(runFile)) throw new Error(`${dir}: nothing to resume (no ${RUN_FILE})`);
  let stored: RunManifest;
  try {
    stored = JSON.parse(fs.readFileSync(runFile, 'utf8')) as RunManifest;
  } catch (e) {
    throw new Error(`${runFile}: not valid JSON (${(e as Error).message})`);
  }
  checkSameRun(dir, stored, now);
  const casesFile = path.join(dir, CASES_FILE);
  const text = fs.existsSync(casesFile) ? fs.readFileSync(casesFile, 'utf8') : '';
  const end = text.lastIndexOf('\n') + 1; // everything after the last newline is a torn write
  const records: CaseRecord[] = [];
  text.slice(0, end).split('\n').forEach((line, n) => {
    if (!line.trim()) return;
    try {
      records.push(JSON.parse(line) as CaseRecord);
    } catch {
      throw new Error(`${casesFile}: line ${n + 1} is not valid JSON (only the last line may be torn); not resuming`);
    }
  });
  const byCase = new Map<string, CaseRecord[]>();
  for (const r of records) byCase.set(caseKey(r), [...(byCase.get(caseKey(r)) ?? []), r]);
  const finished = new Set<string>();
  const kept: CaseRecord[] = [];
  for (const [key, recs] of byCase) {
    const done = recs.some(isCaseError) || new Set(recs.map((r) => r.organ)).size >= organCount;
    if (!done) continue;
    finished.add(key);
    kept.push(...recs);
  }
  writeCasesCanonical(casesFile, kept);
  // temp files of writes the killed process never renamed (writeNifti/writeJsonAtomic name them <file>.<pid>.tmp)
  for (const sub of ['pred', 'prob', '.']) {
    const d = path.join(dir, sub);
    if (!fs.existsSync(d)) continue;
    for (const e of fs.readdirSync(d, { recursive: sub !== '.', withFileTypes: true }) as fs.Dirent[]) {
      if (e.isFile() && /\.\d+\.tmp$/.test(e.name)) fs.rmSync(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name), { force: true });
    }
  }
  return { kept, finished, tornBytes: Buffer.byteLength(text.slice(end)) };
}
