/**
 * The blending band alone (blendBand.ts) on the whole-body geometry of bench/inference.bench.ts: windows of 14
 * classes added in window order, slabs finished as the sliding window finishes them, no network. Prints the time
 * per window of the first row of d0-starts (the band's pages touched for the first time) and of the rest, and of
 * finishing a slab. The band lies along the shape's longest axis, as the sliding window lays it (blendBand.ts
 * sweepAxis): --shape 320,320,1000 measures the band swept along tensor axis 2 (a CT in (i, j, k) order),
 * 320,1000,320 along axis 1, 1000,320,320 along axis 0. --float16 measures the float16 band (JavaScript).
 *   npm run build && node out/bench/blend.bench.js [--shape 1000,320,320] [--patch 96] [--overlap 0.5] [--windows 400] [--js] [--float16]
 */
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { createBand, planeAxes, sweepAxis } from '../src/core/model/inference/blendBand';
import { gaussianImportanceMap, scanInterval, windowStarts, type Shape3 } from '../src/core/model/inference';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: '1000,320,320' }, patch: { type: 'string', default: '96' },
    overlap: { type: 'string', default: '0.5' }, windows: { type: 'string', default: '400' }, js: { type: 'boolean', default: false },
    float16: { type: 'boolean', default: false },
  },
});
const now = () => Number(process.hrtime.bigint()) / 1e9;
const full = values.shape.split(',').map(Number) as unknown as Shape3;
const p = Number(values.patch);
const patch: Shape3 = [p, p, p];
const channels = 14;
const starts = [0, 1, 2].map((a) => windowStarts(full[a], patch[a], scanInterval(full[a], patch[a], Number(values.overlap)))) as [number[], number[], number[]];
const sweep = sweepAxis(full);
const [u, v] = planeAxes(sweep);
const band = createBand({ channels, patch, full, starts, sweep, dtype: values.float16 ? 'float16' : 'float32' }, gaussianImportanceMap(patch), values.js ? 'js' : 'wasm');
const nPatch = p * p * p;
const logits = band.outputArea(1) ?? new Float32Array(channels * nPatch);
let s = 1;
for (let i = 0; i < logits.length; i++) logits[i] = (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
const windows: Shape3[] = [];
for (const a of starts[sweep]) for (const b of starts[u]) for (const c of starts[v]) {
  const at = [0, 0, 0];
  at[sweep] = a;
  at[u] = b;
  at[v] = c;
  windows.push(at as unknown as Shape3);
}
const perRow = starts[u].length * starts[v].length;
const classes = new Uint8Array(full[u] * full[v]);
const first = { s: 0, n: 0 };
const rest = { s: 0, n: 0 };
const finish = { s: 0, n: 0 };
let next = 0;
for (const [i, start] of windows.slice(0, Number(values.windows)).entries()) {
  let t = now();
  for (; next < start[sweep]; next++, finish.n++) band.finishClasses(next, classes);
  finish.s += now() - t;
  t = now();
  band.add(start, logits);
  const took = now() - t;
  const into = i < perRow ? first : rest;
  into.s += took;
  into.n++;
}
const ms = (x: { s: number; n: number }) => (x.n ? ((1e3 * x.s) / x.n).toFixed(2) : '-');
console.log(`blending band (${band.kind}${values.float16 ? ', float16' : ''}): ${full.join('x')}, swept along axis ${sweep}, ${p}^3 windows of ${channels} classes, ${os.cpus()[0]?.model ?? 'cpu'}`);
console.log(`  add, first row of sweep starts (band pages touched the first time): ${ms(first)} ms per window (${first.n})`);
console.log(`  add, later windows:                                              ${ms(rest)} ms per window (${rest.n})`);
console.log(`  finish a slab (summed weights, argmax):                          ${ms(finish)} ms per slab (${finish.n})`);
