/**
 * Inference options of the CLI (--device, --threads, --overlap, --batch, --tta, --tta-axes), the time-left
 * estimate shown by the CLI and the extension, and `--device cuda` failing clearly through the real CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { inferenceArgs } from '../../src/cli/args';
import { UsageError } from '../../src/cli/usage';
import { Eta, formatDuration } from '../../src/core/evaluate/eta';
import { repoRoot } from '../helpers/realData';
import { CLI } from '../helpers/cli';

test('inference options parse, and bad values are usage errors naming the option', () => {
  assert.deepEqual(inferenceArgs({}), {});
  assert.deepEqual(inferenceArgs({ threads: '2', device: 'cuda', overlap: '0.25', batch: '4', tta: true }), { threads: 2, device: 'cuda', overlap: 0.25, batchSize: 4, tta: true });
  assert.deepEqual(inferenceArgs({ 'tta-axes': '2,0,2' }), { tta: [2, 0] });
  assert.deepEqual(inferenceArgs({ overlap: '0' }), { overlap: 0 });
  const bad: [Parameters<typeof inferenceArgs>[0], RegExp][] = [
    [{ threads: '0' }, /--threads must be a positive integer/], [{ batch: '1.5' }, /--batch must be a positive integer/],
    [{ device: 'gpu' }, /--device must be one of cpu, cuda/], [{ overlap: '1' }, /--overlap must be a number in \[0, 1\)/],
    [{ overlap: '' }, /--overlap/], [{ 'tta-axes': '3' }, /--tta-axes must list tensor axes/],
  ];
  for (const [v, re] of bad) assert.throws(() => inferenceArgs(v), (e: Error) => e instanceof UsageError && re.test(e.message));
});

test('time left: mean time per case (with the current case\'s fraction of windows) times the cases left', () => {
  let t = 0;
  const eta = new Eta(4, () => t);
  assert.equal(eta.secondsLeft(0), undefined, 'nothing known yet');
  t = 10_000;
  assert.equal(eta.secondsLeft(0.5), 70, 'half a case in 10 s: 3.5 cases left at 20 s each');
  eta.caseDone();
  t = 20_000;
  assert.equal(eta.secondsLeft(0), 60);
  assert.equal(formatDuration(44.6), '45 s');
  assert.equal(formatDuration(181), '3 min');
  assert.equal(formatDuration(4800), '1 h 20 min');
});

test('CLI: predict --device cuda without the CUDA binaries exits 1 naming the missing files and the install flag', () => {
  const cli = CLI;
  const model = path.join(repoRoot(), 'models', 'umd-mini-ct-only.onnx');
  const r = spawnSync('node', [cli, 'predict', model, '/nonexistent/ct.nii.gz', '--out', '/nonexistent/out.nii.gz', '--device', 'cuda'], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--device cuda: onnxruntime-node's CUDA binaries are not installed: .*libonnxruntime_providers_cuda\.so/);
  assert.match(r.stderr, /--onnxruntime-node-install=cuda12/);
  const usage = spawnSync('node', [cli, 'evaluate', model, '--data', '/x', '--overlap', '2'], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--overlap must be a number in \[0, 1\)/);
});
