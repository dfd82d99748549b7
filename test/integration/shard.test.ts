/**
 * Sharding end to end with real processes: a 3-subject UMD-mini, the CT-only demo model; the unsharded run vs
 * shards 1/3..3/3 run as three concurrent `umd-lens evaluate --shard` processes, then `umd-lens merge`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRun } from '../../src/core/runstore/runStore';
import { parseShard, shardSubjects } from '../../src/core/runstore/shard';
import { summarize } from '../../src/core/analysis/summary';
import { repoRoot } from '../helpers/realData';
import { CLI, runCli } from '../helpers/cli';

const ROOT = repoRoot();

const MODEL = path.join(ROOT, 'models', 'umd-mini-ct-only.onnx');

const cli = runCli;

test('parseShard: 1-based i/N, clear errors otherwise', () => {
  assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
  for (const bad of ['0/2', '3/2', 'junk', '1/0', '1.5/2', '-1/2']) assert.throws(() => parseShard(bad), /--shard must be i\/N/, bad);
  // round-robin over sorted names: every subject in exactly one shard, sizes within one
  const subjects = ['s5', 's1', 's4', 's2', 's3'];
  const shards = [1, 2].map((index) => shardSubjects(subjects, { index, count: 2 }));
  assert.deepEqual([...shards[0]], ['s1', 's3', 's5']);
  assert.deepEqual([...shards[1]], ['s2', 's4']);
});

test('evaluate --shard i/3 in 3 processes + merge == the unsharded run; bad shard sets are refused', { timeout: 900_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-shard-'));
  const data = path.join(tmp, 'data');
  assert.equal(spawnSync(process.execPath, [CLI, 'phantom', '--out', data, '--subjects', '3', '--seed', '11']).status, 0);
  const whole = path.join(tmp, 'whole');
  const shardDir = (i: number) => path.join(tmp, `shard-${i}`);
  const common = ['evaluate', MODEL, '--data', data, '--threads', '1', '--metric-threads', '1'];
  const results = await Promise.all([
    cli([...common, '--out', whole]),
    ...[1, 2, 3].map((i) => cli([...common, '--out', shardDir(i), '--shard', `${i}/3`])),
  ]);
  for (const r of results) assert.equal(r.code, 0, r.stderr);

  const w = readRun(whole);
  const shardRuns = [1, 2, 3].map((i) => readRun(shardDir(i)));
  // each shard holds whole subjects, one subject each here, and the shard is recorded
  shardRuns.forEach((r, k) => {
    assert.deepEqual(r.manifest.shard, { index: k + 1, count: 3 });
    assert.equal(new Set(r.cases.map((c) => c.subject)).size, 1);
  });
  assert.equal(new Set(shardRuns.map((r) => r.cases[0].subject)).size, 3);

  const bad = await cli(['evaluate', MODEL, '--data', data, '--shard', '3/2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--shard must be i\/N/);

  const merged = path.join(tmp, 'merged');
  const m = await cli(['merge', shardDir(3), shardDir(1), shardDir(2), '--out', merged]);
  assert.equal(m.code, 0, m.stderr);
  assert.ok(fs.readFileSync(path.join(merged, 'cases.jsonl')).equals(fs.readFileSync(path.join(whole, 'cases.jsonl'))), 'cases.jsonl byte-identical');
  const mr = readRun(merged);
  const organs = Object.values(w.manifest.dataset.organs);
  assert.deepEqual(summarize(mr.cases, organs), summarize(w.cases, organs));
  assert.deepEqual(mr.manifest.merged?.shards.map((s) => s.index), [1, 2, 3]);
  assert.deepEqual(mr.manifest.counts, w.manifest.counts);
  const preds = fs.readdirSync(path.join(whole, 'pred')).sort();
  assert.equal(preds.length, 3 * 4); // 3 subjects x (CT, PET, MRI, PET)
  assert.deepEqual(fs.readdirSync(path.join(merged, 'pred')).sort(), preds);
  for (const f of preds) assert.ok(fs.readFileSync(path.join(merged, 'pred', f)).equals(fs.readFileSync(path.join(whole, 'pred', f))), f);

  // refusals: a missing shard, a shard given twice, overlapping shards, shards of another run
  const refuse = async (args: string[], re: RegExp) => {
    const r = await cli(['merge', ...args, '--out', path.join(tmp, `m-${Math.random()}`)]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, re);
  };
  await refuse([shardDir(1), shardDir(2)], /missing shard\(s\) 3\/3/);
  await refuse([shardDir(1), shardDir(1), shardDir(2), shardDir(3)], /shard 1\/3 given twice/);
  const overlap = path.join(tmp, 'overlap');
  fs.cpSync(shardDir(2), overlap, { recursive: true });
  fs.appendFileSync(path.join(overlap, 'cases.jsonl'), fs.readFileSync(path.join(shardDir(1), 'cases.jsonl')));
  await refuse([shardDir(1), overlap, shardDir(3)], /is in two shard runs .* the shards overlap/);
  const other = path.join(tmp, 'other');
  fs.cpSync(shardDir(3), other, { recursive: true });
  const om = JSON.parse(fs.readFileSync(path.join(other, 'run.json'), 'utf8'));
  om.model.sha256 = '0'.repeat(64);
  om.protocol.name = 'cvpr25';
  fs.writeFileSync(path.join(other, 'run.json'), JSON.stringify(om));
  await refuse([shardDir(1), shardDir(2), other], /model sha256 0{64}.*metric protocol differs/);
  await refuse([whole, shardDir(2)], /not a shard run/);
});
