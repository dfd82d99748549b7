/**
 * Prompts made from the ground truth (src/core/prompts): the farthest interior point and the next refinement
 * click against scipy (test/fixtures/prompts/make_prompt_reference.py), analytic shapes, seeded determinism of
 * the random point and the jittered box, and the click AUC against a trapezoid recomputed here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { axisAlignedAffine, voxelToWorld, type Grid } from '../../src/core/geometry/affine';
import { boxPrompt, centerPoint, clickAuc, largestComponent, nextClick, parsePromptArg, randomPoint, runClicks, type PromptPoint } from '../../src/core/prompts';
import { voxelOf } from '../../src/core/prompts/promptPoint';
import { repoRoot } from '../helpers/realData';
import { promptArgs } from '../../src/cli/args';
import { UsageError } from '../../src/cli/usage';

type D3 = [number, number, number];
interface RefCase { name: string; dims: D3; spacing: D3; mask: number[]; center: number; centerDistMm: number; ties: number }
interface Ref {
  cases: RefCase[];
  nextClick: { dims: D3; spacing: D3; gt: number[]; pred: number[]; expected: { offset: number; label: number; regionSize: number; components: number } };
}
const ref = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'prompts', 'prompt_reference.json'), 'utf8')) as Ref;

const maskOf = (dims: D3, on: number[]): Uint8Array => {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (const v of on) m[v] = 1;
  return m;
};
const gridOf = (dims: D3, spacing: D3, origin: [number, number, number] = [-12.5, 30, 4]): Grid => ({ dims, affine: axisAlignedAffine(spacing, origin) });
const offsetOf = (p: PromptPoint, dims: D3): number => p.voxel[0] + dims[0] * (p.voxel[1] + dims[1] * p.voxel[2]);

function ball(dims: D3, c: D3, r: number): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0, v = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, v++) {
    if ((i - c[0]) ** 2 + (j - c[1]) ** 2 + (k - c[2]) ** 2 <= r * r) m[v] = 1;
  }
  return m;
}

test('center point: argmax of the exact EDT equals scipy (padded grid, lowest offset on ties), with world mm', () => {
  for (const c of ref.cases) {
    const grid = gridOf(c.dims, c.spacing);
    const p = centerPoint(maskOf(c.dims, c.mask), grid, c.name);
    assert.ok(p, c.name);
    assert.equal(offsetOf(p, c.dims), c.center, `${c.name}: scipy argmax ${voxelOf(c.center, c.dims).join(',')} (${c.ties} tied), got ${p.voxel.join(',')}`);
    assert.equal(p.label, 1);
    assert.deepEqual(p.mm, voxelToWorld(grid.affine, p.voxel));
  }
});

test('center point: a sphere gives its centre; an empty organ gives null', () => {
  const dims: D3 = [21, 25, 19];
  const p = centerPoint(ball(dims, [9, 13, 8], 6), gridOf(dims, [1, 1, 1], [0, 0, 0]), 'sphere');
  assert.deepEqual(p?.voxel, [9, 13, 8]);
  assert.deepEqual(p?.mm, [9, 13, 8]);
  assert.equal(centerPoint(new Uint8Array(dims[0] * dims[1] * dims[2]), gridOf(dims, [1, 1, 1]), 'empty'), null);
  assert.throws(() => centerPoint(new Uint8Array(10), gridOf(dims, [1, 1, 1]), 'liver'), /prompt for liver: mask has 10 voxels, grid 21x25x19 needs 9975/);
});

test('random point: seeded, inside the organ, different per seed and per organ', () => {
  const c = ref.cases[0];
  const grid = gridOf(c.dims, c.spacing);
  const mask = maskOf(c.dims, c.mask);
  const a = randomPoint(mask, grid, 'liver', 7, 'sub-001');
  const b = randomPoint(mask, grid, 'liver', 7, 'sub-001');
  assert.deepEqual(a, b);
  const seen = new Set<number>();
  for (let seed = 0; seed < 40; seed++) {
    const p = randomPoint(mask, grid, 'liver', seed, 'sub-001');
    assert.ok(p && mask[offsetOf(p, c.dims)] === 1, `seed ${seed} fell outside the organ`);
    seen.add(offsetOf(p, c.dims));
  }
  assert.ok(seen.size > 30, `40 seeds gave only ${seen.size} distinct voxels`);
  assert.notDeepEqual(randomPoint(mask, grid, 'spleen', 7, 'sub-001')?.voxel, a?.voxel);
});

test('box: tight bounds without jitter; with jitter, faces move by at most jitter mm, seeded', () => {
  const dims: D3 = [30, 28, 20];
  const spacing: D3 = [0.7, 1.1, 2.5];
  const grid = gridOf(dims, spacing);
  const mask = ball(dims, [14, 12, 9], 5);
  const tight = boxPrompt(mask, grid, 'kidney', 0, 1, 's');
  assert.deepEqual(tight?.min, [9, 7, 4]);
  assert.deepEqual(tight?.max, [19, 17, 14]);
  assert.deepEqual(tight?.minMm, voxelToWorld(grid.affine, [9, 7, 4]));
  const jitter = 4;
  let moved = 0;
  for (let seed = 0; seed < 30; seed++) {
    const b = boxPrompt(mask, grid, 'kidney', jitter, seed, 's');
    assert.ok(b);
    assert.deepEqual(boxPrompt(mask, grid, 'kidney', jitter, seed, 's'), b);
    for (let a = 0; a < 3; a++) {
      // rounding to whole voxels can add half a voxel to the jitter
      const limit = jitter + spacing[a] / 2 + 1e-9;
      assert.ok(Math.abs(b.min[a] - tight!.min[a]) * spacing[a] <= limit, `seed ${seed} axis ${a} min`);
      assert.ok(Math.abs(b.max[a] - tight!.max[a]) * spacing[a] <= limit, `seed ${seed} axis ${a} max`);
      if (b.min[a] !== tight!.min[a] || b.max[a] !== tight!.max[a]) moved++;
    }
  }
  assert.ok(moved > 30, `jitter moved only ${moved} of 90 axis bounds`);
  assert.throws(() => boxPrompt(mask, grid, 'kidney', -1, 0, 's'), /jitter must be a non-negative number of mm/);
});

test('next click: centre of the largest 26-connected error region equals scipy; label from the ground truth', () => {
  const r = ref.nextClick;
  const grid = gridOf(r.dims, r.spacing);
  const gt = maskOf(r.dims, r.gt);
  const pred = maskOf(r.dims, r.pred);
  const p = nextClick(gt, pred, grid, 'liver');
  assert.ok(p);
  assert.equal(offsetOf(p, r.dims), r.expected.offset);
  assert.equal(p.label, r.expected.label);
  const error = new Uint8Array(gt.length);
  for (let v = 0; v < gt.length; v++) error[v] = gt[v] ^ pred[v];
  assert.equal(largestComponent(error, r.dims)?.size, r.expected.regionSize);
  assert.equal(nextClick(gt, gt, grid, 'liver'), null);
});

test('next click: a detached false positive larger than the miss gives a negative click inside it', () => {
  const dims: D3 = [30, 20, 20];
  const grid = gridOf(dims, [1, 1, 1], [0, 0, 0]);
  const gt = ball(dims, [8, 10, 10], 5);
  const pred = gt.slice();
  const fp = ball(dims, [23, 10, 10], 4);
  for (let v = 0; v < pred.length; v++) if (fp[v]) pred[v] = 1;
  const p = nextClick(gt, pred, grid, 'liver');
  assert.deepEqual(p?.voxel, [23, 10, 10]);
  assert.equal(p?.label, 0);
});

test('click AUC: trapezoid over click index divided by N - 1', () => {
  assert.equal(clickAuc([0.5]), 0.5);
  assert.equal(clickAuc([1, 1, 1, 1]), 1);
  assert.ok(Math.abs(clickAuc([0.2, 0.6, 0.7]) - ((0.2 + 0.6) / 2 + (0.6 + 0.7) / 2) / 2) < 1e-15);
  assert.throws(() => clickAuc([]), /no clicks/);
});

test('click loop: clicks accumulate, scores recorded per click, AUC equals the trapezoid of the record', async () => {
  // A geometric predictor: the union of 4-voxel balls around positive clicks minus balls around negative ones.
  const dims: D3 = [32, 24, 24];
  const grid = gridOf(dims, [1, 1, 1], [0, 0, 0]);
  const gt = ball(dims, [12, 12, 12], 7);
  const first = centerPoint(gt, grid, 'liver')!;
  const predict = async (clicks: readonly PromptPoint[]): Promise<Uint8Array> => {
    const out = new Uint8Array(gt.length);
    for (const c of clicks) {
      const b = ball(dims, c.voxel as D3, 4);
      for (let v = 0; v < out.length; v++) if (b[v]) out[v] = c.label;
    }
    return out;
  };
  const dice = (pred: Uint8Array): number => {
    let a = 0, b = 0, ab = 0;
    for (let v = 0; v < pred.length; v++) { a += gt[v]; b += pred[v]; ab += gt[v] & pred[v]; }
    return (2 * ab) / (a + b);
  };
  const out = await runClicks(gt, grid, 'liver', first, 5, predict, (p) => ({ dice: dice(p), nsd: dice(p) / 2 }));
  assert.equal(out.clicks.length, 5);
  assert.deepEqual(out.clicks[0].click, first);
  for (const c of out.clicks.slice(1)) assert.equal(gt[offsetOf(c.click, dims)], c.click.label);
  assert.ok(out.clicks[4].dice > out.clicks[0].dice, `Dice did not improve: ${out.clicks.map((c) => c.dice.toFixed(3)).join(' ')}`);
  const d = out.clicks.map((c) => c.dice);
  let area = 0;
  for (let i = 0; i < d.length - 1; i++) area += (d[i] + d[i + 1]) / 2;
  assert.ok(Math.abs(out.diceAuc - area / 4) < 1e-12);
  assert.ok(Math.abs(out.nsdAuc! - area / 8) < 1e-12);
  await assert.rejects(runClicks(gt, grid, 'liver', first, 0, predict, () => ({ dice: 0, nsd: 0 })), /positive integer/);
});

test('--prompt parsing', () => {
  assert.deepEqual(parsePromptArg('center'), { kind: 'center' });
  assert.deepEqual(parsePromptArg('clicks:5'), { kind: 'clicks', n: 5 });
  assert.throws(() => parsePromptArg('clicks:0'), /--prompt must be center, random, box or clicks:N/);
  assert.throws(() => parsePromptArg('point'), /got "point"/);
});

test('CLI prompt options: --prompt, --prompt-seed, --box-jitter-mm', () => {
  assert.deepEqual(promptArgs({ prompt: 'clicks:3', 'prompt-seed': '7', 'box-jitter-mm': '2.5' }), { prompt: { kind: 'clicks', n: 3 }, promptSeed: 7, boxJitterMm: 2.5 });
  assert.deepEqual(promptArgs({}), {});
  assert.deepEqual(promptArgs({ 'box-jitter-mm': '0' }), { prompt: { kind: 'center' }, boxJitterMm: 0 });
  assert.throws(() => promptArgs({ prompt: 'clicks:x' }), (e: Error) => e instanceof UsageError && /--prompt must be center, random, box or clicks:N/.test(e.message));
  assert.throws(() => promptArgs({ 'prompt-seed': '-1' }), /--prompt-seed must be an integer >= 0 \(got "-1"\)/);
  assert.throws(() => promptArgs({ 'box-jitter-mm': 'abc' }), /--box-jitter-mm must be a number of mm >= 0 \(got "abc"\)/);
});
