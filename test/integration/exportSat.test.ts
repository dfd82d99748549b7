/**
 * The SAT exporter (export/sat) against the upstream code, random weights: the exported graph in onnxruntime-node
 * must give upstream Maskformer's logits for one window and three text queries (export/sat/parity_case.py builds
 * SAT-Nano's Maskformer from the upstream classes on a 64 x 64 x 32 window, exports it and records them).
 *
 * Needs source checkouts named by environment variables; without them the test is skipped with the reason:
 *   UMD_UPSTREAM_SAT      zhaoziheng/SAT (with its vendored dynamic-network-architectures)
 *   UMD_UPSTREAM_POSENC   tatp22/multidim-positional-encoding (positional_encodings)
 *   UMD_UPSTREAM_EINOPS   arogozhnikov/einops
 * and /usr/bin/python3 with torch and onnx. The text encoder (BioLORD through transformers) is not run: random
 * 768-d rows stand for its precomputed output. The graph is about 330 MB, written to the temp folder and removed.
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

const CASE_SCRIPT = path.join(repoRoot(), 'export', 'sat', 'parity_case.py');

interface Manifest { onnx: string; card: string; image: string; imageShape: number[]; queriesShape: number[]; logits: string; logitsShape: number[]; foreground: number[] }

const missing = (): string | undefined => missingUpstream({ UMD_UPSTREAM_SAT: 'model/maskformer.py', UMD_UPSTREAM_POSENC: 'positional_encodings/torch_encodings.py', UMD_UPSTREAM_EINOPS: 'einops/__init__.py' });


test('SAT export: the graph in onnxruntime-node equals upstream Maskformer on one window and three text queries (random weights)', { skip: missing(), timeout: 900_000 }, async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-sat-parity-'));
  try {
    const r = spawnSync(PYTHON, [CASE_SCRIPT, out, '--sat', process.env.UMD_UPSTREAM_SAT!, '--posenc', process.env.UMD_UPSTREAM_POSENC!, '--einops', process.env.UMD_UPSTREAM_EINOPS!], { encoding: 'utf8', maxBuffer: 16 << 20 });
    assert.equal(r.status, 0, `${CASE_SCRIPT} failed:\n${r.stderr}`);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    const card = JSON.parse(fs.readFileSync(path.join(out, m.card), 'utf8'));
    // the card as docs/foundation-models.md section 4 writes it: rows x dim float32, one row per organ and modality
    assert.equal(card.kind, 'semantic');
    const text = card.prompt.text;
    assert.equal(text.input, 'queries');
    assert.deepEqual(text.rows, [{ organ: 'liver', modality: 'CT' }, { organ: 'spleen', modality: 'CT' }, { organ: 'left kidney', modality: 'CT' }]);
    const rows = readF32(path.join(out, text.file));
    assert.equal(rows.length, text.rows.length * text.dim);
    assert.deepEqual(card.patchSize, m.imageShape.slice(2));
    // the engine opens it as written: a semantic card asking its classes by text rows, the text file's size checked
    const loaded = await engineLoads(path.join(out, m.onnx));
    assert.deepEqual(loaded.warnings, [], 'the engine reads the exported card without warnings');
    assert.equal(loaded.card.prompt?.text?.rows.length, text.rows.length);

    const session = await ort.InferenceSession.create(path.join(out, m.onnx));
    assert.deepEqual([...session.inputNames].sort(), [card.inputs.image, text.input].sort());
    const feeds = { [card.inputs.image]: new ort.Tensor('float32', readF32(path.join(out, m.image)), m.imageShape), [text.input]: new ort.Tensor('float32', rows, [text.rows.length, text.dim]) };
    const got = (await session.run(feeds))[card.outputs.logits];
    assert.deepEqual(got.dims, m.logitsShape);
    const y = got.data as Float32Array;
    const ref = readF32(path.join(out, m.logits));
    const n = ref.length / text.rows.length;
    let maxAbs = 0, maxRef = 0;
    for (let i = 0; i < ref.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(y[i] - ref[i]));
      maxRef = Math.max(maxRef, Math.abs(ref[i]));
    }
    t.diagnostic(`max |logit diff| ${maxAbs.toExponential(2)} (max |logit| ${maxRef.toFixed(2)})`);
    assert.ok(maxAbs <= 1e-4 * Math.max(1, maxRef), `max |logit diff| ${maxAbs}`);
    for (let q = 0; q < text.rows.length; q++) {
      let eq = 0, inter = 0, sa = 0, sb = 0;
      for (let v = q * n; v < (q + 1) * n; v++) {
        const a = y[v] > 0 ? 1 : 0, b = ref[v] > 0 ? 1 : 0; // sigmoid > 0.5, per query, as SAT thresholds
        eq += a === b ? 1 : 0;
        inter += a & b;
        sa += a;
        sb += b;
      }
      t.diagnostic(`query ${q} (${text.rows[q].organ}): mask agreement ${((100 * eq) / n).toFixed(3)}%, Dice ${(sa + sb ? (2 * inter) / (sa + sb) : 1).toFixed(5)}, reference foreground ${(100 * m.foreground[q]).toFixed(1)}%`);
      assert.ok(eq / n >= 0.999, `query ${q}: mask agreement ${eq / n}`);
      assert.ok(m.foreground[q] > 0.02 && m.foreground[q] < 0.98, `query ${q}: a mask that is neither empty nor full`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
