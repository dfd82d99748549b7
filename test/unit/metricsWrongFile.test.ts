/**
 * `umd-lens metrics` with a prediction on another grid: partial overlap is scored and reported
 * (grid.overlap_fraction); a prediction nowhere near the ground truth in world space is the wrong file (exit 1,
 * both files and their world extents named), not a run of zeros.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { axisAlignedAffine } from '../../src/core/geometry/affine';
import { boxesOverlap, overlapFraction, worldBox } from '../../src/core/geometry/worldBox';
import { writeNifti } from '../../src/core/nifti/write';
import { CLI } from '../helpers/cli';

/** A 10^3 grid of 2 mm voxels whose first voxel centre is at `origin`, with a cube of label 4 at voxels 2..6. */
function cubeGrid(origin: [number, number, number]) {
  const data = new Uint8Array(1000);
  for (let k = 2; k < 7; k++) for (let j = 2; j < 7; j++) for (let i = 2; i < 7; i++) data[i + 10 * (j + 10 * k)] = 4;
  return { dims: [10, 10, 10] as const, affine: axisAlignedAffine([2, 2, 2], origin), data };
}

test('world boxes: voxel edges, overlap fraction of axis-aligned grids, touching faces do not overlap', () => {
  const a = cubeGrid([0, 0, 0]);
  assert.deepEqual(worldBox(a), { lo: [-1, -1, -1], hi: [19, 19, 19] });
  assert.equal(overlapFraction(a, a), 1);
  assert.equal(overlapFraction(a, cubeGrid([10, 0, 0])), 0.5); // half of x
  assert.equal(overlapFraction(a, cubeGrid([10, 10, 0])), 0.25);
  const touching = cubeGrid([20, 0, 0]);
  assert.equal(boxesOverlap(worldBox(a), worldBox(touching)), false);
  assert.equal(overlapFraction(a, touching), 0);
});

test('metrics CLI: partial overlap is scored with grid.overlap_fraction; no overlap exits 1 naming both files and extents', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-wrongfile-'));
  const gt = path.join(dir, 'gt.nii.gz');
  writeNifti(gt, cubeGrid([0, 0, 0]));
  const metrics = (pred: string) => spawnSync(process.execPath, [CLI, 'metrics', gt, pred, '--json'], { encoding: 'utf8' });

  // the prediction's grid shifted by 4 voxels (8 mm) along x: 12 of 20 mm shared, the cube moved by 8 mm
  const shifted = path.join(dir, 'shifted.nii.gz');
  writeNifti(shifted, cubeGrid([8, 0, 0]));
  const s = metrics(shifted);
  assert.equal(s.status, 0, s.stderr);
  const out = JSON.parse(s.stdout);
  assert.equal(out.grid.prediction_resampled, true);
  assert.equal(out.grid.overlap_fraction, 0.6);
  // on the gt grid the moved cube keeps 4 of its 5 columns (i = 6..9), 1 shared with the gt's (i = 2..6): 2x25/(125+100)
  assert.equal(out.labels['4'].dice, 2 / 9);
  // same grid: full overlap
  assert.equal(JSON.parse(metrics(gt).stdout).grid.overlap_fraction, 1);

  // the case: a 5^3 volume at the origin, far from a ground truth placed at x = 500 mm
  const farGt = path.join(dir, 'far-gt.nii.gz');
  writeNifti(farGt, cubeGrid([500, 0, 0]));
  const tiny = path.join(dir, 'tiny.nii.gz');
  writeNifti(tiny, { dims: [5, 5, 5], affine: axisAlignedAffine([1, 1, 1], [0, 0, 0]), data: new Uint8Array(125).fill(4) });
  const w = spawnSync(process.execPath, [CLI, 'metrics', farGt, tiny], { encoding: 'utf8' });
  assert.equal(w.status, 1, w.stdout);
  assert.equal(w.stdout, '', 'no scores printed');
  assert.match(w.stderr, new RegExp(`${tiny.replace(/[.]/g, '\\.')}: the prediction does not overlap the ground truth in world space`));
  assert.match(w.stderr, /prediction x -0\.5\.\.4\.5, y -0\.5\.\.4\.5, z -0\.5\.\.4\.5 mm/);
  assert.match(w.stderr, new RegExp(`ground truth ${farGt.replace(/[.]/g, '\\.')}: x 499\\.0\\.\\.519\\.0, y -1\\.0\\.\\.19\\.0, z -1\\.0\\.\\.19\\.0 mm`));
  assert.doesNotMatch(w.stderr, /at .*\.js:\d+/, 'no stack trace');
});
