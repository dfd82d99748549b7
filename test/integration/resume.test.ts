/**
 * Resume after SIGKILL, with real processes: `umd-lens evaluate` on a 3-subject UMD-mini is killed once the first
 * case lands in cases.jsonl; a torn half line is appended as a write cut mid-way would leave; `--resume` then
 * finishes the run. The result equals an uninterrupted run's, and the finished cases were not recomputed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRun } from '../../src/core/runstore/runStore';
import { summarize } from '../../src/core/analysis/summary';
import type { RunManifest } from '../../src/core/runstore/schema';
import { repoRoot } from '../helpers/realData';
import { CLI, runCli } from '../helpers/cli';
import { recordReliability } from '../helpers/reliability';

const ROOT = repoRoot();

const MODEL = path.join(ROOT, 'models', 'umd-mini-ct-only.onnx');

const cli = runCli;

const caseLines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

test('evaluate killed mid-run, then --resume == an uninterrupted run; finished cases are kept', { timeout: 900_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-resume-'));
  const data = path.join(tmp, 'data');
  assert.equal(spawnSync(process.execPath, [CLI, 'phantom', '--out', data, '--subjects', '3', '--seed', '5']).status, 0);
  const common = ['evaluate', MODEL, '--data', data, '--threads', '1', '--metric-threads', '1'];
  const whole = path.join(tmp, 'whole');
  const run = path.join(tmp, 'run');
  const uninterrupted = cli([...common, '--out', whole]);

  const child = spawn(process.execPath, [CLI, ...common, '--out', run], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const casesFile = path.join(run, 'cases.jsonl');
  while (caseLines(casesFile).length === 0) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await exited;
  const before = caseLines(casesFile);
  assert.ok(before.length > 0);
  const firstCase = JSON.parse(before[0]);
  // a write cut mid-line: half of a record, no newline
  fs.appendFileSync(casesFile, before[0].slice(0, Math.floor(before[0].length / 2)));
  assert.equal((JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as RunManifest).finishedAt, undefined);

  // refusals: no --out, another model
  const noOut = await cli([...common, '--resume']);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--resume needs --out/);
  const otherModel = await cli(['evaluate', path.join(ROOT, 'models', 'umd-mini-all-modalities.onnx'), '--data', data, '--out', run, '--resume']);
  assert.equal(otherModel.code, 1);
  assert.match(otherModel.stderr, /cannot resume this run: model sha256/);

  const finishedBefore = new Set(before.map((l) => JSON.parse(l)).map((r) => `${r.study}_${r.subject}_${r.modality}`)).size;
  const predBefore = fs.statSync(path.join(run, 'pred', `${firstCase.study}_${firstCase.subject}_${firstCase.modality}.nii.gz`)).mtimeMs;
  const resumed = await cli([...common, '--out', run, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming .*: ${finishedBefore} finished case\\(s\\) kept, ${12 - finishedBefore} to run, torn last line \\(\\d+ bytes\\) dropped`));
  assert.equal((await uninterrupted).code, 0);

  assert.ok(fs.readFileSync(casesFile).equals(fs.readFileSync(path.join(whole, 'cases.jsonl'))), 'cases.jsonl identical to the uninterrupted run');
  const r = readRun(run);
  const w = readRun(whole);
  const organs = Object.values(w.manifest.dataset.organs);
  assert.deepEqual(summarize(r.cases, organs), summarize(w.cases, organs));
  assert.deepEqual(r.manifest.counts, w.manifest.counts);
  assert.equal(r.manifest.resumed?.length, 1);
  assert.equal(r.manifest.resumed![0].casesKept, finishedBefore);
  assert.equal(r.manifest.resumed![0].casesRun, 12 - finishedBefore);
  // the kept case's prediction was not rewritten
  assert.equal(fs.statSync(path.join(run, 'pred', `${firstCase.study}_${firstCase.subject}_${firstCase.modality}.nii.gz`)).mtimeMs, predBefore);
  for (const f of fs.readdirSync(path.join(whole, 'pred'))) {
    assert.ok(fs.readFileSync(path.join(run, 'pred', f)).equals(fs.readFileSync(path.join(whole, 'pred', f))), f);
  }
  assert.deepEqual(fs.readdirSync(path.join(run, 'pred')).filter((f) => f.endsWith('.tmp')), []);
  // reached only when every check above held: the figures of the reliability summary
  recordReliability('resume', {
    killedRuns: 1, resumedIdentical: 1, casesKeptNotRecomputed: finishedBefore, refusals: 2,
    checks: 'records, summary, counts, kept predictions untouched, no temporary files',
  });
});
