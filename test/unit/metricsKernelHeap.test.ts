/**
 * The metrics' kernel heap: blocks in one shared WebAssembly memory, disjoint, reused once released, and views of it
 * recognized (a pool's maps are never copied per task), on a real WebAssembly instance of the kernels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelHeap } from '../../src/core/metrics/kernelHeap';
import { scanLabels } from '../../src/core/metrics/labelScan';
import { SurfacePool } from '../../src/core/metrics/surfacePool';

test('kernel heap: blocks are aligned and disjoint, a released block is reused, neighbours merge', () => {
  const heap = new KernelHeap();
  assert.equal(Object.prototype.toString.call(heap.memory.buffer), '[object SharedArrayBuffer]', 'the memory is shared (the pool hands it to its workers)');
  const a = heap.alloc(100), b = heap.alloc(70_000), c = heap.alloc(1);
  for (const at of [a, b, c]) assert.equal(at % 64, 0);
  // disjoint, and each leaves the 16 bytes of slack the kernels' 16-bit loads past a map's end read
  assert.ok(a + 116 <= b || b + 70_016 <= a);
  assert.ok(b + 70_016 <= c || c + 17 <= b);
  heap.u8(a, 100).fill(1);
  heap.u8(b, 70_000).fill(2);
  assert.equal(heap.u8(a, 100).every((x) => x === 1), true);
  heap.release(a, 100);
  const held = heap.memory.buffer.byteLength;
  const again = heap.alloc(90);
  assert.equal(heap.memory.buffer.byteLength, held, 'a released block is reused: the memory did not grow');
  assert.ok(again + 106 <= b || b + 70_016 <= again, 'and it is not inside a block still held');
  // two released neighbours hold one block as large as both
  const x = heap.alloc(200_000), y = heap.alloc(200_000);
  heap.release(x, 200_000);
  heap.release(y, 200_000);
  const grown = heap.memory.buffer.byteLength;
  const z = heap.alloc(390_000);
  assert.equal(heap.memory.buffer.byteLength, grown, 'the merged blocks hold it: the memory did not grow');
  assert.ok(z <= x && z + 390_016 <= y + 200_064, `inside the two released blocks (${z}: ${x}, ${y})`);
});

test('kernel heap: its views are recognized, other arrays are copied in and released', () => {
  const heap = new KernelHeap();
  const inside = heap.labels(1000, 1);
  assert.equal(heap.addressOf(inside), inside.byteOffset);
  assert.equal(heap.addressOf(inside.subarray(10, 20)), inside.byteOffset + 10, 'a subarray of a heap view is in the heap');
  assert.equal(heap.addressOf(new Uint8Array(1000)), undefined);
  const held = heap.hold(Uint16Array.from([1, 2, 3, 65535]));
  assert.equal(held.copied, true);
  assert.deepEqual(Array.from(held.view), [1, 2, 3, 65535]);
  assert.equal(heap.addressOf(held.view), held.view.byteOffset);
  assert.equal(heap.hold(inside).copied, false);
  // after the heap grows, views made before it still read the same bytes
  inside.fill(7);
  heap.alloc(10 << 20);
  assert.equal(inside.every((v) => v === 7), true);
});

test('kernel heap: the scan kernel gives the same counts on a map in the heap as on a copy of it', () => {
  const dims: [number, number, number] = [37, 9, 5];
  const gt = new Uint8Array(37 * 9 * 5), pred = new Uint8Array(37 * 9 * 5);
  for (let v = 0; v < gt.length; v++) { gt[v] = v % 7 === 0 ? 3 : 0; pred[v] = v % 5 === 0 ? 3 : 0; }
  const heap = new KernelHeap();
  const inHeap = scanLabels(heap.hold(gt).view, heap.hold(pred).view, dims, heap);
  const copied = scanLabels(gt, pred, dims);
  assert.deepEqual(inHeap, copied);
  const both = Array.from(gt, (g, v) => (g === 3 && pred[v] === 3 ? 1 : 0) as number).reduce((s, x) => s + x, 0);
  assert.deepEqual(inHeap.counts.get(3), { tp: both, fp: pred.filter((p) => p === 3).length - both, fn: gt.filter((g) => g === 3).length - both });
});

test('a pool shares a map of its heap without a copy and gives back the copy of any other', () => {
  const pool = new SurfacePool(1);
  const own = pool.allocateLabels(64);
  assert.equal(pool.share(own), own);
  const other = new Uint8Array(64).fill(5);
  const shared = pool.share(other);
  assert.notEqual(shared, other);
  assert.deepEqual(Array.from(shared), Array.from(other));
  pool.unshare(other, shared);
  // the block given back is the next one taken
  assert.equal(pool.allocateLabels(64).byteOffset, shared.byteOffset);
});
