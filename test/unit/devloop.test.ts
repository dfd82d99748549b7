/**
 * The engine side of the dev-loop features: the gates request checks a real run in dist/engine.js exactly as
 * the in-process check does, and card problems land on the key they name (keys with spaces and dots included).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { parseTree } from 'jsonc-parser/lib/esm/main.js';
import { evaluateGates, parseGates } from '../../src/core/analysis/gates';
import type { EngineEvent } from '../../src/core/engine/protocol';
import { CardError } from '../../src/core/model/card/jsonChecks';
import { validateCard } from '../../src/core/model/card/loadCard';
import { readRun } from '../../src/core/runstore/runStore';
import { keyNodeFor } from '../../src/extension/card/cardKeyPath';
import { demoRuns } from '../helpers/demoRuns';
import { repoRoot } from '../helpers/realData';

const ENGINE = path.join(repoRoot(), 'dist', 'engine.js');

function engine(req: unknown): Promise<EngineEvent[]> {
  return new Promise((resolve, reject) => {
    const child = fork(ENGINE, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const events: EngineEvent[] = [];
    child.on('message', (e: EngineEvent) => events.push(e));
    child.on('error', reject);
    child.on('exit', () => resolve(events));
    child.send(req as never);
  });
}

test('engine gates request: the unsaved text of a gates file checked against a real run, as the in-process check', { timeout: 900_000 }, async () => {
  const { ctOnly, multimodal } = await demoRuns();
  const text = '{ "gates": [\n  { "organ": "*", "modality": "CT", "minDice": 0.5 },\n  { "organ": "liver", "modality": "MRI", "minNsd": 0.99 },\n  { "maxRegression": 0.01 }\n] }';
  const file = path.join(repoRoot(), 'umd.gates.json'); // never read: gatesText wins
  const events = await engine({ type: 'gates', runDir: ctOnly, gatesFile: file, gatesText: text, baselineDir: multimodal });
  const result = events.find((e): e is Extract<EngineEvent, { type: 'result'; request: 'gates' }> => e.type === 'result' && e.request === 'gates');
  assert.ok(result, JSON.stringify(events));
  const done = result.result;
  const expected = evaluateGates(readRun(ctOnly), parseGates(text, file), readRun(multimodal));
  assert.deepEqual(done.gates, expected);
  assert.ok(expected.some((r) => !r.pass) && expected.some((r) => r.pass), 'both outcomes present');
  const liverMri = done.gates.find((r) => r.gate.kind === 'minNsd')!;
  assert.equal(liverMri.line, 3);
  const nsd = readRun(ctOnly).cases.filter((r) => r.organ === 'liver' && r.modality === 'MRI' && typeof r.nsd === 'number').map((r) => r.nsd!);
  assert.equal(liverMri.measured, nsd.reduce((a, b) => a + b, 0) / nsd.length);

  // an invalid file is the engine's failure naming the file, line and key; no stack reaches the message
  const bad = await engine({ type: 'gates', runDir: ctOnly, gatesFile: file, gatesText: '{ "gates": [ { "minDise": 0.5 } ] }' });
  const failed = bad.find((e): e is Extract<EngineEvent, { type: 'failed' }> => e.type === 'failed');
  assert.ok(failed);
  assert.match(failed.message, /umd\.gates\.json:1:\d+: gates\[0\]\.minDise: unknown key/);
  assert.ok(!failed.message.includes('    at '));
});

test('card problems: the key path of each message is found in the JSON, keys with spaces and dots included', () => {
  const text = JSON.stringify({
    kind: 'semantic', inputs: { image: 'x' }, outputs: { logits: 'y' }, patchSize: null, spatialOrder: 'kji', spacing: null,
    normalization: { '*': { method: 'zscore', lowr: 1 } }, labels: { '1': 'Kidney (L)', '2': 'liver' },
    organMap: { 'Kidney (L)': 3 }, reported: { 'left kidney': { dice: 2 } }, colour: 1,
  }, null, 2);
  const root = parseTree(text)!;
  let err: CardError | undefined;
  try {
    validateCard(JSON.parse(text), 'm.umd.json');
  } catch (e) {
    err = e as CardError;
  }
  assert.ok(err instanceof CardError);
  const keyAt = (msg: string) => {
    const n = keyNodeFor(root, msg.replace(/^m\.umd\.json: /, '').replace(/^unknown key /, ''));
    assert.ok(n, `no key for: ${msg}`);
    return `${text.slice(0, n.offset).split('\n').length}:${n.value}`;
  };
  const line = (needle: string) => `${text.split('\n').findIndex((l) => l.includes(needle)) + 1}`;
  const problems = err.problems.map(keyAt).sort();
  assert.deepEqual(problems, [`${line('"Kidney (L)": 3')}:Kidney (L)`, `${line('"dice": 2')}:dice`].sort(), err.problems.join('\n'));
  const warnings = err.warnings.map(keyAt);
  assert.ok(warnings.includes(`${line('"colour"')}:colour`), err.warnings.join('\n'));
  assert.ok(warnings.includes(`${line('"lowr"')}:lowr`), err.warnings.join('\n'));
  assert.equal(keyNodeFor(root, 'nothing here'), undefined);
});
