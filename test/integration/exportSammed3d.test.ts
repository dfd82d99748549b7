/**
 * The SAM-Med3D exporter (export/sammed3d) against the upstream code, random weights. export/sammed3d/parity_case.py
 * builds a small Sam3D from the upstream classes, exports it, and runs upstream's own 5-click inference loop
 * (utils/infer_utils.py sam_model_infer, with its random_sample_next_click) on a synthetic crop, recording the
 * clicks it drew, each click's low-resolution logits and the final 128^3 mask. Here:
 * - the exported encoder in onnxruntime-node on the same normalized crop gives upstream's image embedding;
 * - the engine's own encoder-decoder path (promptOrgan: crop grid, z-score of the crop above 0, click feeds in
 *   tensor order, previous logits fed back, trilinear resize, sigmoid > 0.5), replaying those clicks on the raw
 *   crop as a 1.5 mm image, gives upstream's logits click by click and its final mask, encoding the crop once.
 *
 * Needs a source checkout named by an environment variable; without it the test is skipped with the reason:
 *   UMD_UPSTREAM_SAMMED3D  uni-medical/SAM-Med3D (or SegAnyPET's code/ folder: the same segment_anything and utils)
 * and /usr/bin/python3 with torch and onnx.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { axisAlignedAffine, voxelToWorld, type Grid, type VoxelIndex, type WorldMm } from '../../src/core/geometry/affine';
import { loadModel } from '../../src/core/model/predict';
import { promptOrgan } from '../../src/core/model/promptable/promptOrgan';
import { newOrganPromptState } from '../../src/core/model/promptable/promptState';
import type { PromptPoint } from '../../src/core/prompts/promptPoint';
import { engineLoads, missingUpstream, PYTHON, readF32 } from '../helpers/exportParity';
import { repoRoot } from '../helpers/realData';

const CASE_SCRIPT = path.join(repoRoot(), 'export', 'sammed3d', 'parity_case.py');

interface Manifest {
  encoder: string; decoder: string; card: string; image: string; imageShape: number[]; embeddings: string; embeddingsShape: number[];
  clicks: Array<{ point: [number, number, number]; label: 0 | 1 }>; lows: string[]; lowShape: number[];
  raw: string; finalMask: string; finalForeground: number; organFraction: number; standIns: string[];
}

const missing = (): string | undefined => missingUpstream({ UMD_UPSTREAM_SAMMED3D: 'segment_anything/modeling/prompt_encoder3D.py' });

function maxAbs(got: Float32Array, ref: Float32Array): { diff: number; ref: number } {
  assert.equal(got.length, ref.length);
  let diff = 0, max = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    max = Math.max(max, Math.abs(ref[i]));
  }
  return { diff, ref: max };
}

function agreement(a: Uint8Array, b: Uint8Array): { equal: number; dice: number } {
  assert.equal(a.length, b.length);
  let eq = 0, inter = 0, sa = 0, sb = 0;
  for (let i = 0; i < a.length; i++) {
    eq += a[i] === b[i] ? 1 : 0;
    inter += a[i] & b[i];
    sa += a[i];
    sb += b[i];
  }
  return { equal: eq / a.length, dice: sa + sb ? (2 * inter) / (sa + sb) : 1 };
}

test('SAM-Med3D export: 5 clicks through the engine equal upstream sam_model_infer, encoder once (random weights)', { skip: missing(), timeout: 600_000 }, async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-sammed3d-parity-'));
  try {
    const r = spawnSync(PYTHON, [CASE_SCRIPT, out, '--sammed3d', process.env.UMD_UPSTREAM_SAMMED3D!, '--clicks', '5'], { encoding: 'utf8', maxBuffer: 16 << 20 });
    assert.equal(r.status, 0, `${CASE_SCRIPT} failed:\n${r.stderr}`);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    t.diagnostic(`stood in for absent packages (imported, never called here): ${m.standIns.join(', ') || 'none'}`);
    t.diagnostic(`upstream's clicks: ${m.clicks.map((c) => `${c.label ? '+' : '-'}(${c.point.join(',')})`).join(' ')}`);
    assert.equal(m.clicks.length, 5);
    assert.equal(m.clicks[0].label, 1, "random_sample_next_click's first click is a positive organ voxel");

    // the card as written, opened by the engine without complaint
    const onnx = path.join(out, m.encoder);
    const loaded = await engineLoads(onnx);
    assert.deepEqual(loaded.warnings, [], 'the engine reads the exported card without warnings');
    assert.equal(loaded.card.decoder?.file, m.decoder);
    assert.deepEqual(loaded.card.decoder?.embeddings, ['image_embeddings']);
    assert.deepEqual(loaded.card.cropSize, [128, 128, 128]);
    assert.deepEqual(loaded.card.spacing, [1.5, 1.5, 1.5]);
    assert.deepEqual(loaded.card.logits, { size: [32, 32, 32], upsample: 'trilinear', activation: 'sigmoid' });
    assert.deepEqual(loaded.card.prompt?.previousMask, { input: 'mask_inputs', form: 'logits' });
    assert.equal(loaded.card.pointRule, 'random', "SAM-Med3D's click is a uniformly drawn organ voxel");
    assert.equal(loaded.card.crop, 'prompt', 'the default crop is centred on the click, not on the ground truth');

    // the encoder graph on upstream's own normalized crop
    const encoder = await ort.InferenceSession.create(onnx);
    const emb = (await encoder.run({ image: new ort.Tensor('float32', readF32(path.join(out, m.image)), m.imageShape) })).image_embeddings;
    assert.deepEqual(emb.dims, m.embeddingsShape);
    const e = maxAbs(emb.data as Float32Array, readF32(path.join(out, m.embeddings)));
    t.diagnostic(`encoder: max |embedding diff| ${e.diff.toExponential(2)} (max |embedding| ${e.ref.toFixed(2)})`);
    assert.ok(e.diff <= 1e-4 * Math.max(1, e.ref), `encoder: ${e.diff}`);

    // the engine on the raw crop as a 1.5 mm RAS image whose grid is the crop's: centred on the image centre (the
    // official rule's centre), so the crop resample is the identity and the clicks land on upstream's voxels
    const model = await loadModel(onnx, { threads: 2 });
    try {
      const grid: Grid = { dims: [128, 128, 128], affine: axisAlignedAffine([1.5, 1.5, 1.5], [0, 0, 0]) };
      const image = { ...grid, data: readF32(path.join(out, m.raw)) };
      const centreMm = voxelToWorld(grid.affine, [63.5, 63.5, 63.5] as unknown as VoxelIndex) as WorldMm;
      const state = newOrganPromptState();
      const points: PromptPoint[] = [];
      let mask: Uint8Array = new Uint8Array(0);
      for (let k = 0; k < m.clicks.length; k++) {
        const voxel = m.clicks[k].point as unknown as VoxelIndex;
        points.push({ voxel, mm: voxelToWorld(grid.affine, voxel), label: m.clicks[k].label });
        mask = await promptOrgan(model, image, 'PET', { points: [...points], centreMm }, state, grid);
        assert.deepEqual(state.crop?.affine, grid.affine, 'the crop grid is the image grid');
        if (k === 0) {
          const ee = maxAbs(state.embeddings!.image_embeddings.data as Float32Array, readF32(path.join(out, m.embeddings)));
          t.diagnostic(`engine's encoder run (its own crop and z-score): max |embedding diff| ${ee.diff.toExponential(2)}`);
          assert.ok(ee.diff <= 1e-4 * Math.max(1, ee.ref), `engine embedding: ${ee.diff}`);
        }
        const low = maxAbs(state.previousLogits!.data as Float32Array, readF32(path.join(out, m.lows[k])));
        t.diagnostic(`click ${k + 1}: max |low-res logit diff| ${low.diff.toExponential(2)} (max |logit| ${low.ref.toFixed(2)})`);
        assert.ok(low.diff <= 1e-4 * Math.max(1, low.ref), `click ${k + 1}: ${low.diff}`);
      }
      assert.deepEqual(state.runs, { encoder: 1, decoder: 5 }, 'the crop is encoded once for 5 clicks');
      const ref = new Uint8Array(fs.readFileSync(path.join(out, m.finalMask)));
      const a = agreement(mask, ref);
      t.diagnostic(`final 128^3 mask vs upstream: agreement ${(100 * a.equal).toFixed(4)}%, Dice ${a.dice.toFixed(5)}, upstream foreground ${(100 * m.finalForeground).toFixed(1)}% (organ ${(100 * m.organFraction).toFixed(1)}%)`);
      assert.ok(a.equal >= 0.999, `mask agreement ${a.equal}`);
      assert.ok(m.finalForeground > 0.02 && m.finalForeground < 0.98, 'a mask that is neither empty nor full');
      // the clicks reach the decoder: the first click's mask differs from the last one's
      const first = readF32(path.join(out, m.lows[0])), last = readF32(path.join(out, m.lows[4]));
      assert.ok(maxAbs(first, last).diff > 0.1, 'later clicks change the logits');
    } finally {
      await model.close();
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
