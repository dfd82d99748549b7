/**
 * The engine process as the extension uses it: dist/engine.js forked, one request over IPC, events back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineEvent, EngineRequest } from '../../src/core/engine/protocol';
import { illusion, modalityGap } from '../../src/core/analysis/gap';
import { readRun } from '../../src/core/runstore/runStore';
import { repoRoot } from '../helpers/realData';

const ENGINE = path.join(repoRoot(), 'dist', 'engine.js');
const MODEL = path.join(repoRoot(), 'models', 'umd-mini-ct-only.onnx');

function runEngine(req: EngineRequest, onEvent?: (e: EngineEvent, send: (m: unknown) => void) => void): Promise<{ events: EngineEvent[]; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = fork(ENGINE, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const events: EngineEvent[] = [];
    child.on('message', (e: EngineEvent) => {
      events.push(e);
      onEvent?.(e, (m) => child.send(m as never));
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ events, code }));
    child.send(req);
  });
}

test('engine process: phantom, then evaluate streams progress and ends with the run summary; cancel keeps finished cases', { timeout: 600_000 }, async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-engine-'));
  const gen = await runEngine({ type: 'phantom', outDir: data, subjects: 1, seed: 3 });
  assert.equal(gen.code, 0);
  assert.equal(gen.events.at(-1)?.type, 'result');
  assert.ok(fs.existsSync(path.join(data, 'PETMRI', 'sub-001', 'PET.nii.gz')));

  const runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-engine-runs-'));
  const full = await runEngine({ type: 'evaluate', modelPath: MODEL, datasetRoot: data, runsRoot });
  assert.equal(full.code, 0);
  const started = full.events.find((e) => e.type === 'started') as Extract<EngineEvent, { type: 'started' }>;
  assert.equal(started.total, 4);
  // one progress event per case, then evaluateRun's typed end (formerly a fifth progress event with message 'done')
  assert.equal(full.events.filter((e) => e.type === 'progress' || e.type === 'finished').length, 5);
  assert.equal(full.events.at(-2)?.type, 'finished');
  const last = full.events.at(-1)!;
  assert.ok(last.type === 'result' && last.request === 'evaluate', JSON.stringify(last));
  const done = last.result;
  assert.equal(done.cancelled, false);
  assert.equal(done.runDir, started.runDir);
  assert.deepEqual(done.summary.modalities.map((m) => m.modality), ['CT', 'MRI', 'PET']);
  assert.equal(readRun(done.runDir).cases.length, 4 * 13);

  // cancel after the first case has finished: that case stays on disk, the run ends early
  let sent = false;
  const cut = await runEngine({ type: 'evaluate', modelPath: MODEL, datasetRoot: data, runsRoot }, (e, send) => {
    if (e.type === 'progress' && e.done === 1 && !sent) { sent = true; send({ type: 'cancel' }); }
  });
  const cutLast = cut.events.at(-1)!;
  assert.ok(cutLast.type === 'result' && cutLast.request === 'evaluate', JSON.stringify(cutLast));
  const cutDone = cutLast.result;
  assert.equal(cutDone.cancelled, true);
  const kept = readRun(cutDone.runDir).cases;
  assert.ok(kept.length >= 13 && kept.length < 4 * 13, `kept ${kept.length} records`);

  // the modality gap of the full run, as the Modality Gap view asks for it: equal to the analysis run in-process;
  // the engine ends by itself (exit code 0, no process.exit: see finish() in src/core/engine/main.ts)
  const gap = await runEngine({ type: 'gap', runDir: done.runDir, options: { resamples: 2000 } });
  assert.equal(gap.code, 0);
  const gapLast = gap.events.at(-1)!;
  assert.ok(gapLast.type === 'result' && gapLast.request === 'gap', JSON.stringify(gapLast));
  const gapDone = gapLast.result;
  assert.deepEqual(gapDone.gap, modalityGap(readRun(done.runDir), { resamples: 2000 }));
  assert.deepEqual(gapDone.illusion, illusion(readRun(done.runDir)), 'reported vs measured, for the view\'s section');
  assert.ok(gapDone.gap.some((r) => r.pair === 'CT-PET' && r.organ === 'liver' && r.n === 1));

  const bad = await runEngine({ type: 'evaluate', modelPath: path.join(data, 'nope.onnx'), datasetRoot: data, runsRoot });
  assert.equal(bad.code, 1);
  const failed = bad.events.at(-1) as Extract<EngineEvent, { type: 'failed' }>;
  assert.equal(failed.type, 'failed');
  assert.match(failed.message, /nope\.onnx/);
});
