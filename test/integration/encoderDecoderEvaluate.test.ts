/**
 * An encoder-decoder promptable card through the whole evaluation (docs/foundation-models.md, section 1): the
 * SAM-Med3D-signature pair of models/ (128^3 crops at 1.5 mm, 32^3 low-res logits fed back) with clicks:5 on a
 * 1-subject UMD-mini phantom. Every organ's crop is encoded once and decoded once per click, and cases.jsonl
 * records it (model_runs); run.json holds the decoder's sha256, and a changed decoder is refused on resume. The per-click plumbing is in test/unit/encoderDecoder.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateRun, sha256File } from '../../src/core/evaluate/evaluateRun';
import { checkSameRun } from '../../src/core/runstore/resume';
import type { OrganRecord } from '../../src/core/runstore/schema';
import { phantomDataset } from '../helpers/phantomDataset';
import { repoRoot } from '../helpers/realData';

test('SAM-Med3D-style encoder + decoder, clicks:5 on a phantom: one encoder run per organ, one decoder run per click, recorded', async () => {
  const data = await phantomDataset('encdec-data-', 1, 1);
  const runDir = path.join(data, 'run');
  try {
    const res = await evaluateRun({ modelPath: path.join(repoRoot(), 'models', 'sam-med3d-style.onnx'), datasetRoot: data, runDir, prompt: { kind: 'clicks', n: 5 }, metricThreads: 1 });
    const ok = res.records.filter((r): r is OrganRecord => r.status === 'ok');
    assert.ok(ok.length >= 40, `${ok.length} organs scored over the 4 images`);
    let fiveClicks = 0;
    for (const r of ok) {
      assert.equal(r.prompt?.kind, 'clicks');
      assert.ok(r.clicks && r.clicks.length >= 1 && r.clicks.length <= 5, r.organ);
      assert.deepEqual(r.model_runs, { encoder: 1, decoder: r.clicks.length }, `${r.modality} ${r.organ}`);
      if (r.clicks.length === 5) fiveClicks++;
    }
    assert.ok(fiveClicks >= ok.length / 2, `${fiveClicks} of ${ok.length} organs got all 5 clicks`);
    // the clicks change the masks: somewhere Dice moved between the first and the last click
    assert.ok(ok.some((r) => r.clicks!.at(-1)!.dice !== r.clicks![0].dice));
    // what cases.jsonl holds is what evaluateRun returned, model_runs included
    const lines = fs.readFileSync(path.join(runDir, 'cases.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OrganRecord);
    const stored = lines.filter((r) => r.status === 'ok');
    assert.deepEqual(stored.map((r) => r.model_runs), ok.map((r) => r.model_runs));
    const decoder = path.join(repoRoot(), 'models', 'sam-med3d-style.decoder.onnx');
    assert.deepEqual(res.manifest.model.decoder, { path: decoder, sha256: await sha256File(decoder) });
    const changed = { ...res.manifest, model: { ...res.manifest.model, decoder: { path: decoder, sha256: '0'.repeat(64) } } };
    assert.throws(() => checkSameRun(runDir, res.manifest, changed), /cannot resume this run: decoder sha256 [0-9a-f]{64} \(run\) vs 0{64} \(.*sam-med3d-style\.decoder\.onnx\)/);
    checkSameRun(runDir, res.manifest, { ...res.manifest });
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
});
