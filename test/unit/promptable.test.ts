/**
 * Promptable models: card validation (key paths in errors), and the crop -> run -> paste-back plumbing on real
 * ONNX Runtime sessions of the tensor-prompt fixtures in test/fixtures/promptable (make_promptable_models.py):
 * their outputs depend only on where the prompt lands in the crop, so the expected masks follow from geometry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { axisAlignedAffine, voxelToWorld, type Grid } from '../../src/core/geometry/affine';
import { loadCard } from '../../src/core/model/card/loadCard';
import { loadModel } from '../../src/core/model/predict';
import { resampleLinear } from '../../src/core/geometry/resample';
import { cropGrid, predictPromptedOrgan } from '../../src/core/model/promptable/predictPromptedOrgan';
import type { ImageVolume } from '../../src/core/geometry/volume';
import { boxPrompt, centerPoint, runClicks } from '../../src/core/prompts';
import { repoRoot } from '../helpers/realData';

const FIX = path.join(repoRoot(), 'test', 'fixtures', 'promptable');
type D3 = [number, number, number];

const base = {
  kind: 'promptable', inputs: { image: 'image' }, outputs: { logits: 'logits' }, patchSize: null, spatialOrder: 'kji',
  spacing: [1.5, 1.5, 1.5], cropSize: [128, 128, 128], prompt: { points: 'points', pointLabels: 'point_labels' },
  normalization: { '*': { method: 'none' } }, labels: { '1': 'liver' },
};

function cardAt(dir: string, card: unknown): string {
  fs.writeFileSync(path.join(dir, 'm.umd.json'), JSON.stringify(card));
  return path.join(dir, 'm.onnx');
}

test('card: a promptable card loads with its prompt section; every problem is reported with its key path', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptable-card-'));
  const ok = loadCard(cardAt(dir, base));
  assert.equal(ok.card.kind, 'promptable');
  assert.deepEqual(ok.card.prompt, { points: 'points', pointLabels: 'point_labels' });
  assert.deepEqual(ok.card.cropSize, [128, 128, 128]);
  assert.throws(() => loadCard(cardAt(dir, { ...base, cropSize: [128, 0, 128], prompt: { points: 'p', channels: ['positive', 'edge'], radiusMm: -1 } })), (e: Error) => {
    assert.match(e.message, /m\.umd\.json/);
    assert.match(e.message, /cropSize must be \[a, b, c\] positive integers .* \(got \[128,0,128\]\)/);
    assert.match(e.message, /prompt\.points and prompt\.pointLabels go together/);
    assert.match(e.message, /prompt\.channels must be a non-empty list of "positive", "negative", "box", "box-negative", "previous", "empty": unknown channel "edge" \(got \["positive","edge"\]\)/);
    assert.match(e.message, /prompt\.radiusMm must be a positive number of mm \(got -1\)/);
    return true;
  });
  assert.throws(() => loadCard(cardAt(dir, { ...base, prompt: { box: 'box', channels: ['box'] } })), /give tensor inputs \(points\/pointLabels\/box\) or dense channels, not both/);
  assert.throws(() => loadCard(cardAt(dir, { ...base, prompt: {} })), /prompt must name at least one of points/);
  // spacing null: the crop is the image's own voxels (nnInteractive, docs/foundation-models.md section 2)
  assert.equal(loadCard(cardAt(dir, { ...base, spacing: null })).card.spacing, null);
  assert.throws(() => loadCard(cardAt(dir, { ...base, prompt: undefined })), /prompt must be an object .* \(got missing\)/);
  assert.throws(() => loadCard(cardAt(dir, { ...base, kind: 'interactive' })), /kind must be "semantic" or "promptable" \(got "interactive"\)/);
  const semantic = loadCard(cardAt(dir, { ...base, kind: 'semantic', patchSize: [8, 8, 8] }));
  assert.equal(semantic.card.kind, 'semantic');
  assert.equal(semantic.card.prompt, undefined);
  assert.ok(semantic.warnings.some((w) => /prompt is ignored for a semantic model/.test(w)), semantic.warnings.join('\n'));
  fs.rmSync(dir, { recursive: true });
});

/** Image of `dims` on an axis-aligned grid, values = i + j + k (so z-score normalization has something to do), and a ball label. */
function scene(dims: D3, spacing: D3, centre: D3, radius: number): { image: ImageVolume; gt: Uint8Array; grid: Grid } {
  const grid: Grid = { dims, affine: axisAlignedAffine(spacing, [-30, 12, 100]) };
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const gt = new Uint8Array(data.length);
  for (let k = 0, v = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, v++) {
    data[v] = i + j + k;
    const d = ((i - centre[0]) * spacing[0]) ** 2 + ((j - centre[1]) * spacing[1]) ** 2 + ((k - centre[2]) * spacing[2]) ** 2;
    if (d <= radius * radius) gt[v] = 1;
  }
  return { image: { ...grid, data }, gt, grid };
}

test('points tensor (kji, 2 mm crop on a 1 x 1 x 1.5 mm image): the pasted mask is the 3-crop-voxel ball around the click', async () => {
  const { image, gt, grid } = scene([40, 36, 30], [1, 1, 1.5], [18, 17, 14], 9);
  const model = await loadModel(path.join(FIX, 'points.onnx'));
  try {
    const click = centerPoint(gt, grid, 'liver')!;
    assert.deepEqual(click.voxel, [18, 17, 14]);
    const mask = await predictPromptedOrgan(model.session, model.card, model.path, image, 'CT', { points: [click] });
    // crop voxel (q) centres: click mm + (q - 7.5) * 2 mm; an image voxel takes the nearest crop voxel, floor(x + 0.5)
    let expected = 0;
    for (let k = 0, v = 0; k < 30; k++) for (let j = 0; j < 36; j++) for (let i = 0; i < 40; i++, v++) {
      const w = voxelToWorld(grid.affine, [i, j, k]);
      const q = [0, 1, 2].map((a) => Math.floor((w[a] - click.mm[a]) / 2 + 7.5 + 0.5));
      const inCrop = q.every((x) => x >= 0 && x < 16);
      const want = inCrop && q.reduce((s, x) => s + (x - 7.5) ** 2, 0) <= 9 ? 1 : 0;
      expected += want;
      assert.equal(mask[v], want, `voxel ${i},${j},${k}`);
    }
    assert.ok(expected > 50, `the expected ball has only ${expected} voxels`);
  } finally {
    await model.close();
  }
});

test('box tensor (ijk, crop aligned with the image grid): the pasted mask is exactly the box', async () => {
  const { image, gt, grid } = scene([44, 40, 24], [1, 1, 2], [20, 19, 11], 8);
  const model = await loadModel(path.join(FIX, 'box.onnx'));
  try {
    const box = boxPrompt(gt, grid, 'liver', 0, 0, 's')!;
    assert.deepEqual([box.min, box.max], [[12, 11, 7], [28, 27, 15]]);
    const g = cropGrid(image, model.card, [0, 1, 2].map((a) => (box.minMm[a] + box.maxMm[a]) / 2) as unknown as D3);
    assert.deepEqual(g.dims, [31, 29, 27]);
    const mask = await predictPromptedOrgan(model.session, model.card, model.path, image, 'CT', { points: [], box });
    for (let k = 0, v = 0; k < 24; k++) for (let j = 0; j < 40; j++) for (let i = 0; i < 44; i++, v++) {
      const inside = i >= 12 && i <= 28 && j >= 11 && j <= 27 && k >= 7 && k <= 15 ? 1 : 0;
      assert.equal(mask[v], inside, `voxel ${i},${j},${k}`);
    }
    await assert.rejects(predictPromptedOrgan(model.session, model.card, model.path, image, 'CT', { points: [centerPoint(gt, grid, 'liver')!] }), /needs a box; use --prompt box/);
    await assert.rejects(predictPromptedOrgan(model.session, model.card, model.path, image, 'CT', { points: [] }), /a prompt needs at least one point or a box/);
  } finally {
    await model.close();
  }
});

test('clicks on a real session: every click is fed, Dice per click recorded, AUC equals the trapezoid', async () => {
  const { image, gt, grid } = scene([40, 36, 30], [1, 1, 1.5], [18, 17, 14], 11);
  const model = await loadModel(path.join(FIX, 'points.onnx'));
  try {
    const dice = (p: Uint8Array) => {
      let a = 0, b = 0, ab = 0;
      for (let v = 0; v < p.length; v++) { a += gt[v]; b += p[v]; ab += gt[v] & p[v]; }
      return (2 * ab) / (a + b);
    };
    const out = await runClicks(gt, grid, 'liver', centerPoint(gt, grid, 'liver')!, 4,
      (clicks) => predictPromptedOrgan(model.session, model.card, model.path, image, 'CT', { points: clicks }),
      (p) => ({ dice: dice(p), nsd: dice(p) }));
    assert.equal(out.clicks.length, 4);
    const d = out.clicks.map((c) => c.dice);
    // the fixture model grows a ball per positive click: later positive clicks add foreground inside the organ
    assert.ok(d[3] > d[0], `Dice per click ${d.join(' ')}`);
    let area = 0;
    for (let i = 0; i < 3; i++) area += (d[i] + d[i + 1]) / 2;
    assert.ok(Math.abs(out.diceAuc - area / 3) < 1e-12);
  } finally {
    await model.close();
  }
});

test("crop orientation: a card's orientation turns the crop's axes (RAS crop of an LPS image = RAS crop of the same anatomy stored RAS)", () => {
  // one anatomy, f(world) = x + 10 y + 100 z, stored twice: LPS (i -> -x, j -> -y) and RAS
  const dims: D3 = [30, 26, 20];
  const lps: Grid = { dims, affine: [-2, 0, 0, 40, 0, -2, 0, 30, 0, 0, 2.5, -10, 0, 0, 0, 1] };
  const ras: Grid = { dims, affine: axisAlignedAffine([2, 2, 2.5], [40 - 2 * 29, 30 - 2 * 25, -10]) };
  const fill = (g: Grid): ImageVolume => {
    const data = new Float32Array(dims[0] * dims[1] * dims[2]);
    for (let k = 0, v = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, v++) {
      const [x, y, z] = voxelToWorld(g.affine, [i, j, k]);
      data[v] = x + 10 * y + 100 * z;
    }
    return { ...g, data };
  };
  const a = fill(lps), b = fill(ras);
  const samCard = loadCard(path.join(repoRoot(), 'models', 'sam-med3d-style.onnx')).card;
  // off the half-voxel ties, where rounding to a native voxel would go opposite ways in mirrored storage
  const centre = [10.3, 5.2, 12.4] as unknown as D3;
  for (const spacing of [[1.5, 1.5, 1.5], null] as const) {
    const card = { ...samCard, orientation: 'RAS', spacing: spacing as [number, number, number] | null, cropSize: [8, 12, 16] as [number, number, number], spatialOrder: 'ijk' as const };
    const ga = cropGrid(a, card, centre), gb = cropGrid(b, card, centre);
    // the crop's axes point R, A, S whatever the storage, with the crop's size per axis in that order
    for (const g of [ga, gb]) {
      assert.deepEqual(g.dims, [8, 12, 16]);
      for (let c = 0; c < 3; c++) assert.ok(g.affine[4 * c + c] > 0, `${spacing ? 'resampled' : 'native'}: crop axis ${c} points to +${'RAS'[c]}`);
    }
    assert.deepEqual(ga.affine.map((x) => +x.toFixed(9)), gb.affine.map((x) => +x.toFixed(9)), 'the same crop grid from either storage');
    const ca = resampleLinear(a, ga).data, cb = resampleLinear(b, gb).data;
    let d = 0;
    for (let v = 0; v < ca.length; v++) d = Math.max(d, Math.abs(ca[v] - cb[v]));
    assert.ok(d < 1e-3, `${spacing ? 'resampled' : 'native'} crop values agree: max diff ${d}`);
    // crop voxel i grows towards R
    const [x0] = voxelToWorld(ga.affine, [0, 0, 0]), [x1] = voxelToWorld(ga.affine, [7, 0, 0]);
    assert.ok(x1 > x0);
  }
  // without orientation the crop keeps the image's own axes (LPS: i points to -x)
  assert.ok(cropGrid(a, { ...samCard, orientation: null }, centre).affine[0] < 0);
});
