#!/usr/bin/env node
// `npm run check`: the static checks, also the "static" suite of `npm test` (one test per check):
//   types   tsc -p . --noEmit                            the whole project's types
//   layers  depcruise src --config .dependency-cruiser.cjs  the layer ranks of src (a backwards import fails)
//   lint    eslint src test bench scripts                ESLint + typescript-eslint (eslint.config.mjs)
// Each runs even when an earlier one failed, so one run shows every problem.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

export const CHECKS = [
  { name: 'types', cmd: bin('tsc'), args: ['-p', '.', '--noEmit'] },
  { name: 'layers', cmd: bin('depcruise'), args: ['src', '--config', '.dependency-cruiser.cjs'] },
  { name: 'lint', cmd: bin('eslint'), args: ['src', 'test', 'bench', 'scripts'] },
];

/** Runs every check in the repository root; returns the counts and the names of the checks that failed. */
export function runChecks(log = console.log) {
  const failures = [];
  for (const c of CHECKS) {
    const t0 = Date.now();
    const status = spawnSync(c.cmd, c.args, { cwd: ROOT, stdio: 'inherit' }).status ?? 1;
    log(`${c.name}: ${status === 0 ? 'ok' : `FAILED (exit ${status})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${path.basename(c.cmd)} ${c.args.join(' ')})`);
    if (status !== 0) failures.push(c.name);
  }
  return { passed: CHECKS.length - failures.length, failed: failures.length, failures };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = runChecks((m) => console.log(`[check] ${m}`));
  console.log(`${r.passed} passed, ${r.failed} failed${r.failed ? ` (${r.failures.join(', ')})` : ''}`);
  process.exit(r.failed ? 1 : 0);
}
