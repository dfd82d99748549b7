/**
 * The fast paths of the metrics against their plain definitions, on random label maps: the kernels' label scan
 * against a voxel loop, surfels read straight from a label map against surfels of the padded crop, distinct-value
 * ranks against a sort, the distance search against its full-transform fallback, and a thread's reused buffers
 * against fresh ones (a score must not depend on which organ ran before it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distinctRanks } from '../../src/core/metrics/distinctRanks';
import { squaredDistanceMm2 } from '../../src/core/geometry/distanceTransform';
import { squaredDistanceAtMm2, type Dims3 } from '../../src/core/metrics/edt';
import { KernelHeap } from '../../src/core/metrics/kernelHeap';
import { countBoth, cropLabel, MapScanner, scanLabels, type VoxelBox } from '../../src/core/metrics/labelScan';
import { labelSurfaceDistances, scoreSurfaces, surfaceDistances } from '../../src/core/metrics/surface';
import { surfelsOf, surfelsOfLabel } from '../../src/core/metrics/surfels';
import { runTask } from '../../src/core/metrics/surfaceTask';
import { makeBuffersReady, warmUpSurfaceMetrics } from '../../src/core/metrics/surfaceWarmup';
import { WorkBuffers } from '../../src/core/metrics/workBuffers';
import { lcg } from '../helpers/random';

const rng = (seed: number) => lcg(seed, 'imul');

/** Random blobs of labels 1..labels (overlapping ellipsoids), some touching the volume border. */
function blobs(dims: Dims3, labels: number, seed: number, kind: 'u8' | 'u16' = 'u8'): Uint8Array | Uint16Array {
  const rand = rng(seed);
  const [n0, n1, n2] = dims;
  const out = kind === 'u8' ? new Uint8Array(n0 * n1 * n2) : new Uint16Array(n0 * n1 * n2);
  for (let b = 0; b < labels * 3; b++) {
    const label = kind === 'u8' ? 1 + (b % labels) : 300 + (b % labels);
    const c = [rand() * n0, rand() * n1, rand() * n2];
    const r = [1 + rand() * n0 / 3, 1 + rand() * n1 / 3, 1 + rand() * n2 / 3];
    for (let k = 0, v = 0; k < n2; k++) {
      for (let j = 0; j < n1; j++) {
        for (let i = 0; i < n0; i++, v++) {
          if (((i - c[0]) / r[0]) ** 2 + ((j - c[1]) / r[1]) ** 2 + ((k - c[2]) / r[2]) ** 2 < 1) out[v] = label;
        }
      }
    }
  }
  // speckle: isolated voxels and partial 32-bit words
  for (let x = 0; x < out.length / 50; x++) out[Math.floor(rand() * out.length)] = kind === 'u8' ? 1 + Math.floor(rand() * labels) : 300;
  return out;
}

/** Counts and boxes by the definition, one voxel at a time. */
function scanByVoxel(gt: ArrayLike<number>, pred: ArrayLike<number>, dims: Dims3) {
  const counts = new Map<number, { tp: number; fp: number; fn: number }>();
  const boxes = new Map<number, VoxelBox>();
  const at = (l: number) => counts.get(l) ?? counts.set(l, { tp: 0, fp: 0, fn: 0 }).get(l)!;
  const grow = (l: number, i: number, j: number, k: number) => {
    const b = boxes.get(l);
    if (!b) { boxes.set(l, { lo: [i, j, k], hi: [i, j, k] }); return; }
    [i, j, k].forEach((x, a) => { b.lo[a] = Math.min(b.lo[a], x); b.hi[a] = Math.max(b.hi[a], x); });
  };
  for (let k = 0, v = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, v++) {
        const g = gt[v], p = pred[v];
        if (g !== 0 && g === p) { at(g).tp++; grow(g, i, j, k); continue; }
        if (g !== 0) { at(g).fn++; grow(g, i, j, k); }
        if (p !== 0) { at(p).fp++; grow(p, i, j, k); }
      }
    }
  }
  return { counts, boxes };
}

test('label scan: the kernel\'s row scan equals a voxel loop (uint8 and uint16, rows of whole and partial 16-byte runs)', () => {
  // rows of 32-37 voxels: whole and partial 16-byte runs; of 150 (uint8) and 77 (uint16): the 64-byte background skip
  for (const [dims, kind] of [[[32, 20, 18], 'u8'], [[36, 17, 9], 'u8'], [[37, 15, 11], 'u8'], [[150, 9, 6], 'u8'], [[36, 14, 12], 'u16'], [[35, 9, 7], 'u16'], [[77, 8, 5], 'u16']] as const) {
    const gt = blobs(dims, 5, 11 + dims[0], kind);
    const pred = blobs(dims, 5, 97 + dims[0], kind);
    const fast = scanLabels(gt, pred, dims);
    const slow = scanByVoxel(gt, pred, dims);
    assert.ok(slow.counts.size >= 5, `labels present: ${slow.counts.size}`);
    assert.deepEqual(fast.counts, slow.counts, `counts ${dims} ${kind}`);
    assert.deepEqual(fast.boxes, slow.boxes, `boxes ${dims} ${kind}`);
  }
  // one label over whole words in both maps, its box ending on a word's last voxel: counted a word at a time
  const dims: Dims3 = [32, 6, 5];
  const same = new Uint8Array(32 * 6 * 5);
  for (let k = 1; k < 4; k++) for (let j = 2; j < 5; j++) for (let i = 4; i < 12; i++) same[i + 32 * (j + 6 * k)] = 7;
  const s = scanLabels(same, same.slice(), dims);
  assert.deepEqual(s.counts.get(7), { tp: 72, fp: 0, fn: 0 });
  assert.deepEqual(s.boxes.get(7), { lo: [4, 2, 1], hi: [11, 4, 3] });
});

test('surfels read straight from a label map equal the surfels of the padded crop (rows of 32 bits and not, boxes at the border)', () => {
  // padded widths of 32, 64 and 33 bits exercise a row ending exactly on a word and one bit past it
  for (const dims of [[30, 21, 13], [62, 9, 8], [31, 17, 19], [45, 33, 6]] as Dims3[]) {
    const gt = blobs(dims, 4, 5 + dims[1]);
    const pred = blobs(dims, 4, 71 + dims[1]);
    const scan = scanLabels(gt, pred, dims);
    let atBorder = 0;
    for (const [label, box] of scan.boxes) {
      if (box.lo.some((x) => x === 0) || box.hi.some((x, a) => x === dims[a] - 1)) atBorder++;
      const crop = cropLabel(gt, pred, dims, label, box);
      for (const [map, mask] of [[gt, crop.gt], [pred, crop.pred]] as const) {
        const direct = surfelsOfLabel(map, dims, label, box, new WorkBuffers());
        const viaCrop = surfelsOf(mask, crop.dims);
        assert.deepEqual(direct.dims, viaCrop.dims);
        assert.deepEqual(direct.index, viaCrop.index, `surfel corners of label ${label} in ${dims}`);
        assert.deepEqual(direct.code, viaCrop.code, `surfel codes of label ${label} in ${dims}`);
      }
    }
    assert.ok(atBorder > 0, 'some box touches the volume border');
  }
});

test('surfels by the definition: every corner whose 2x2x2 code is neither 0 nor 255, in ascending order', () => {
  const dims: Dims3 = [40, 7, 6];
  const mask = new Uint8Array(dims[0] * dims[1] * dims[2]);
  const rand = rng(3);
  // padded: zero on every side
  for (let k = 1; k < 5; k++) for (let j = 1; j < 6; j++) for (let i = 1; i < 39; i++) mask[i + 40 * (j + 7 * k)] = rand() < 0.5 ? 1 : 0;
  const s = surfelsOf(mask, dims);
  const index: number[] = [], code: number[] = [];
  const at = (i: number, j: number, k: number) => mask[i + 40 * (j + 7 * k)];
  for (let k = 0; k < 5; k++) {
    for (let j = 0; j < 6; j++) {
      for (let i = 0; i < 39; i++) {
        let c = 0;
        for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let d = 0; d < 2; d++) c |= at(i + a, j + b, k + d) << (7 - (4 * a + 2 * b + d));
        if (c !== 0 && c !== 255) { index.push(i + 39 * (j + 6 * k)); code.push(c); }
      }
    }
  }
  assert.ok(index.length > 100);
  assert.deepEqual(Array.from(s.index), index);
  assert.deepEqual(Array.from(s.code), code);
});

test('distinct ranks equal a sort (many repeats, more distinct values than the first table holds)', () => {
  const rand = rng(9);
  for (const [n, distinctCount] of [[1, 1], [50, 3], [20000, 40], [30000, 5000]]) {
    const pool = Float64Array.from({ length: distinctCount }, () => Math.sqrt(Math.floor(rand() * 1e6)) * 1.5);
    const values = Float64Array.from({ length: n }, () => pool[Math.floor(rand() * distinctCount)]);
    const { distinct, rank } = distinctRanks(values);
    const expected = [...new Set(values)].sort((a, b) => a - b);
    assert.deepEqual(Array.from(distinct), expected);
    for (let x = 0; x < n; x++) assert.equal(distinct[rank[x]], values[x]);
  }
});

test('distance search: finishing with the full transform (no budget) gives the same doubles as searching', () => {
  const dims: Dims3 = [23, 19, 17];
  const spacing = [0.7, 1.3, 2.9] as const;
  const rand = rng(21);
  const n = dims[0] * dims[1] * dims[2];
  const features = Int32Array.from({ length: n }, (_, v) => v).filter(() => rand() < 0.01);
  const queries = Int32Array.from({ length: 400 }, () => Math.floor(rand() * n));
  const searched = squaredDistanceAtMm2(features, queries, dims, spacing);
  const full = squaredDistanceAtMm2(features, queries, dims, spacing, undefined, 'distance', 0);
  assert.ok(features.length > 10);
  assert.deepEqual(full, searched);
  // reused buffers: the fallback overwrites the row offsets in place
  const work = new WorkBuffers();
  assert.deepEqual(squaredDistanceAtMm2(features, queries, dims, spacing, work, 'a', 0), searched);
  assert.deepEqual(squaredDistanceAtMm2(features, queries, dims, spacing, work, 'b'), searched);
  // rows longer than 254 voxels keep their offsets in 2 bytes instead of 1: same values as the full transform
  const long: Dims3 = [300, 4, 3];
  const mask = new Uint8Array(300 * 4 * 3);
  for (const v of [5, 290, 300 * 4 + 150, 300 * 4 * 2 + 299]) mask[v] = 1;
  const longFeatures = Int32Array.from(mask.keys()).filter((v) => mask[v] === 1);
  const everywhere = Int32Array.from({ length: mask.length }, (_, v) => v);
  const exact = squaredDistanceMm2(mask, long, spacing);
  assert.deepEqual(squaredDistanceAtMm2(longFeatures, everywhere, long, spacing, work, 'c'), exact);
  assert.deepEqual(squaredDistanceAtMm2(longFeatures, everywhere, long, spacing, work, 'c', 0), exact);
});

/** Six organs of random blobs in both maps, at anisotropic spacing: the buffer tests' case. */
function sixOrgans() {
  const dims: Dims3 = [48, 40, 30];
  const gt = blobs(dims, 6, 1234);
  const pred = blobs(dims, 6, 4321);
  return { dims, spacing: [0.9, 1.2, 2.0] as const, gt, pred, scan: scanLabels(gt, pred, dims) };
}

test('a thread\'s reused buffers give every organ the scores fresh buffers give, whatever ran before it', () => {
  const { dims, spacing, gt, pred, scan } = sixOrgans();
  const fresh = new Map<number, ReturnType<typeof scoreSurfaces>>();
  for (const [label, box] of scan.boxes) {
    if (!scan.counts.get(label)!.tp) continue;
    fresh.set(label, scoreSurfaces(surfaceDistances(cropLabel(gt, pred, dims, label, box), spacing), 1.5));
  }
  assert.ok(fresh.size >= 4, `organs scored: ${fresh.size}`);
  // largest first, then smallest first, then again: buffers grow, shrink in use, and hold stale values
  const work = new WorkBuffers();
  const order = [...fresh.keys()];
  for (const labels of [order, [...order].reverse(), order]) {
    for (const label of labels) {
      const reused = scoreSurfaces(labelSurfaceDistances(gt, pred, dims, label, scan.boxes.get(label)!, spacing, work), 1.5, 95, work);
      assert.deepEqual(reused, fresh.get(label), `label ${label}`);
      const viaTask = runTask({ kind: 'surface', gt, pred, dims, label, box: scan.boxes.get(label)!, spacingMm: spacing, toleranceMm: 1.5, hdPercentile: 95 });
      assert.deepEqual(viaTask, fresh.get(label), `label ${label} as a pool task`);
    }
  }
  assert.ok(work.bytes > 0);
});

test('buffers made ready for an organ size hold every organ up to that size: its tasks allocate no large buffer', () => {
  const { dims, spacing, gt, pred, scan } = sixOrgans();
  const labels = [...scan.boxes.keys()].filter((l) => scan.counts.get(l)!.tp > 0);
  let corners = 0, surfels = 0;
  for (const label of labels) {
    const box = scan.boxes.get(label)!;
    const g = surfelsOfLabel(gt, dims, label, box), p = surfelsOfLabel(pred, dims, label, box);
    corners = Math.max(corners, g.dims[0] * g.dims[1] * g.dims[2]);
    surfels = Math.max(surfels, g.index.length, p.index.length);
  }
  const newBytes = (work: WorkBuffers) => {
    const before = work.allocatedBytes;
    for (const label of labels) scoreSurfaces(labelSurfaceDistances(gt, pred, dims, label, scan.boxes.get(label)!, spacing, work), 1, 95, work);
    return work.allocatedBytes - before;
  };
  const ready = new WorkBuffers();
  makeBuffersReady(ready, { corners, surfels });
  const unprepared = newBytes(new WorkBuffers());
  const prepared = newBytes(ready);
  // what is left to allocate: plane, count and lookup-table buffers of a few kilobytes each (the kernels' tables of
  // squared steps, the distinct values' hash table, the area ranks)
  assert.ok(unprepared > 8 * corners, `unprepared: ${unprepared} bytes`);
  assert.ok(prepared < 128 * 1024, `after makeBuffersReady: ${prepared} bytes (unprepared ${unprepared})`);
});

test('the workers\' warm-up runs every kernel and its fallback agrees with the search', () => {
  const { nsd, fallbackAgrees } = warmUpSurfaceMetrics(1);
  assert.ok(nsd > 0.3 && nsd < 0.8, `warm-up organ NSD ${nsd}`);
  assert.equal(fallbackAgrees, true);
});

test('a map scanned ring by ring (MapScanner) gives its own counts and boxes, and its copy without background is the map', () => {
  for (const [dims, kind] of [[[150, 9, 13], 'u8'], [[77, 8, 11], 'u16']] as const) {
    const map = blobs(dims, 5, 5 + dims[0], kind);
    const heap = new KernelHeap();
    const bytesPerVoxel = kind === 'u8' ? 1 : 2;
    const plane = dims[0] * dims[1];
    const copy = heap.labels(map.length, bytesPerVoxel);
    const scanner = new MapScanner(heap, dims, bytesPerVoxel);
    // rings of 3 planes (the last one short), each written at the same address as an inflating worker's ring
    const ringAt = heap.alloc(3 * plane * bytesPerVoxel);
    const ring = kind === 'u8' ? heap.u8(ringAt, 3 * plane) : heap.u16(ringAt, 3 * plane);
    for (let k = 0; k < dims[2]; k += 3) {
      const planes = Math.min(3, dims[2] - k);
      ring.set(map.subarray(k * plane, (k + planes) * plane));
      scanner.scan(ringAt, k, planes, copy.byteOffset);
    }
    const scan = scanner.finish();
    assert.deepEqual(Array.from(copy), Array.from(map), `${kind}: the copy`);
    const byVoxel = scanByVoxel(map, map, dims);
    assert.deepEqual(scan.boxes, byVoxel.boxes, `${kind}: boxes`);
    assert.deepEqual(scan.voxels, new Map([...byVoxel.counts].map(([l, c]) => [l, c.tp])), `${kind}: voxels`);
    assert.ok(scan.voxels.size >= 5);
    // the overlap of two maps counted in each label's box equals the joint scan's tp
    const other = blobs(dims, 5, 71 + dims[0], kind);
    const joint = scanByVoxel(map, other, dims);
    for (const [label, c] of joint.counts) assert.equal(countBoth(map, other, dims, label, joint.boxes.get(label)!, heap), c.tp, `${kind}: label ${label}`);
  }
});
