/**
 * Gap and compare on real runs against a second implementation: UMD-mini (6 subjects) evaluated by both demo
 * checkpoints (test/helpers/demoRuns.ts, cached across test processes). Every number of the
 * gap and compare tables is checked against an independent recomputation from cases.jsonl in Python with numpy/scipy
 * (test/fixtures/stats/analysis_reference.py).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { compareRuns } from '../../src/core/analysis/compare';
import { modalityGap, type GapRow } from '../../src/core/analysis/gap';
import { readRun, type StoredRun } from '../../src/core/runstore/runStore';
import { demoRuns } from '../helpers/demoRuns';
import { repoRoot } from '../helpers/realData';

const PYTHON = '/usr/bin/python3';
const REFERENCE = path.join(repoRoot(), 'test', 'fixtures', 'stats', 'analysis_reference.py');

let dirs: { dataset: string; ctOnly: string; multimodal: string };
let ctOnly: StoredRun;
let multimodal: StoredRun;

before(async () => {
  dirs = await demoRuns();
  ctOnly = readRun(dirs.ctOnly);
  multimodal = readRun(dirs.multimodal);
});

function python<T>(...args: string[]): T {
  const r = spawnSync(PYTHON, [REFERENCE, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${REFERENCE} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const near = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs reference ${b}`);

interface RefGap { organ: string; pair: string; metric: string; n: number; mean_a: number; mean_b: number; median_a: number; median_b: number; mean_diff: number; p: number; p_holm: number; drop_share: number; worst_subject: string; worst_diff: number }

function checkAgainstReference(rows: GapRow[], ref: RefGap[], what: string) {
  const key = (r: { organ: string; pair: string; metric: string }) => `${r.metric} ${r.pair} ${r.organ}`;
  assert.deepEqual(rows.map(key).sort(), ref.map(key).sort(), `${what}: same rows`);
  const byKey = new Map(ref.map((r) => [key(r), r]));
  for (const row of rows) {
    const r = byKey.get(key(row))!;
    const k = `${what} ${key(row)}`;
    assert.equal(row.n, r.n, `${k} n`);
    for (const f of ['mean_a', 'mean_b', 'median_a', 'median_b', 'mean_diff', 'drop_share'] as const) near(row[f], r[f], 1e-12, `${k} ${f}`);
    near(row.p, r.p, 1e-9 * Math.max(r.p, 1e-300), `${k} p`);
    near(row.p_holm, r.p_holm, 1e-9, `${k} p_holm`);
    assert.equal(row.subjects[0].subject, r.worst_subject, `${k} worst subject`);
    near(row.subjects[0].diff, r.worst_diff, 1e-12, `${k} worst diff`);
    assert.equal(row.subjects.length, row.n);
    for (let i = 1; i < row.subjects.length; i++) assert.ok(row.subjects[i - 1].diff >= row.subjects[i].diff, `${k} subjects sorted worst first`);
    for (const s of row.subjects) near(s.diff, s.a - s.b, 0, `${k} diff = a - b`);
  }
}

test('gap of the CT-only run equals the Python/scipy recomputation, every row and field', () => {
  const rows = modalityGap(ctOnly);
  checkAgainstReference(rows, python<RefGap[]>('gap', dirs.ctOnly), 'ct-only');
  // 13 organs x 3 pairs x 2 metrics, 6 subjects each on UMD-mini
  assert.equal(rows.length, 78);
});

test('gap of the multimodal run with another drop threshold equals the recomputation', () => {
  checkAgainstReference(modalityGap(multimodal, { dropThreshold: 0.05 }), python<RefGap[]>('gap', dirs.multimodal, '0.05'), 'multimodal');
});

interface RefCell { organ: string; modality: string; metric: string; n: number; mean_run: number; mean_baseline: number; mean_diff: number; p: number }

test('compare multimodal vs CT-only baseline equals the recomputation; PET improves, CT losses are regressions', () => {
  const cmp = compareRuns(multimodal, ctOnly);
  const ref = python<RefCell[]>('compare', dirs.multimodal, dirs.ctOnly);
  const key = (c: { organ: string; modality: string; metric: string }) => `${c.metric} ${c.modality} ${c.organ}`;
  assert.deepEqual(cmp.cells.map(key).sort(), ref.map(key).sort());
  const byKey = new Map(ref.map((c) => [key(c), c]));
  for (const c of cmp.cells) {
    const r = byKey.get(key(c))!;
    assert.equal(c.n, r.n, key(c));
    for (const f of ['mean_run', 'mean_baseline', 'mean_diff'] as const) near(c[f], r[f], 1e-12, `${key(c)} ${f}`);
    near(c.p, r.p, 1e-9 * r.p, `${key(c)} p`);
    const expected = r.p < 0.05 && r.mean_diff <= -0.02 ? 'regression' : r.p < 0.05 && r.mean_diff >= 0.02 ? 'improvement' : 'unchanged';
    assert.equal(c.class, expected, key(c));
    assert.ok(c.ci_low <= c.mean_diff + 1e-12 && c.mean_diff <= c.ci_high + 1e-12, key(c));
  }
  const pet = cmp.cells.filter((c) => c.modality === 'PET' && c.metric === 'dice');
  assert.equal(pet.length, 13);
  for (const c of pet) {
    assert.equal(c.n, 12, 'PET of both studies pooled: 2 x 6 subjects');
    assert.equal(c.class, 'improvement', `${c.organ} PET`);
  }
  const ctDice = cmp.cells.filter((c) => c.modality === 'CT' && c.metric === 'dice');
  const aorta = ctDice.find((c) => c.organ === 'aorta')!;
  assert.equal(aorta.class, 'regression', 'the multimodal model loses aorta Dice on CT');
  assert.ok(aorta.mean_diff < -0.2);
  assert.deepEqual(cmp.onlyInRun, []);
  assert.deepEqual(cmp.onlyInBaseline, []);
  assert.deepEqual(cmp.options, { metrics: ['dice', 'nsd'], minEffect: 0.02, alpha: 0.05, seed: 0, resamples: 10000 });
});
