/**
 * The real MeshNet brain tissue network (brainchop "gw_ae") on a real FreeSurfer T1, end to end through
 * loadModel + predictClasses, scored against tissue_labels.nii.gz (an automatic FreeSurfer-derived reference,
 * not manual). The data README reports Dice ~0.90 (white matter) and ~0.82 (grey matter) for a correct
 * pipeline: min-max to 0..1, tensor in NIfTI storage order [k][j][i]. Controls with the axes reversed and
 * with no normalization show that each mistake lands outside the tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel, predictClasses } from '../../src/core/model';
import { readImage, readLabels } from '../../src/core/nifti/read';
import { realDataDir } from '../helpers/realData';

function dice(ref: ArrayLike<number>, pred: ArrayLike<number>, label: number): number {
  let both = 0;
  let a = 0;
  let b = 0;
  for (let v = 0; v < ref.length; v++) {
    const r = ref[v] === label;
    const p = pred[v] === label;
    if (r) a++;
    if (p) b++;
    if (r && p) both++;
  }
  return (2 * both) / (a + b);
}

// 256^3 through 10 dilated conv layers: ~10 s per run on 2 CPU cores (three runs here); the budget is generous
test('MeshNet on norm.nii.gz reproduces the reference Dice (WM ~0.90, GM ~0.82)', { timeout: 10 * 60_000 }, async () => {
  const data = path.join(realDataDir(), 'brain-meshnet');
  // the card lives beside the model, so the model is symlinked into a temp dir outside the repo
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-meshnet-'));
  try {
    const onnx = path.join(dir, 'model.onnx');
    fs.symlinkSync(path.join(data, 'model.onnx'), onnx);
    const card = {
      kind: 'semantic',
      inputs: { image: 'input' },
      outputs: { logits: 'output' },
      patchSize: null,
      spatialOrder: 'kji',
      spacing: null,
      normalization: { '*': { method: 'minmax' } },
      labels: { '1': 'white matter', '2': 'grey matter' },
    };
    fs.writeFileSync(path.join(dir, 'model.umd.json'), JSON.stringify(card));
    const image = readImage(path.join(data, 'norm.nii.gz'));
    const ref = readLabels(path.join(data, 'tissue_labels.nii.gz'));
    assert.deepEqual(ref.dims, image.dims);
    const model = await loadModel(onnx);
    let wm = 0;
    let gm = 0;
    try {
      assert.deepEqual(model.warnings, []);
      // the network's input is fixed at 256^3: any other size is refused up front, naming both shapes
      const small = { dims: [10, 10, 10] as const, affine: image.affine, data: new Float32Array(1000) };
      await assert.rejects(predictClasses(model, small, 'MRI'), /input "input" has fixed spatial size \[256, 256, 256\], which does not fit this image \(kji \[10, 10, 10\]/);
      const t0 = performance.now();
      const pred = await predictClasses(model, image, 'MRI');
      const seconds = (performance.now() - t0) / 1000;
      assert.deepEqual(pred.dims, image.dims);
      assert.deepEqual(pred.affine, image.affine);
      wm = dice(ref.data, pred.data, 1);
      gm = dice(ref.data, pred.data, 2);
      console.log(`MeshNet 256^3: ${seconds.toFixed(1)} s; Dice WM ${wm.toFixed(4)}, GM ${gm.toFixed(4)}`);
      assert.ok(Math.abs(wm - 0.90) <= 0.02, `white matter Dice ${wm.toFixed(4)} not within 0.90 ± 0.02`);
      assert.ok(Math.abs(gm - 0.82) <= 0.02, `grey matter Dice ${gm.toFixed(4)} not within 0.82 ± 0.02`);
    } finally {
      await model.close();
    }
    // controls: a wrong axis order or normalization must fall outside the tolerance, or the check proves
    // nothing. MeshNet is fairly robust to transposed axes (measured WM 0.878, GM 0.771), not to raw intensities.
    const control = async (what: string, change: Record<string, unknown>) => {
      fs.writeFileSync(path.join(dir, 'model.umd.json'), JSON.stringify({ ...card, ...change }));
      const wrong = await loadModel(onnx);
      try {
        const pred = await predictClasses(wrong, image, 'MRI');
        const w = dice(ref.data, pred.data, 1);
        const g = dice(ref.data, pred.data, 2);
        console.log(`control, ${what}: Dice WM ${w.toFixed(4)}, GM ${g.toFixed(4)}`);
        assert.ok(g < gm - 0.03, `${what}: GM Dice ${g.toFixed(4)} too close to the correct run's ${gm.toFixed(4)}`);
      } finally {
        await wrong.close();
      }
    };
    await control('axes reversed (ijk)', { spatialOrder: 'ijk' });
    await control('no normalization', { normalization: { '*': { method: 'none' } } });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
