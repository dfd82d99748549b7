/**
 * The SegVol exporter (export/segvol) against the upstream code, random weights: the exported encoder and decoder
 * graphs, chained in onnxruntime-node as the card says (encoder once, its image_embeddings into each decoder), must
 * give upstream SegVol.forward's low-resolution logits (export/segvol/parity_case.py builds a small SegVol from the
 * upstream classes, exports it and records them).
 *
 * Needs source checkouts named by environment variables; without them the test is skipped with the reason:
 *   UMD_UPSTREAM_SEGVOL  BAAI-DCAI/SegVol
 *   UMD_UPSTREAM_MONAI   Project-MONAI/MONAI at tag 0.9.0 (SegVol's pinned version: its ViT still takes pos_embed)
 *   UMD_UPSTREAM_EINOPS  arogozhnikov/einops
 * and /usr/bin/python3 with torch and onnx. The CLIP text encoder is not run (it needs transformers and the
 * checkpoint); a fixed random 768-vector stands for its precomputed row.
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

const CASE_SCRIPT = path.join(repoRoot(), 'export', 'segvol', 'parity_case.py');

interface Feed { file: string; shape: number[] }
interface SegvolCase { name: string; decoder: string; card: string; feeds: Record<string, Feed>; low: string; lowShape: number[]; upstreamResizeMaxDiff: number; fullForeground: number }
interface Manifest { encoder: string; image: string; imageShape: number[]; embeddings: string; embeddingsShape: number[]; cases: SegvolCase[]; standIns: string[] }

const missing = (): string | undefined => missingUpstream({ UMD_UPSTREAM_SEGVOL: 'network/model.py', UMD_UPSTREAM_MONAI: 'monai/networks/nets/vit.py', UMD_UPSTREAM_EINOPS: 'einops/__init__.py' });


function compare(got: Float32Array, ref: Float32Array): { maxAbs: number; maxRef: number; equal: number; dice: number } {
  let maxAbs = 0, maxRef = 0, eq = 0, inter = 0, sa = 0, sb = 0;
  for (let i = 0; i < ref.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(got[i] - ref[i]));
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    // sigmoid > 0.5, as SegVol's dice_score and the card's activation "sigmoid"
    const a = got[i] > 0 ? 1 : 0, b = ref[i] > 0 ? 1 : 0;
    eq += a === b ? 1 : 0;
    inter += a & b;
    sa += a;
    sb += b;
  }
  return { maxAbs, maxRef, equal: eq / ref.length, dice: sa + sb ? (2 * inter) / (sa + sb) : 1 };
}

test('SegVol export: encoder + decoder graphs in onnxruntime-node equal upstream SegVol.forward (random weights)', { skip: missing(), timeout: 600_000 }, async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-segvol-parity-'));
  try {
    const r = spawnSync(PYTHON, [CASE_SCRIPT, out, '--segvol', process.env.UMD_UPSTREAM_SEGVOL!, '--monai', process.env.UMD_UPSTREAM_MONAI!, '--einops', process.env.UMD_UPSTREAM_EINOPS!], { encoding: 'utf8', maxBuffer: 16 << 20 });
    assert.equal(r.status, 0, `${CASE_SCRIPT} failed:\n${r.stderr}`);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    t.diagnostic(`stood in for absent packages (imported, never called here): ${m.standIns.join(', ') || 'none'}`);

    const encoder = await ort.InferenceSession.create(path.join(out, m.encoder));
    const image = new ort.Tensor('float32', readF32(path.join(out, m.image)), m.imageShape);
    const emb = (await encoder.run({ image })).image_embeddings;
    assert.deepEqual(emb.dims, m.embeddingsShape);
    const e = compare(emb.data as Float32Array, readF32(path.join(out, m.embeddings)));
    t.diagnostic(`encoder: max |embedding diff| ${e.maxAbs.toExponential(2)} (max |embedding| ${e.maxRef.toFixed(2)})`);
    assert.ok(e.maxAbs <= 1e-4 * Math.max(1, e.maxRef), `encoder: ${e.maxAbs}`);

    const masks: Record<string, Float32Array> = {};
    for (const c of m.cases) {
      const card = JSON.parse(fs.readFileSync(path.join(out, c.card), 'utf8'));
      // the card as docs/foundation-models.md sections 1 and 4 write it, naming this decoder's inputs
      assert.equal(card.decoder.file, c.decoder);
      assert.deepEqual(card.decoder.embeddings, ['image_embeddings']);
      assert.deepEqual(card.logits, { size: c.lowShape.slice(2), upsample: 'trilinear', activation: 'sigmoid' });
      // the engine opens it as written (decoder inputs vs the card, the text rows' size): the card's own graph is the
      // encoder, so it sits beside the card under the card's name
      const own = path.join(out, c.card.replace(/\.umd\.json$/, '.onnx'));
      if (!fs.existsSync(own)) fs.linkSync(path.join(out, m.encoder), own);
      const loaded = await engineLoads(own);
      assert.deepEqual(loaded.warnings, [], `${c.name}: the engine reads the exported card without warnings`);
      assert.equal(loaded.card.decoder?.file, c.decoder);
      assert.equal(loaded.card.pointRule, 'random', `${c.name}: SegVol's select_points draws an organ voxel`);
      assert.equal(loaded.card.crop, 'prompt');
      assert.equal(c.upstreamResizeMaxDiff, 0, `${c.name}: upstream's full-resolution logits are the trilinear resize of the low-res ones`);
      const decoder = await ort.InferenceSession.create(path.join(out, c.decoder));
      const feeds: Record<string, ort.Tensor> = { image_embeddings: emb };
      for (const [k, f] of Object.entries(c.feeds)) feeds[k] = new ort.Tensor('float32', readF32(path.join(out, f.file)), f.shape);
      const expected = [card.prompt.points, card.prompt.pointLabels, card.prompt.box, card.prompt.text?.input].filter(Boolean);
      assert.deepEqual([...decoder.inputNames].sort(), ['image_embeddings', ...expected].sort(), `${c.name}: decoder inputs are the card's`);
      if (card.prompt.text) {
        // the text file holds rows x dim float32; its row for the organ is what was fed
        const rows = readF32(path.join(out, card.prompt.text.file));
        assert.equal(rows.length, card.prompt.text.rows.length * card.prompt.text.dim);
        assert.deepEqual(rows, readF32(path.join(out, c.feeds.text_embedding.file)));
      }
      const low = (await decoder.run(feeds)).low_res_logits;
      assert.deepEqual(low.dims, c.lowShape);
      const d = compare(low.data as Float32Array, readF32(path.join(out, c.low)));
      masks[c.name] = low.data as Float32Array;
      t.diagnostic(`${c.name}: max |low-res logit diff| ${d.maxAbs.toExponential(2)} (max |logit| ${d.maxRef.toFixed(2)}), mask agreement ${(100 * d.equal).toFixed(3)}%, Dice ${d.dice.toFixed(5)}, upstream full-res foreground ${(100 * c.fullForeground).toFixed(1)}%`);
      assert.ok(d.maxAbs <= 1e-4 * Math.max(1, d.maxRef), `${c.name}: max |logit diff| ${d.maxAbs}`);
      assert.ok(d.equal >= 0.999, `${c.name}: mask agreement ${d.equal}`);
      assert.ok(c.fullForeground > 0.02 && c.fullForeground < 0.98, `${c.name}: a mask that is neither empty nor full`);
    }
    // the prompts reach the decoder: different prompts, different masks
    assert.ok(compare(masks['point'], masks['text+point']).equal < 0.99, 'text changes the mask');
    assert.ok(compare(masks['text+box'], masks['text+point']).equal < 0.99, 'box vs points changes the mask');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
