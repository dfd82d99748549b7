/**
 * --protocol umd-paper through a whole evaluation: the demo promptable checkpoint with a card declaring the
 * SAM-Med3D family's rules (pointRule "random", crop "official") on a 1-subject phantom, through the built CLI.
 * run.json says exactly what was done; each organ got one random point inside it, drawn from the organ inside the
 * crop centred on its ground truth box; the same seed gives the same points; resume refuses another protocol or
 * seed; --prompt with the protocol is a usage error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { voxelToWorld, worldToVoxel } from '../../src/core/geometry/affine';
import { readLabels } from '../../src/core/nifti/read';
import { generatePhantom } from '../../src/core/phantom';
import { readRun } from '../../src/core/runstore/runStore';
import type { OrganRecord } from '../../src/core/runstore/schema';
import { CLI } from '../helpers/cli';
import { repoRoot } from '../helpers/realData';

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });

test('umd-paper: one seeded random point per organ in the official crop, recorded in run.json; resume refuses a change', { timeout: 900_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-paper-'));
  try {
    const data = path.join(tmp, 'data');
    await generatePhantom({ outDir: data, subjects: 1, seed: 1 });
    const model = path.join(tmp, 'sam-like.onnx');
    fs.copyFileSync(path.join(repoRoot(), 'models', 'umd-mini-promptable.onnx'), model);
    const card = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'models', 'umd-mini-promptable.umd.json'), 'utf8'));
    fs.writeFileSync(path.join(tmp, 'sam-like.umd.json'), JSON.stringify({ ...card, pointRule: 'random', crop: 'official', nsdToleranceMm: { '*': 3 } }));
    const run = path.join(tmp, 'run');
    const common = ['evaluate', model, '--data', data, '--protocol', 'umd-paper', '--prompt-seed', '4', '--metric-threads', '1'];

    const refused = cli(...common, '--prompt', 'clicks:5', '--out', path.join(tmp, 'x'));
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /--protocol umd-paper sets the prompt itself .* cannot take --prompt clicks:5/);
    assert.equal(cli(...common, '--tau', '2', '--out', path.join(tmp, 'x')).status, 2);

    const r = cli(...common, '--out', run);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /crop "official"/);
    assert.match(r.stderr, /nsdToleranceMm is not applied/);
    const stored = readRun(run);
    assert.deepEqual(stored.manifest.prompting, {
      model: 'promptable', protocol: 'umd-paper', prompt: { kind: 'random' }, seed: 4, boxJitterMm: 0,
      pointRule: { rule: 'random', source: 'card' }, crop: 'official',
    });
    assert.equal(stored.manifest.protocol.name, 'umd-paper');
    assert.equal(stored.manifest.protocol.custom, false);
    assert.deepEqual(new Set(Object.values(stored.manifest.protocol.toleranceByOrganMm!)), new Set([1]), 'NSD at 1 mm, the card\'s 3 mm not applied');

    const labels = readLabels(path.join(data, 'PETCT', 'sub-001', 'labels.nii.gz'));
    const prompted = stored.cases.filter((c): c is OrganRecord => c.organ !== null && !!c.prompt);
    assert.ok(prompted.length >= 40, `${prompted.length} prompted organ cases`);
    const [n0, n1] = labels.dims;
    for (const rec of prompted.filter((c) => c.study === 'PETCT')) {
      assert.equal(rec.prompt!.kind, 'random');
      assert.equal(rec.prompt!.seed, 4);
      assert.equal(rec.prompt!.points!.length, 1, 'one point per organ');
      assert.equal(rec.tau_mm, 1);
      // the crop centre is the centre of the organ's box, recomputed here from the labels
      const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
      for (let o = 0; o < labels.data.length; o++) {
        if (labels.data[o] !== rec.labelId) continue;
        [o % n0, Math.floor(o / n0) % n1, Math.floor(o / (n0 * n1))].forEach((x, a) => { lo[a] = Math.min(lo[a], x); hi[a] = Math.max(hi[a], x); });
      }
      const centre = voxelToWorld(labels.affine, [0, 1, 2].map((a) => (lo[a] + hi[a]) / 2) as unknown as [number, number, number]);
      rec.prompt!.crop_centre_mm!.forEach((x, a) => assert.ok(Math.abs(x - centre[a]) < 1e-6, `${rec.organ}: crop centre ${rec.prompt!.crop_centre_mm} vs ${centre}`));
      // the point: an organ voxel inside the 32^3 crop of 4 mm around that centre
      const p = rec.prompt!.points![0];
      const [i, j, k] = p.voxel;
      assert.equal(labels.data[i + n0 * (j + n1 * k)], rec.labelId, `${rec.organ}: point inside the organ`);
      const offset = worldToVoxel(labels.affine, p.mm).map((x, a) => x - worldToVoxel(labels.affine, centre)[a]);
      const mm = offset.map((x, a) => Math.abs(x * Math.hypot(labels.affine[a], labels.affine[4 + a], labels.affine[8 + a])));
      assert.ok(mm.every((d) => d <= 64), `${rec.organ}: point ${mm} mm from the crop centre`);
    }
    // PET of the same study is prompted from the same labels with the same seed: the same points
    for (const rec of prompted.filter((c) => c.study === 'PETCT' && c.modality === 'PET')) {
      const ct = prompted.find((c) => c.study === 'PETCT' && c.modality === 'CT' && c.organ === rec.organ)!;
      assert.deepEqual(rec.prompt!.points, ct.prompt!.points);
    }

    // resume: the same protocol continues (every case kept), another protocol or seed is refused
    const again = cli(...common, '--out', run, '--resume');
    assert.equal(again.status, 0, again.stderr);
    const other = cli('evaluate', model, '--data', data, '--out', run, '--resume', '--prompt', 'random', '--prompt-seed', '4');
    assert.equal(other.status, 1);
    assert.match(other.stderr, /cannot resume this run: metric protocol differs \(umd-paper \(run\) vs umd\); prompting .*"protocol":"umd-paper"/);
    const seed = cli(...common.map((a) => (a === '4' ? '5' : a)), '--out', run, '--resume');
    assert.equal(seed.status, 1);
    assert.match(seed.stderr, /cannot resume this run: prompting .*"seed":4.* \(run\) vs .*"seed":5/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
