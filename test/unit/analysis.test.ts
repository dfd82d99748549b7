/**
 * Gap, compare and gates on real runs: UMD-mini (6 subjects) evaluated by both demo checkpoints
 * (test/helpers/demoRuns.ts, cached across test processes). The recomputation of the gap and
 * compare tables in Python is test/integration/analysisReference.test.ts; the gates run through the built CLI
 * (dist/cli.js) for exit codes.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareRuns } from '../../src/core/analysis/compare';
import { illusion, modalityGap, type GapRow } from '../../src/core/analysis/gap';
import { evaluateGates, GatesFileError, parseGates, GATE_KINDS } from '../../src/core/analysis/gates';
import { readRun, type StoredRun } from '../../src/core/runstore/runStore';
import { demoRuns } from '../helpers/demoRuns';
import { repoRoot } from '../helpers/realData';
import { CLI } from '../helpers/cli';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-analysis-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

let dirs: { dataset: string; ctOnly: string; multimodal: string };
let ctOnly: StoredRun;
let multimodal: StoredRun;

before(async () => {
  dirs = await demoRuns();
  ctOnly = readRun(dirs.ctOnly);
  multimodal = readRun(dirs.multimodal);
});

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const near = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs reference ${b}`);

test('CT-only model: the CT-PET Dice gap is large, significant and excludes 0 for large organs', () => {
  const rows = modalityGap(ctOnly, { metrics: ['dice'] }).filter((r) => r.pair === 'CT-PET');
  for (const organ of ['liver', 'spleen', 'left kidney', 'right kidney', 'heart', 'left lung', 'right lung', 'brain', 'stomach']) {
    const r = rows.find((x) => x.organ === organ)!;
    assert.ok(r.mean_diff > 0.4, `${organ} CT-PET gap ${r.mean_diff}`);
    assert.ok(r.p < 0.05, `${organ} p ${r.p}`);
    assert.ok(r.ci_low > 0.3 && r.ci_low <= r.mean_diff && r.mean_diff <= r.ci_high, `${organ} CI ${r.ci_low}..${r.ci_high}`);
    assert.equal(r.drop_share, 1, `${organ}: every subject drops more than 0.1 on PET`);
  }
  // the model trained on every modality has no such gap: its PET scores are as good as its CT scores or better
  const mm = modalityGap(multimodal, { metrics: ['dice'] }).filter((r) => r.pair === 'CT-PET');
  for (const r of mm) assert.ok(r.mean_diff < 0.1, `multimodal ${r.organ} CT-PET gap ${r.mean_diff}`);
});

test('gap CI: deterministic under a seed, seed-dependent, and holding the mean difference', () => {
  const a = modalityGap(ctOnly, { metrics: ['dice'], seed: 0 });
  const b = modalityGap(ctOnly, { metrics: ['dice'] });
  const c = modalityGap(ctOnly, { metrics: ['dice'], seed: 7 });
  assert.deepEqual(a, b, 'seed 0 is the default');
  assert.ok(a.some((r, i) => r.ci_low !== c[i].ci_low), 'another seed draws other resamples');
  for (const r of a) assert.ok(r.ci_low <= r.mean_diff + 1e-12 && r.mean_diff <= r.ci_high + 1e-12, `${r.organ} ${r.pair}`);
});

test('gap: a null score drops the pair, a missing case too', () => {
  const cases = ctOnly.cases.map((r) => ({ ...r }));
  const liverPet = cases.find((r) => r.subject === 'sub-001' && r.study === 'PETCT' && r.modality === 'PET' && r.organ === 'liver')!;
  liverPet.dice = null;
  liverPet.status = 'both-empty';
  const withoutSpleenCt = cases.filter((r) => !(r.subject === 'sub-002' && r.study === 'PETCT' && r.modality === 'CT' && r.organ === 'spleen'));
  const rows = modalityGap({ ...ctOnly, cases: withoutSpleenCt }, { metrics: ['dice'] });
  const liver = rows.find((r) => r.organ === 'liver' && r.pair === 'CT-PET')!;
  assert.equal(liver.n, 5);
  assert.ok(!liver.subjects.some((s) => s.subject === 'sub-001'));
  assert.equal(rows.find((r) => r.organ === 'spleen' && r.pair === 'CT-MRI')!.n, 5);
  assert.equal(rows.find((r) => r.organ === 'spleen' && r.pair === 'MRI-PET')!.n, 6);
});

test('illusion: reported card scores (model names, synonyms, organMap) minus the measured means', () => {
  const run: StoredRun = {
    ...ctOnly,
    manifest: {
      ...ctOnly.manifest,
      card: {
        ...ctOnly.manifest.card,
        organMap: { 'Hepar': 'liver' },
        reported: { kidney_left: { dice: 0.95 }, Hepar: { dice: 0.96, nsd: 0.9 }, tumour: { dice: 0.5 } },
      },
    },
  };
  const rows = illusion(run);
  const mean = (organ: string, study: string, modality: string, metric: 'dice' | 'nsd') => {
    const xs = ctOnly.cases.filter((r) => r.organ === organ && r.study === study && r.modality === modality && typeof r[metric] === 'number').map((r) => r[metric] as number);
    return xs.reduce((s, x) => s + x, 0) / xs.length;
  };
  // liver: dice and nsd in 4 scans; left kidney: dice in 4 scans; the unknown "tumour" gives nothing
  assert.equal(rows.length, 12);
  for (const r of rows) {
    assert.ok(r.organ === 'liver' || r.organ === 'left kidney', r.organ);
    const expectReported = r.organ === 'liver' ? (r.metric === 'dice' ? 0.96 : 0.9) : 0.95;
    assert.equal(r.reported, expectReported);
    near(r.measured, mean(r.organ, r.study, r.modality, r.metric), 1e-12, `${r.organ} ${r.study} ${r.modality} ${r.metric}`);
    near(r.diff, r.reported - r.measured, 1e-15, 'diff');
  }
  const kidneyPet = rows.find((r) => r.organ === 'left kidney' && r.study === 'PETCT' && r.modality === 'PET')!;
  assert.ok(kidneyPet.diff > 0.9, 'the CT-only model is far below its reported Dice on PET');
  assert.deepEqual(illusion(ctOnly), [], 'the demo card reports nothing');
});

test('compare: a run against itself is unchanged; unmatched cases are listed; options change the classes', () => {
  const self = compareRuns(ctOnly, ctOnly, { metrics: ['dice'], resamples: 200 });
  assert.ok(self.cells.every((c) => c.class === 'unchanged' && c.mean_diff === 0 && c.p === 1));
  const fewer = { ...ctOnly, cases: ctOnly.cases.filter((r) => r.subject !== 'sub-006') };
  const cmp = compareRuns(multimodal, fewer, { metrics: ['dice'], resamples: 200 });
  assert.equal(cmp.onlyInRun.length, 4 * 13);
  assert.ok(cmp.onlyInRun.every((k) => k.subject === 'sub-006'));
  assert.equal(cmp.cells.find((c) => c.organ === 'liver' && c.modality === 'PET')!.n, 10);
  // with n = 5 paired subjects the exact two-sided p is at least 2/32: nothing can be significant at 0.05
  const ctCells = cmp.cells.filter((c) => c.modality === 'CT');
  assert.ok(ctCells.every((c) => c.p >= 0.0625 && c.class === 'unchanged'));
  const strict = compareRuns(multimodal, ctOnly, { metrics: ['dice'], minEffect: 0.5, resamples: 200 });
  assert.ok(strict.cells.filter((c) => c.class === 'regression').length === 0, 'no CT loss reaches 0.5');
});

test('CLI gap --json and compare --json carry exactly the documented fields', () => {
  const g = cli('gap', dirs.ctOnly, '--json', '--metric', 'dice', '--resamples', '500', '--seed', '3', '--threshold', '0.2');
  assert.equal(g.status, 0, g.stderr);
  const out = JSON.parse(g.stdout) as { rows: GapRow[]; illusion: unknown[] };
  assert.deepEqual(Object.keys(out), ['rows', 'illusion']);
  assert.deepEqual(Object.keys(out.rows[0]), ['organ', 'pair', 'metric', 'n', 'mean_a', 'mean_b', 'median_a', 'median_b', 'mean_diff', 'ci_low', 'ci_high', 'p', 'p_holm', 'drop_threshold', 'drop_share', 'subjects']);
  assert.deepEqual(Object.keys(out.rows[0].subjects[0]), ['subject', 'a', 'b', 'diff']);
  assert.ok(out.rows.every((r) => r.metric === 'dice' && r.drop_threshold === 0.2));
  const same = modalityGap(ctOnly, { metrics: ['dice'], resamples: 500, seed: 3, dropThreshold: 0.2 });
  assert.deepEqual(out.rows, JSON.parse(JSON.stringify(same)));

  const table = cli('gap', dirs.ctOnly, '--metric', 'nsd', '--resamples', '100');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /liver\s+CT-PET\s+nsd\s+6/);

  const c = cli('compare', dirs.multimodal, dirs.ctOnly, '--metric', 'dice', '--resamples', '200');
  assert.equal(c.status, 0, c.stderr);
  const lines = c.stdout.trim().split('\n');
  assert.match(lines[2], /^regression\s+aorta\s+CT/, 'regressions first, the worst first');
  const cj = JSON.parse(cli('compare', dirs.multimodal, dirs.ctOnly, '--json', '--resamples', '50').stdout);
  assert.deepEqual(Object.keys(cj), ['cells', 'onlyInRun', 'onlyInBaseline', 'options']);

  for (const bad of [['gap'], ['gap', dirs.ctOnly, '--metric', 'hd95'], ['gap', dirs.ctOnly, '--threshold', 'x'], ['compare', dirs.ctOnly], ['compare', dirs.ctOnly, dirs.ctOnly, '--alpha', '2']]) {
    assert.equal(cli(...bad).status, 2, bad.join(' '));
  }
  const missing = cli('gap', path.join(tmp, 'nope'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope: not a run directory/);
});

test('gates file: line numbers kept, errors name path, line and column', () => {
  const text = [
    '{',
    '  // comments are allowed',
    '  "gates": [',
    '    { "organ": "*", "modality": "CT", "minDice": 0.8 },',
    '    { "organ": "liver",',
    '      "maxGap": 0.3, "minNsd": 0.2 },',
    '  ]',
    '}',
  ].join('\n');
  const parsed = parseGates(text, 'umd.gates.json');
  assert.deepEqual(parsed.gates.map((g) => [g.organ, g.modality, g.kind, g.threshold, g.line, g.column]), [
    ['*', 'CT', 'minDice', 0.8, 4, 39],
    ['liver', '*', 'maxGap', 0.3, 6, 7],
    ['liver', '*', 'minNsd', 0.2, 6, 22],
  ]);
  const bad = [
    '{ "gates": [',
    '  { "organ": "liver", "minDise": 0.8 },',
    '  { "modality": "XR", "minDice": "high" },',
    '  { "modality": "PET", "maxGap": 0.2 },',
    '  { "maxRegression": 1.5 }',
    '], "extra": 1 }',
  ].join('\n');
  assert.throws(() => parseGates(bad, 'g.json'), (e: unknown) => {
    assert.ok(e instanceof GatesFileError);
    const msgs = e.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
    assert.ok(msgs.some((m) => m.startsWith('2:23 gates[0].minDise: unknown key')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('2:3 gates[0]: names no threshold')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('3:17 gates[1].modality: must be one of')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('3:34 gates[1].minDice: must be a number in [0, 1]')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('4:17 gates[2].modality: maxGap compares')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('5:22 gates[3].maxRegression: must be a number in [0, 1]')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('6:4 extra: unknown key')), msgs.join('\n'));
    assert.match(e.message, /g\.json:2:23: gates\[0\]\.minDise: unknown key/);
    return true;
  });
  assert.throws(() => parseGates('{ "gates": [ { "minDice": 0.5 } ', 'x.json'), /x\.json:1:\d+: JSON syntax error: CloseBracketExpected/);
  assert.throws(() => parseGates('[]', 'x.json'), /expected an object/);
  assert.throws(() => parseGates('{}', 'x.json'), /gates: missing/);
});

test('gates schema lists the same keys, kinds and modalities as the parser', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'schemas', 'umd.gates.schema.json'), 'utf8'));
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  const entry = schema.definitions.entry;
  assert.deepEqual(Object.keys(entry.properties).sort(), ['description', 'modality', 'organ', ...GATE_KINDS].sort());
  assert.deepEqual(entry.properties.modality.enum, ['CT', 'MRI', 'PET', '*']);
  assert.deepEqual(entry.anyOf.map((a: { required: string[] }) => a.required[0]), [...GATE_KINDS]);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));
  const v = pkg.contributes.jsonValidation.find((j: { url: string }) => j.url === './schemas/umd.gates.schema.json');
  assert.deepEqual(v.fileMatch, ['umd.gates.json', '*.umd.gates.json']);
});

test('evaluateGates: most specific gate wins, measured values are the table means', () => {
  const gates = parseGates(JSON.stringify({
    gates: [
      { organ: '*', modality: 'CT', minDice: 0.8 },
      { organ: 'Pancreas', modality: 'CT', minDice: 0.2 },
      { organ: 'liver', modality: 'PET', minDice: 0.5 },
      { organ: 'spleen', modality: 'CT', maxGap: 0.3 },
      { organ: 'pancreaz', modality: 'CT', minNsd: 0.1 },
    ],
  }, null, 1), 'g.json');
  const results = evaluateGates(ctOnly, gates);
  const ct = results.filter((r) => r.gate.kind === 'minDice' && r.gate.modality === 'CT');
  assert.equal(ct.length, 13, 'the wildcard covers every organ; pancreas is checked once, by its own gate');
  const pancreas = ct.find((r) => r.gate.organ === 'pancreas')!;
  assert.equal(pancreas.gate.threshold, 0.2);
  assert.ok(pancreas.pass);
  const bladder = ct.find((r) => r.gate.organ === 'bladder')!;
  assert.equal(bladder.pass, false);
  const bladderCt = ctOnly.cases.filter((r) => r.organ === 'bladder' && r.modality === 'CT').map((r) => r.dice as number);
  near(bladder.measured!, bladderCt.reduce((a, b) => a + b, 0) / bladderCt.length, 1e-12, 'bladder CT mean Dice');
  assert.equal(bladder.n, 6);
  assert.match(bladder.message, /bladder CT: mean Dice 0\.\d{3} < minDice 0\.8 \(n=6\)/);
  const liverPet = results.find((r) => r.gate.organ === 'liver' && r.gate.modality === 'PET')!;
  assert.equal(liverPet.n, 12);
  assert.equal(liverPet.pass, false);
  const gap = results.find((r) => r.gate.kind === 'maxGap')!;
  near(gap.measured!, modalityGap(ctOnly, { metrics: ['dice'], resamples: 1 }).find((r) => r.organ === 'spleen' && r.pair === 'CT-PET')!.mean_diff, 1e-15, 'spleen gap');
  assert.equal(gap.pass, false);
  const unknown = results.find((r) => r.gate.organ === 'pancreaz')!;
  assert.equal(unknown.pass, false);
  assert.match(unknown.message, /not an organ of this run's dataset/);
  assert.equal(unknown.line, 26);
  assert.throws(() => evaluateGates(ctOnly, parseGates('{"gates": [{"maxRegression": 0.02}]}', 'r.json')), /r\.json:1: maxRegression needs a baseline/);
  // a wildcard gate over cells that have no score checks nothing: it fails once instead of passing silently
  const mriOnly = { ...ctOnly, cases: ctOnly.cases.filter((r) => r.modality !== 'MRI') };
  const none = evaluateGates(mriOnly, parseGates('{"gates": [{"modality": "MRI", "minDice": 0.1}, {"organ": "liver", "modality": "CT", "minDice": 0.1}]}', 'm.json'));
  assert.deepEqual(none.map((r) => [r.gate.organ, r.gate.modality, r.pass, r.n]), [['liver', 'CT', true, 6], ['*', 'MRI', false, 0]]);
  assert.match(none[1].message, /no scored case to check minDice on \(the run has no MRI scores\)/);
});

test('CLI gate: exit 0 when all hold, 1 with each failure listed, 2 on usage errors', () => {
  const pass = path.join(tmp, 'pass.umd.gates.json');
  fs.writeFileSync(pass, JSON.stringify({ gates: [
    { organ: '*', modality: 'CT', minDice: 0.2 },
    { organ: 'liver', modality: 'CT', minNsd: 0.3 },
    { organ: '*', modality: 'MRI', maxGap: 0.5 },
  ] }, null, 2));
  const ok = cli('gate', dirs.ctOnly, '--gates', pass);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^27 of 27 gate check\(s\) hold$/m);

  const fail = path.join(tmp, 'umd.gates.json');
  fs.writeFileSync(fail, JSON.stringify({ gates: [
    { organ: '*', modality: 'CT', minDice: 0.8 },
    { organ: 'liver', modality: 'PET', minDice: 0.5 },
    { organ: 'spleen', modality: 'CT', maxGap: 0.3 },
  ] }, null, 2));
  const bad = cli('gate', dirs.ctOnly, '--gates', fail);
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  const failures = bad.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
  // CT under 0.8: bladder, pancreas, gallbladder; liver on PET; the spleen CT-PET gap
  assert.equal(failures.length, 5, bad.stdout);
  assert.ok(failures.some((l) => l.includes(`${fail}:6:`) && /pancreas CT: mean Dice 0\.275 < minDice 0\.8 \(n=6\)/.test(l)), bad.stdout);
  assert.ok(failures.some((l) => l.includes(`${fail}:11:`) && /liver PET: mean Dice 0\.\d+ < minDice 0\.5 \(n=12\)/.test(l)), bad.stdout);
  assert.ok(failures.some((l) => l.includes(`${fail}:16:`) && /spleen CT-PET: mean Dice gap 0\.801 > maxGap 0\.3 \(n=6\)/.test(l)), bad.stdout);
  const json = JSON.parse(cli('gate', dirs.ctOnly, '--gates', fail, '--json').stdout);
  assert.equal(json.pass, false);
  assert.deepEqual(Object.keys(json.results[0]), ['gate', 'line', 'column', 'n', 'measured', 'pass', 'message']);

  const reg = path.join(tmp, 'reg.umd.gates.json');
  fs.writeFileSync(reg, JSON.stringify({ gates: [{ modality: 'CT', maxRegression: 0.05 }, { modality: 'PET', maxRegression: 0 }] }, null, 2));
  const noBase = cli('gate', dirs.multimodal, '--gates', reg);
  assert.equal(noBase.status, 2);
  assert.match(noBase.stderr, /maxRegression needs a baseline run: add --baseline/);
  const withBase = cli('gate', dirs.multimodal, '--gates', reg, '--baseline', dirs.ctOnly);
  assert.equal(withBase.status, 1, withBase.stdout + withBase.stderr);
  assert.match(withBase.stdout, /aorta CT vs baseline: mean Dice drop 0\.323 > maxRegression 0\.05 \(n=6\)/);
  assert.ok(!/PET vs baseline/.test(withBase.stdout.split('\n').filter((l) => l.startsWith('FAIL')).join('\n')), 'PET improved: no PET regression fails');

  const invalid = path.join(tmp, 'invalid.umd.gates.json');
  fs.writeFileSync(invalid, '{ "gates": [ { "minDice": 2 } ] }');
  const inv = cli('gate', dirs.ctOnly, '--gates', invalid);
  assert.equal(inv.status, 2);
  assert.match(inv.stderr, /invalid\.umd\.gates\.json:1:27: gates\[0\]\.minDice: must be a number in \[0, 1\]/);
  assert.equal(cli('gate', dirs.ctOnly).status, 2, 'no --gates');
  assert.equal(cli('gate', dirs.ctOnly, '--gates', path.join(tmp, 'absent.json')).status, 2, 'unreadable gates file');
});
