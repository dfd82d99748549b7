/**
 * The run store: one directory per run (see schema.ts). Manifest writes are atomic (write + rename) and case
 * records are appended line by line as each case finishes, so a crash never loses a finished case.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CaseRecord, RunManifest } from './schema';

export const RUN_FILE = 'run.json';
export const CASES_FILE = 'cases.jsonl';

export function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** `<runsRoot>/<YYYYMMDD-HHMMSS>-<model>`, made unique with a suffix if that exists already. */
export function newRunDir(runsRoot: string, modelName: string, now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  const safe = modelName.replace(/[^A-Za-z0-9._-]+/g, '_');
  let dir = path.join(runsRoot, `${stamp}-${safe}`);
  for (let n = 2; fs.existsSync(dir); n++) dir = path.join(runsRoot, `${stamp}-${safe}-${n}`);
  return dir;
}

export class RunWriter {
  private readonly casesFd: number;

  constructor(readonly dir: string, private manifest: RunManifest) {
    fs.mkdirSync(path.join(dir, 'pred'), { recursive: true });
    writeJsonAtomic(path.join(dir, RUN_FILE), manifest);
    this.casesFd = fs.openSync(path.join(dir, CASES_FILE), 'a');
  }

  /** Appends the records of one finished case in a single write, then flushes to disk. */
  appendCase(records: readonly CaseRecord[]): void {
    if (records.length === 0) return;
    fs.writeSync(this.casesFd, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    fs.fsyncSync(this.casesFd);
  }

  finish(counts: { cases: number; errors: number }): RunManifest {
    fs.closeSync(this.casesFd);
    this.manifest = { ...this.manifest, finishedAt: new Date().toISOString(), counts };
    writeJsonAtomic(path.join(this.dir, RUN_FILE), this.manifest);
    return this.manifest;
  }
}

export interface StoredRun {
  dir: string;
  manifest: RunManifest;
  cases: CaseRecord[];
}

/** Reads a run; a torn last line (a crash mid-write) is ignored, every complete line is kept. */
export function readRun(dir: string): StoredRun {
  const runFile = path.join(dir, RUN_FILE);
  if (!fs.existsSync(runFile)) throw new Error(`${dir}: not a run directory (no ${RUN_FILE})`);
  const manifest = JSON.parse(fs.readFileSync(runFile, 'utf8')) as RunManifest;
  const casesFile = path.join(dir, CASES_FILE);
  const cases: CaseRecord[] = [];
  if (fs.existsSync(casesFile)) {
    for (const line of fs.readFileSync(casesFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        cases.push(JSON.parse(line) as CaseRecord);
      } catch {
        // torn final line of an interrupted run
      }
    }
  }
  return { dir, manifest, cases };
}

/** Run directories under a runs root, newest first. */
export function listRuns(runsRoot: string): string[] {
  if (!fs.existsSync(runsRoot)) return [];
  return fs.readdirSync(runsRoot, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(runsRoot, d.name, RUN_FILE)))
    .map((d) => path.join(runsRoot, d.name))
    .sort()
    .reverse();
}
