#!/usr/bin/env node
// `npm test`: everything the tests need, set up here, then every suite, then one closing line
// "N passed, N failed" for all of them. `npm run test:unit` is the fast tier alone (UMD_TEST_SUITES=unit).
// Suites (the SUITES table below, run in its order):
//   static       the static checks of scripts/check.mjs, one test each: types (tsc --noEmit), layers
//                (dependency-cruiser: a backwards import fails), lint (ESLint); first, before the host setup and build
//   unit         pure in-process node:test on real NIfTI files and real onnxruntime-node sessions (out/test/unit);
//                needs no apt package, browser or code-server
//   integration  node:test that spawns the CLI, kills and resumes runs, evaluates whole datasets, checks the analysis
//                against Python/scipy, packs the VSIX or runs the Slurm template on a real Slurm
//                (out/test/integration); writes the reliability figures
//   webview      the NiiVue viewer bundle in real headless Chromium (test/webview/run.mjs)
//   report       the HTML report in real headless Chromium, network blocked (test/webview/report.mjs; uses the
//                demo runs the unit suite caches, so it runs after it)
//   workbench    the extension in a real VS Code workbench: code-server + Chromium (test/workbench/run.mjs)
// Set UMD_TEST_SUITES=unit,webview to run a subset.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'test-results');
process.chdir(ROOT);
const t0 = Date.now();
const log = (m) => console.log(`[test ${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}`);
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', ...opts }).status ?? 1;

/**
 * checks: scripts/check.mjs (no build needed); nodeTest: a folder of bundled node:test files; script: a runner that writes test-results/<name>.json.
 * host: needs scripts/setup-test-host.sh (apt chromium and numpy/scipy, Node 24, code-server).
 * reliability: writes the figures of the reliability summary (test/helpers/reliability.ts).
 */
const SUITES = [
  { name: 'static', checks: true, host: false },
  { name: 'unit', nodeTest: 'out/test/unit', host: false },
  { name: 'integration', nodeTest: 'out/test/integration', host: true, reliability: true },
  { name: 'webview', script: 'test/webview/run.mjs', host: true },
  { name: 'report', script: 'test/webview/report.mjs', host: true },
  { name: 'workbench', script: 'test/workbench/run.mjs', host: true },
];
const suites = (process.env.UMD_TEST_SUITES ?? SUITES.map((s) => s.name).join(',')).split(',').map((s) => s.trim());
const unknown = suites.filter((n) => !SUITES.some((s) => s.name === n));
if (unknown.length) {
  console.error(`unknown test suite(s): ${unknown.join(', ')} (known: ${SUITES.map((s) => s.name).join(', ')})`);
  process.exit(1);
}
const selected = SUITES.filter((s) => suites.includes(s.name));

// 1. Dependencies: npm ci when node_modules is absent or older than the lockfile.
const stamp = path.join(ROOT, 'node_modules', '.package-lock.json');
if (!fs.existsSync(stamp) || fs.statSync(stamp).mtimeMs < fs.statSync(path.join(ROOT, 'package-lock.json')).mtimeMs) {
  log('npm ci');
  if (run('npm', ['ci', '--no-audit', '--no-fund'])) process.exit(1);
}
const totals = { passed: 0, failed: 0 };
const add = (name, r) => {
  log(`${name}: ${r.passed} passed, ${r.failed} failed`);
  totals.passed += r.passed;
  totals.failed += r.failed;
};

// The static checks need the dependencies only: they run before the host setup and the build, and a failure is
// counted, not fatal, so the suites still run.
if (selected.some((s) => s.checks)) {
  log('static checks (types, layers, lint)');
  const { runChecks } = await import('./check.mjs');
  add('static', runChecks((m) => log(`static ${m}`)));
}

// 2. Browser and workbench host (apt chromium, Node 24, code-server) and Debian's numpy/scipy for the integration
//    suite's statistics reference, only when a selected suite needs them: idempotent, fast when present.
if (selected.some((s) => s.host)) {
  log('setting up the test host');
  if (run('bash', ['scripts/setup-test-host.sh'])) process.exit(1);
}
// 3. Bundles (extension, engine, CLI, webview, tests).
log('building');
if (run('node', ['esbuild.mjs'])) process.exit(1);

// The real data is required, never skipped: CI always has it.
const real = process.env.UMD_REAL_DATA ?? path.resolve(ROOT, '../shared/data/real');
if (!fs.existsSync(path.join(real, 'README.md'))) {
  console.error(`real test data missing at ${real}: set UMD_REAL_DATA`);
  process.exit(1);
}

fs.mkdirSync(RESULTS, { recursive: true });
// figures the integration tests write for the reliability summary (test/helpers/reliability.ts)
const RELIABILITY = path.join(RESULTS, 'reliability');
fs.rmSync(RELIABILITY, { recursive: true, force: true });
/** node:test over every bundled *.test.js of a folder; counts from its TAP file. */
function runNodeTest(name, dir) {
  const tap = path.join(RESULTS, `${name}.tap`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).map((f) => path.join(dir, f));
  const code = run('node', ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files]);
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  const count = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  const r = { passed: count('pass'), failed: count('fail') + count('cancelled') };
  if (code !== 0 && r.failed === 0) r.failed = 1; // the runner itself failed
  return r;
}

/** A runner script that writes its counts to test-results/<name>.json. */
function runScript(name, script) {
  const out = path.join(RESULTS, `${name}.json`);
  fs.rmSync(out, { force: true });
  const code = run('node', [script]);
  const r = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : { passed: 0, failed: 1 };
  if (code !== 0 && r.failed === 0) r.failed = 1;
  return r;
}

for (const suite of selected.filter((s) => !s.checks)) {
  log(`${suite.name} tests`);
  add(suite.name, suite.nodeTest ? runNodeTest(suite.name, suite.nodeTest) : runScript(suite.name, suite.script));
}

/** Issue 7's figures: bad inputs tried and reported, crashes, results lost, resume checks; absent ones say so. */
function reliabilitySummary() {
  const read = (name) => {
    try { return JSON.parse(fs.readFileSync(path.join(RELIABILITY, `${name}.json`), 'utf8')); } catch { return undefined; }
  };
  const b = read('bad-input');
  const r = read('resume');
  const lines = ['', '==================== reliability summary ===================='];
  if (b) {
    lines.push(`bad inputs tried: ${b.corpusTried} files (${b.corpusKinds} kinds x CT, PET) + ${b.modelTried} models/cards; errors reported correctly (file + problem, no stack): ${b.corpusCorrect + b.modelCorrect} of ${b.corpusTried + b.modelTried}`);
    lines.push(`NIfTI fuzz: ${b.fuzzReads} reads, ${b.fuzzNamedErrors} named errors, ${b.fuzzValues} values; crashes: ${b.corpusWrong + b.fuzzCrashes}`);
    lines.push(`results lost: ${b.goodLost} of ${b.goodExpected} good organ records (must be 0)`);
  } else lines.push('bad-input figures missing (test/integration/badInput.test.ts did not finish)');
  if (r) lines.push(`resume checks passed: ${r.killedRuns} run killed (SIGKILL) and resumed, identical to the uninterrupted run (${r.checks}); ${r.casesKeptNotRecomputed} finished case(s) kept, not recomputed; ${r.refusals} refusals`);
  else lines.push('resume checks: NOT passed (test/integration/resume.test.ts failed or did not run)');
  lines.push('=============================================================');
  console.log(lines.join('\n'));
}
if (selected.some((s) => s.reliability)) reliabilitySummary();

log('done');
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 && totals.passed > 0 ? 0 : 1);
