/**
 * UMD Lens's surface metrics against DeepMind's surface-distance library, case by case.
 *
 * test/fixtures/metrics/deepmind-reference.json holds DeepMind's outputs (written by make_reference.py next to it,
 * with DeepMind's library outside this repository) for masks defined by parameters: spheres and cubes at anisotropic
 * spacing, single voxels, masks touching the volume border, unions of integer ellipsoids, and TotalSegmentator
 * organs against their erosion, dilation and shift. Each mask is rebuilt here exactly as the script defines it,
 * cropped with labelScan (as caseMetrics does), and scored with surfaceDistances + scoreSurfaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dims3, SpacingMm } from '../../src/core/metrics/edt';
import { cropLabel, scanLabels } from '../../src/core/metrics/labelScan';
import { pairwiseSum } from '../../src/core/metrics/numpySum';
import { scoreSurfaces, surfaceDistances, type SurfaceDistances } from '../../src/core/metrics/surface';
import { readLabels } from '../../src/core/nifti/read';
import { realDataDir, repoRoot } from '../helpers/realData';

type Shape =
  | { type: 'box'; lo: [number, number, number]; hi: [number, number, number] }
  | { type: 'sphere_mm'; centre: [number, number, number]; radius_mm: number }
  | { type: 'ellipsoid'; centre: [number, number, number]; radii: [number, number, number] };

type Perturbation = { perturbation: 'erode' } | { perturbation: 'dilate' } | { perturbation: 'shift'; offset: [number, number, number] };

interface Expected {
  nsd: number[];
  hd95: number;
  hd: number;
  assd: number;
  avg_gt_to_pred: number;
  avg_pred_to_gt: number;
  surface_gt_mm2: number;
  surface_pred_mm2: number;
  surfels_gt: number;
  surfels_pred: number;
  sum_dist_gt_to_pred: number;
  sum_dist_pred_to_gt: number;
  voxels_gt: number;
  voxels_pred: number;
}

interface Case {
  name: string;
  kind: string;
  dims: [number, number, number];
  spacing_mm: [number, number, number];
  gt: { shapes: Shape[] } | { file: string; label: number };
  pred: { shapes: Shape[] } | ({ from: 'gt' } & Perturbation);
  expected: Expected;
}

interface Reference {
  tolerances_mm: number[];
  cases: Case[];
}

const RELATIVE = 1e-9;
const reference = JSON.parse(
  fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'metrics', 'deepmind-reference.json'), 'utf8'),
) as Reference;

/** Union of the primitives, x0 fastest; the arithmetic of make_reference.py's shape_mask, operation for operation. */
function shapeMask(dims: Dims3, s: SpacingMm, shapes: readonly Shape[]): Uint8Array {
  const [n0, n1, n2] = dims;
  const m = new Uint8Array(n0 * n1 * n2);
  for (const sh of shapes) {
    let v = 0;
    for (let k = 0; k < n2; k++) {
      for (let j = 0; j < n1; j++) {
        for (let i = 0; i < n0; i++, v++) {
          if (inside(sh, i, j, k, s)) m[v] = 1;
        }
      }
    }
  }
  return m;
}

function inside(sh: Shape, i: number, j: number, k: number, s: SpacingMm): boolean {
  switch (sh.type) {
    case 'box':
      return i >= sh.lo[0] && i < sh.hi[0] && j >= sh.lo[1] && j < sh.hi[1] && k >= sh.lo[2] && k < sh.hi[2];
    case 'sphere_mm': {
      const d0 = (i - sh.centre[0]) * s[0], d1 = (j - sh.centre[1]) * s[1], d2 = (k - sh.centre[2]) * s[2];
      return d0 * d0 + d1 * d1 + d2 * d2 <= sh.radius_mm * sh.radius_mm;
    }
    case 'ellipsoid': {
      const [r0, r1, r2] = sh.radii;
      const e0 = i - sh.centre[0], e1 = j - sh.centre[1], e2 = k - sh.centre[2];
      return e0 * e0 * r1 * r1 * r2 * r2 + e1 * e1 * r0 * r0 * r2 * r2 + e2 * e2 * r0 * r0 * r1 * r1 <= r0 * r0 * r1 * r1 * r2 * r2;
    }
  }
}

/** The fixture's perturbations (its "perturbations" entry): scipy's default 6-connected erosion/dilation, zero-fill shift. */
function perturb(m: Uint8Array, dims: Dims3, p: Perturbation): Uint8Array {
  const [n0, n1, n2] = dims;
  const out = new Uint8Array(m.length);
  const at = (i: number, j: number, k: number) => (i < 0 || j < 0 || k < 0 || i >= n0 || j >= n1 || k >= n2 ? 0 : m[i + n0 * (j + n1 * k)]);
  let v = 0;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      for (let i = 0; i < n0; i++, v++) {
        const six = [at(i - 1, j, k), at(i + 1, j, k), at(i, j - 1, k), at(i, j + 1, k), at(i, j, k - 1), at(i, j, k + 1)];
        if (p.perturbation === 'erode') out[v] = m[v] && six.every(Boolean) ? 1 : 0;
        else if (p.perturbation === 'dilate') out[v] = m[v] || six.some(Boolean) ? 1 : 0;
        else out[v] = at(i - p.offset[0], j - p.offset[1], k - p.offset[2]);
      }
    }
  }
  return out;
}

const realLabels = new Map<string, ArrayLike<number>>();

function masks(c: Case): { gt: Uint8Array; pred: Uint8Array } {
  const dims = c.dims;
  let gt: Uint8Array;
  if ('file' in c.gt) {
    const file = c.gt.file;
    if (!realLabels.has(file)) {
      const vol = readLabels(path.join(realDataDir(), file));
      assert.deepEqual([...vol.dims], dims, `${file}: grid`);
      realLabels.set(file, vol.data);
    }
    const labels = realLabels.get(file)!;
    const id = c.gt.label;
    gt = Uint8Array.from({ length: labels.length }, (_, v) => (labels[v] === id ? 1 : 0));
  } else {
    gt = shapeMask(dims, c.spacing_mm, c.gt.shapes);
  }
  const pred = 'from' in c.pred ? perturb(gt, dims, c.pred) : shapeMask(dims, c.spacing_mm, c.pred.shapes);
  return { gt, pred };
}

function count(m: Uint8Array): number {
  let n = 0;
  for (const x of m) n += x;
  return n;
}

function weightedMean(d: Float64Array, a: Float64Array): number {
  return pairwiseSum(Float64Array.from(d, (x, i) => x * a[i])) / pairwiseSum(a);
}

function assertClose(actual: number, expected: number, what: string): void {
  const ok = actual === expected || Math.abs(actual - expected) <= RELATIVE * Math.abs(expected);
  assert.ok(ok, `${what}: ours ${actual}, DeepMind ${expected} (difference ${actual - expected})`);
}

test('the fixture holds every kind of case (spheres, boxes, voxels, border, ellipsoids, real) and both tolerances', () => {
  assert.deepEqual(reference.tolerances_mm, [1, 2]);
  const kinds = new Set(reference.cases.map((c) => c.kind));
  for (const k of ['spheres', 'boxes', 'voxels', 'border', 'ellipsoids', 'real']) assert.ok(kinds.has(k), `no ${k} case`);
  assert.ok(reference.cases.length >= 30);
});

for (const c of reference.cases) {
  test(`equals DeepMind surface-distance to 1e-9 relative: ${c.name}`, () => {
    const e = c.expected;
    const { gt, pred } = masks(c);
    assert.equal(count(gt), e.voxels_gt, 'gt voxels (mask rebuilt as the fixture defines it)');
    assert.equal(count(pred), e.voxels_pred, 'prediction voxels');
    // crop as caseMetrics does: label 1 of two label maps, the union box plus one background voxel per side
    const scan = scanLabels(gt, pred, c.dims);
    const pair = cropLabel(gt, pred, c.dims, 1, scan.boxes.get(1)!);
    const s: SurfaceDistances = surfaceDistances(pair, c.spacing_mm);

    assert.equal(s.distGtToPredMm.length, e.surfels_gt, 'gt surfels');
    assert.equal(s.distPredToGtMm.length, e.surfels_pred, 'prediction surfels');
    assertClose(pairwiseSum(s.areaGtMm2), e.surface_gt_mm2, 'gt surface area');
    assertClose(pairwiseSum(s.areaPredMm2), e.surface_pred_mm2, 'prediction surface area');
    assertClose(pairwiseSum(s.distGtToPredMm), e.sum_dist_gt_to_pred, 'sum of gt->pred distances');
    assertClose(pairwiseSum(s.distPredToGtMm), e.sum_dist_pred_to_gt, 'sum of pred->gt distances');
    assertClose(weightedMean(s.distGtToPredMm, s.areaGtMm2), e.avg_gt_to_pred, 'average gt->pred distance');
    assertClose(weightedMean(s.distPredToGtMm, s.areaPredMm2), e.avg_pred_to_gt, 'average pred->gt distance');

    reference.tolerances_mm.forEach((tau, n) => {
      const sc = scoreSurfaces(s, tau, 95);
      assertClose(sc.nsd, e.nsd[n], `nsd at ${tau} mm`);
      assertClose(sc.hd95, e.hd95, 'hd95');
      assertClose(sc.hd, e.hd, 'hd');
      assertClose(sc.assd, e.assd, 'assd');
      assertClose(sc.surface_gt_mm2, e.surface_gt_mm2, 'surface_gt_mm2');
      assertClose(sc.surface_pred_mm2, e.surface_pred_mm2, 'surface_pred_mm2');
    });
    assertClose(scoreSurfaces(s, 1, 100).hd95, e.hd, 'robust Hausdorff at 100 % = hd');
  });
}
