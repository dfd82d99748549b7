/**
 * The VISTA3D exporter (export/vista3d) against MONAI's VISTA3D, random weights. export/vista3d/parity_case.py
 * builds upstream's vista3d132 at 8 encoder features, exports its class path, and records:
 * - VISTA3D.forward(image, class_vector) on one 128^3 patch: the graph in onnxruntime-node must give its logits;
 * - VISTA's automatic inference on a CT-like volume (ScaleIntensityRanged, MONAI's sliding_window_inference at
 *   128^3, overlap 0.625, gaussian, VistaPostTransformd): the engine's own sliding window (predictClasses on the
 *   raw volume, with the exported card's normalization, window grid, blending and argmax) must give its label map.
 *
 * Needs a source checkout named by an environment variable; without it the test is skipped with the reason:
 *   UMD_UPSTREAM_MONAI_VISTA3D  Project-MONAI/MONAI with monai/networks/nets/vista3d.py (1.4 or later). A variable
 *                               of its own: UMD_UPSTREAM_MONAI names MONAI 0.9.0 for SegVol, which has no VISTA3D
 *   UMD_UPSTREAM_VISTA          (optional) Project-MONAI/VISTA: the card's class ids checked against its label_dict.json
 * and /usr/bin/python3 with torch and onnx. The graph (22 MB) is written to the temp folder and removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { axisAlignedAffine, type WorldMm } from '../../src/core/geometry/affine';
import { loadModel, predictClasses } from '../../src/core/model/predict';
import { engineLoads, missingUpstream, PYTHON, readF32 } from '../helpers/exportParity';
import { repoRoot } from '../helpers/realData';

const CASE_SCRIPT = path.join(repoRoot(), 'export', 'vista3d', 'parity_case.py');

interface Manifest {
  onnx: string; card: string; features: number; patch: string; patchShape: number[]; patchClasses: number[]; logits: string; logitsShape: number[];
  foreground: number[]; volume: string; volumeDims: [number, number, number]; spacing: number[]; volumeClasses: number[]; volumeLabels: string;
  labelCounts: Record<string, number>; nearZeroFraction: number; checkedLabelDict: boolean; checkpointLoads: boolean;
}

const missing = (): string | undefined => missingUpstream({ UMD_UPSTREAM_MONAI_VISTA3D: 'monai/networks/nets/vista3d.py' });

test('VISTA3D export: the class-path graph equals MONAI VISTA3D.forward on a 128^3 patch, and the engine\'s sliding window equals VISTA\'s inference (random weights)', { skip: missing(), timeout: 600_000 }, async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-vista3d-parity-'));
  try {
    const args = [CASE_SCRIPT, out, '--monai', process.env.UMD_UPSTREAM_MONAI_VISTA3D!];
    if (process.env.UMD_UPSTREAM_VISTA) args.push('--vista', process.env.UMD_UPSTREAM_VISTA);
    const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
    assert.equal(r.status, 0, `${CASE_SCRIPT} failed:\n${r.stderr}`);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    assert.ok(m.checkpointLoads, 'a saved state dict loads back through build_vista3d, its width read from it');
    t.diagnostic(`class ids ${m.checkedLabelDict ? 'checked against VISTA\'s label_dict.json' : 'not checked (UMD_UPSTREAM_VISTA unset)'}`);

    // the card as written, opened by the engine without complaint
    const onnx = path.join(out, m.onnx);
    const loaded = await engineLoads(onnx);
    assert.deepEqual(loaded.warnings, [], 'the engine reads the exported card without warnings');
    const card = loaded.card;
    assert.equal(card.kind, 'semantic');
    assert.deepEqual(card.classPrompt, { input: 'class_vector', dtype: 'int64' });
    assert.deepEqual(card.patchSize, [128, 128, 128]);
    assert.deepEqual(card.spacing, [1.5, 1.5, 1.5]);
    assert.equal(card.overlap, 0.625);
    assert.equal(card.logits?.activation, 'sigmoid');
    assert.equal(card.labels['1'], 'liver');
    assert.equal(card.labels['115'], 'heart');
    assert.equal(card.organMap?.['left lung upper lobe'], 'left lung', 'lobes score as the lung');

    // (a) one window: the graph in onnxruntime-node vs VISTA3D.forward
    const session = await ort.InferenceSession.create(onnx);
    try {
      assert.deepEqual([...session.inputNames].sort(), ['class_vector', 'image']);
      const ids = BigInt64Array.from(m.patchClasses.map(BigInt));
      const got = (await session.run({ image: new ort.Tensor('float32', readF32(path.join(out, m.patch)), m.patchShape), class_vector: new ort.Tensor('int64', ids, [ids.length, 1]) })).logits;
      assert.deepEqual(got.dims, m.logitsShape);
      const y = got.data as Float32Array;
      const ref = readF32(path.join(out, m.logits));
      const n = ref.length / ids.length;
      let maxAbs = 0, maxRef = 0;
      for (let i = 0; i < ref.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(y[i] - ref[i]));
        maxRef = Math.max(maxRef, Math.abs(ref[i]));
      }
      t.diagnostic(`patch: max |logit diff| ${maxAbs.toExponential(2)} (max |logit| ${maxRef.toFixed(2)})`);
      assert.ok(maxAbs < 1e-4, `max |logit diff| ${maxAbs}`);
      for (let q = 0; q < ids.length; q++) {
        let eq = 0;
        for (let v = q * n; v < (q + 1) * n; v++) eq += (y[v] > 0) === (ref[v] > 0) ? 1 : 0; // sigmoid > 0.5
        t.diagnostic(`patch class ${m.patchClasses[q]}: mask agreement ${((100 * eq) / n).toFixed(4)}%, upstream foreground ${(100 * m.foreground[q]).toFixed(1)}%`);
        assert.ok(eq / n > 0.999, `class ${m.patchClasses[q]}: mask agreement ${eq / n}`);
        assert.ok(m.foreground[q] > 0.02 && m.foreground[q] < 0.98, `class ${m.patchClasses[q]}: a mask that is neither empty nor full`);
      }
    } finally {
      await session.release();
    }

    // (b) the engine's class-queried sliding window on the raw volume (a 1.5 mm RAS grid: orientation and spacing
    // are the identity, as upstream's Orientationd / Spacingd are for it) vs VISTA's inference and post-transform
    const model = await loadModel(onnx, { threads: 2 });
    try {
      const dims = m.volumeDims;
      const image = { dims, affine: axisAlignedAffine(m.spacing, [0, 0, 0] as unknown as WorldMm), data: readF32(path.join(out, m.volume)) };
      let windows = 0;
      const pred = await predictClasses(model, image as Parameters<typeof predictClasses>[1], 'CT', { classes: m.volumeClasses, onProgress: (_, total) => { windows = total; } });
      const ref = new Uint8Array(fs.readFileSync(path.join(out, m.volumeLabels)));
      assert.equal(pred.data.length, ref.length);
      let eq = 0;
      const confusion = new Map<string, number>();
      for (let v = 0; v < ref.length; v++) {
        if (pred.data[v] === ref[v]) eq++;
        else confusion.set(`${ref[v]}->${pred.data[v]}`, (confusion.get(`${ref[v]}->${pred.data[v]}`) ?? 0) + 1);
      }
      const perClass = [0, ...m.volumeClasses].map((c) => {
        let inter = 0, sa = 0, sb = 0;
        for (let v = 0; v < ref.length; v++) {
          const a = pred.data[v] === c ? 1 : 0, b = ref[v] === c ? 1 : 0;
          inter += a & b;
          sa += a;
          sb += b;
        }
        return `${c}: Dice ${(sa + sb ? (2 * inter) / (sa + sb) : 1).toFixed(5)} (${sb} voxels)`;
      });
      t.diagnostic(`volume ${dims.join(' x ')} in ${windows} windows: label agreement ${((100 * eq) / ref.length).toFixed(4)}% (${ref.length - eq} voxels differ${confusion.size ? `: ${[...confusion].map(([k, c]) => `${k} ${c}`).join(', ')}` : ''}); ${perClass.join('; ')}; upstream voxels with a blended logit within 1e-3 of 0: ${(100 * m.nearZeroFraction).toFixed(4)}%`);
      assert.equal(windows, 2, 'MONAI\'s window grid: two windows along k');
      assert.ok(eq / ref.length > 0.999, `label agreement ${eq / ref.length}`);
      for (const c of [0, ...m.volumeClasses]) assert.ok(m.labelCounts[String(c)] > 0.01 * ref.length, `class ${c} present in upstream's labels`);
    } finally {
      await model.close();
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
