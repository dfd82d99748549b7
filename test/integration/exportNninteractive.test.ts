/**
 * The nnInteractive exporter (export/nninteractive) against the upstream code, random weights: the exported .onnx
 * run in onnxruntime-node must give the upstream PyTorch network's logits on inputs built by upstream's own
 * interaction code (export/nninteractive/parity_case.py writes the model folder, runs the exporter, the inputs and
 * the reference logits).
 *
 * Needs source checkouts of the upstream repositories, named by environment variables; without them the test is
 * skipped with the reason (never a failure):
 *   UMD_UPSTREAM_NNINTERACTIVE  MIC-DKFZ/nnInteractive   (PointInteraction_stub: how a click is drawn)
 *   UMD_UPSTREAM_DNA            MIC-DKFZ/dynamic-network-architectures (the ResidualEncoderUNet)
 *   UMD_UPSTREAM_NNUNET         MIC-DKFZ/nnUNet, optional (get_network_from_plans builds the reference network)
 * and /usr/bin/python3 with torch and onnx.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { engineLoads, missingUpstream, PYTHON, readF32 } from '../helpers/exportParity';
import { repoRoot } from '../helpers/realData';

const CASE_SCRIPT = path.join(repoRoot(), 'export', 'nninteractive', 'parity_case.py');

interface ParityCase { name: string; input: string; inputShape: number[]; logits: string; logitsShape: number[]; note: string }
interface Manifest { onnx: string; card: string; warnings: string[]; cases: ParityCase[]; standIns: string[]; referenceBuilder: string; upstreamPointBall: { voxels: number; max: number; minNonzero: number } }

/** Why the upstream test cannot run here, or undefined when it can. */
function missing(): string | undefined {
  const nnunet = process.env.UMD_UPSTREAM_NNUNET;
  if (nnunet && !fs.existsSync(path.join(nnunet, 'nnunetv2', 'utilities', 'get_network_from_plans.py'))) return `UMD_UPSTREAM_NNUNET=${nnunet} has no nnunetv2/utilities/get_network_from_plans.py`;
  return missingUpstream({ UMD_UPSTREAM_NNINTERACTIVE: 'nnInteractive/interaction/point.py', UMD_UPSTREAM_DNA: 'dynamic_network_architectures/architectures/unet.py' }, ['torch', 'onnx', 'scipy']);
}


/** Foreground = channel 1 is the argmax (first channel wins ties), as nnInteractive's argmax(0) and the card's softmax. */
function foreground(logits: Float32Array, n: number): Uint8Array {
  const m = new Uint8Array(n);
  for (let v = 0; v < n; v++) m[v] = logits[n + v] > logits[v] ? 1 : 0;
  return m;
}

function agreement(a: Uint8Array, b: Uint8Array): { equal: number; dice: number } {
  let eq = 0, inter = 0, sa = 0, sb = 0;
  for (let v = 0; v < a.length; v++) {
    if (a[v] === b[v]) eq++;
    inter += a[v] & b[v];
    sa += a[v];
    sb += b[v];
  }
  return { equal: eq / a.length, dice: sa + sb === 0 ? 1 : (2 * inter) / (sa + sb) };
}

const skip = missing();

test('nnInteractive export: onnxruntime-node logits equal the upstream PyTorch network on upstream-built interactions', { skip, timeout: 300_000 }, async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-nni-parity-'));
  try {
    const args = [CASE_SCRIPT, out, '--nninteractive', process.env.UMD_UPSTREAM_NNINTERACTIVE!, '--dna', process.env.UMD_UPSTREAM_DNA!];
    if (process.env.UMD_UPSTREAM_NNUNET) args.push('--nnunet', process.env.UMD_UPSTREAM_NNUNET);
    const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
    assert.equal(r.status, 0, `${CASE_SCRIPT} failed:\n${r.stderr}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    t.diagnostic(`reference network: ${manifest.referenceBuilder}; stood in for absent packages: ${manifest.standIns.join(', ') || 'none'}`);

    // the card, as docs/foundation-models.md section 2 writes it, consistent with the graph
    const card = JSON.parse(fs.readFileSync(path.join(out, manifest.card), 'utf8'));
    assert.equal(card.kind, 'promptable');
    assert.deepEqual(card.prompt.channels, ['previous', 'box', 'box-negative', 'positive', 'negative', 'empty', 'empty']);
    assert.equal(card.prompt.radiusVoxels, 4);
    assert.equal(card.spacing, null);
    assert.deepEqual(card.cropSize, [24, 32, 40]);
    assert.equal(card.spatialOrder, 'kji');
    assert.equal(card.prompt.interactionDecay, 0.98);
    assert.equal(card.cropNormalization, 'image');
    // the family's official point rule and crop (docs/foundation-models.md section 6), read by the engine as written
    const loaded = await engineLoads(path.join(out, manifest.onnx));
    assert.deepEqual(loaded.warnings, [], 'the engine reads the exported card without warnings');
    assert.equal(loaded.card.pointRule, 'center');
    assert.equal(loaded.card.crop, 'prompt');
    assert.deepEqual(loaded.card.prompt?.channels, card.prompt.channels);

    const session = await ort.InferenceSession.create(path.join(out, manifest.onnx));
    assert.deepEqual(session.inputNames, [card.inputs.image]);
    assert.deepEqual(session.outputNames, [card.outputs.logits]);
    const results: Record<string, { maxAbs: number; equal: number; dice: number; fg: number }> = {};
    for (const c of manifest.cases) {
      assert.equal(c.inputShape[1], 1 + card.prompt.channels.length, `${c.name}: image + one channel per card entry`);
      assert.deepEqual(c.inputShape.slice(2), card.cropSize, `${c.name}: the crop is cropSize`);
      const x = readF32(path.join(out, c.input));
      const ref = readF32(path.join(out, c.logits));
      const got = (await session.run({ [card.inputs.image]: new ort.Tensor('float32', x, c.inputShape) }))[card.outputs.logits];
      assert.deepEqual(got.dims, c.logitsShape, `${c.name}: logits shape`);
      const y = got.data as Float32Array;
      let maxAbs = 0, maxRef = 0;
      for (let i = 0; i < y.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(y[i] - ref[i]));
        maxRef = Math.max(maxRef, Math.abs(ref[i]));
      }
      const n = y.length / 2;
      const a = foreground(y, n);
      const b = foreground(ref, n);
      const ag = agreement(a, b);
      results[c.name] = { maxAbs, ...ag, fg: b.reduce((s, v) => s + v, 0) / n };
      t.diagnostic(`${c.name}: max |logit diff| ${maxAbs.toExponential(2)} (max |logit| ${maxRef.toFixed(2)}), mask agreement ${(100 * ag.equal).toFixed(3)}%, Dice ${ag.dice.toFixed(5)}, reference foreground ${(100 * results[c.name].fg).toFixed(1)}%`);
      // float32 convolutions summed in another order: differences of 1e-5 relative, never a structural error
      assert.ok(maxAbs <= 1e-4 * Math.max(1, maxRef), `${c.name}: max |logit diff| ${maxAbs} vs max |logit| ${maxRef}`);
      assert.ok(ag.equal >= 0.999, `${c.name}: mask agreement ${ag.equal}`);
      // a network that says the same everywhere would make agreement meaningless
      assert.ok(results[c.name].fg > 0.05 && results[c.name].fg < 0.95, `${c.name}: reference foreground fraction ${results[c.name].fg}`);
    }
    // the inputs really differ (the click, the previous mask, the box reach the network) ...
    for (const [p, q] of [['click1', 'click2'], ['click1', 'box']]) {
      const ra = foreground(readF32(path.join(out, `${p}.logits.f32`)), 24 * 32 * 40);
      const rb = foreground(readF32(path.join(out, `${q}.logits.f32`)), 24 * 32 * 40);
      assert.ok(agreement(ra, rb).equal < 0.99, `${p} and ${q} give different masks`);
    }
    // ... and the contract's 0/1 ball covers the same voxels as upstream's distance-transform ball (ball(4): 257)
    assert.equal(manifest.upstreamPointBall.voxels, 257);
    assert.ok(manifest.upstreamPointBall.minNonzero < 0.3, 'upstream ball falls off to ~1/sqrt(17) at its rim');
    const cc = agreement(foreground(readF32(path.join(out, 'click1.logits.f32')), 24 * 32 * 40), foreground(readF32(path.join(out, 'click1-contract.logits.f32')), 24 * 32 * 40));
    t.diagnostic(`contract 0/1 ball vs upstream distance-transform ball (random weights, same network): mask agreement ${(100 * cc.equal).toFixed(2)}%, Dice ${cc.dice.toFixed(4)}`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0 ? undefined : `${PYTHON} cannot import torch`;

/** channel_mapping + card_channels of the exporter on a capability dict (Python, no upstream code needed). */
function channelsFor(capability: object, box: string): { kinds: string[]; warnings: string[]; n: number } {
  const code = `import json, sys; sys.path.insert(0, ${JSON.stringify(path.dirname(CASE_SCRIPT))}); import export_nninteractive as e
m, s, n = e.channel_mapping(json.loads(sys.argv[1])); k, w = e.card_channels(m, s, n, sys.argv[2]); print(json.dumps({"kinds": k, "warnings": w, "n": n}))`;
  const r = spawnSync(PYTHON, ['-c', code, JSON.stringify(capability), box], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('nnInteractive export: the card channels follow the checkpoint capability as the session resolves it', { skip: torchMissing }, () => {
  // no capability metadata: the session's legacy default (the official v1.0), 2D boxes only
  const legacy = channelsFor({}, 'auto');
  assert.deepEqual(legacy.kinds, ['previous', 'empty', 'empty', 'positive', 'negative', 'empty', 'empty']);
  assert.match(legacy.warnings.join('\n'), /only 2D boxes/);
  assert.deepEqual(channelsFor({}, '3d').kinds, ['previous', 'box', 'box-negative', 'positive', 'negative', 'empty', 'empty']);
  // a remapped checkpoint with negative (from the end) indices and its own channel count
  const remapped = channelsFor({ interaction_channels: 4, supported_interactions: { bbox3d: true, scribble: false, lasso: false }, channel_mapping: { prev_seg: -1, points: [0, 1], bbox3d: [2, 3], bbox2d: [2, 3], scribble: [2, 3], lasso: [2, 3] } }, 'auto');
  assert.equal(remapped.n, 5);
  assert.deepEqual(remapped.kinds, ['positive', 'negative', 'box', 'box-negative', 'previous']);
});
