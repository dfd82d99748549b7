/**
 * The runs the dev-loop features read: the newest finished run (gates, their CodeLens), the newest finished run of
 * one model (the card's CodeLens), and per organ x modality scores of a run. Reading is cached by the mtime of
 * cases.jsonl: CodeLens providers ask often, the files change only when a run does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { organKey, type Modality } from '../../core/dataset/organs';
import { listRuns, CASES_FILE, RUN_FILE } from '../../core/runstore/runStore';
import type { CaseRecord } from '../../core/runstore/schema';
import { modalityStats, readRunInfo, worstFirst, type ModalityStats, type RunInfo } from '../runs/runReader';

export interface RunScores {
  run: RunInfo;
  stats: ModalityStats[];
}

const cache = new Map<string, { stamp: string; scores: RunScores }>();

function stampOf(dir: string): string {
  const m = (f: string) => { try { return String(fs.statSync(path.join(dir, f)).mtimeMs); } catch { return '-'; } };
  return `${m(RUN_FILE)}/${m(CASES_FILE)}`;
}

/** A run and its per-modality, per-organ means (the Runs tree's reading). */
export function runScores(dir: string): RunScores {
  const stamp = stampOf(dir);
  const hit = cache.get(dir);
  if (hit && hit.stamp === stamp) return hit.scores;
  const run = readRunInfo(dir);
  const scores = { run, stats: modalityStats(run) };
  cache.set(dir, { stamp, scores });
  return scores;
}

function finished(dir: string): boolean {
  try {
    return Boolean(JSON.parse(fs.readFileSync(path.join(dir, RUN_FILE), 'utf8')).finishedAt);
  } catch {
    return false;
  }
}

/** The newest finished run under the runs root (directory names start with their start time). */
export function newestRun(runsRoot: string): string | undefined {
  return listRuns(runsRoot).find(finished);
}

const real = (p: string) => { try { return fs.realpathSync(p); } catch { return path.resolve(p); } };

/** The newest finished run of the checkpoint `onnxPath` (same file, through symlinks too). */
export function newestRunOf(runsRoot: string, onnxPath: string): string | undefined {
  const want = real(onnxPath);
  return listRuns(runsRoot).filter(finished).find((dir) => {
    try {
      const model = (JSON.parse(fs.readFileSync(path.join(dir, RUN_FILE), 'utf8')) as { model?: { path?: string } }).model?.path;
      return typeof model === 'string' && (real(model) === want || path.resolve(model) === path.resolve(onnxPath));
    } catch {
      return false;
    }
  });
}

export interface CellScore {
  modality: Modality;
  meanDice: number | null;
  meanNsd: number | null;
  n: number;
}

/**
 * Scores of one organ ("*": the mean over organs, as the Runs tree shows it) per modality, restricted to
 * `modality` unless it is "*"; and the worst scored case among them.
 */
export function organScores(scores: RunScores, organ: string, modality: string): { cells: CellScore[]; worst?: CaseRecord; found: boolean } {
  const cells: CellScore[] = [];
  const cases: CaseRecord[] = [];
  let found = false;
  for (const m of scores.stats) {
    if (modality !== '*' && m.modality !== modality) continue;
    if (organ === '*') {
      found = true;
      cells.push({ modality: m.modality, meanDice: m.meanDice, meanNsd: m.meanNsd, n: m.organs.reduce((s, o) => s + o.n, 0) });
      for (const o of m.organs) cases.push(...o.cases);
      continue;
    }
    const o = m.organs.find((x) => organKey(x.organ) === organKey(organ));
    if (!o) continue;
    found = true;
    cells.push({ modality: m.modality, meanDice: o.meanDice, meanNsd: o.meanNsd, n: o.n });
    cases.push(...o.cases);
  }
  const worst = cases.filter((r) => typeof r.dice === 'number').sort(worstFirst)[0];
  return { cells, worst, found };
}

export function formatCells(cells: CellScore[]): string {
  const f = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  return cells.map((c) => `${c.modality} Dice ${f(c.meanDice)} NSD ${f(c.meanNsd)}`).join(' · ');
}
