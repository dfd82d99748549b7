// A tiny, real ONNX checkpoint for wiring tests while the demo model trains: one 1x1x1 Conv3d, a 1-D
// nearest-intensity classifier (logit_c = 2*m_c*x - m_c^2, x = min-max scaled intensity), 14 classes.
// Protobuf encoded by hand (ModelProto, opset 13). Written with its model card <name>.umd.json.
import fs from 'node:fs';
import path from 'node:path';

const varint = (n) => { const b = []; let v = BigInt(n); do { let x = Number(v & 0x7fn); v >>= 7n; if (v) x |= 0x80; b.push(x); } while (v); return Buffer.from(b); };
const key = (field, wire) => varint((field << 3) | wire);
const vint = (field, n) => Buffer.concat([key(field, 0), varint(n)]);
const bytes = (field, buf) => { buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf); return Buffer.concat([key(field, 2), varint(buf.length), buf]); };
const msg = (field, ...parts) => bytes(field, Buffer.concat(parts));

const floatTensor = (name, dims, values) => Buffer.concat([
  ...dims.map((d) => vint(1, d)), vint(2, 1), bytes(8, name), bytes(9, Buffer.from(new Float32Array(values).buffer)),
]);
const valueInfo = (field, name, dims) => msg(field, bytes(1, name), msg(2, msg(1, vint(1, 1), msg(2,
  ...dims.map((d) => msg(1, typeof d === 'number' ? vint(1, d) : bytes(2, d)))))));

export const ORGANS = ['liver', 'spleen', 'left kidney', 'right kidney', 'heart', 'aorta', 'left lung', 'right lung', 'brain', 'bladder', 'stomach', 'pancreas', 'gallbladder'];

export function writeTinyModel(dir, name = 'umd-ui-wiring') {
  const C = ORGANS.length + 1;
  const centers = Array.from({ length: C }, (_, c) => (c === 0 ? 0.02 : 0.15 + (0.8 * (c - 1)) / (C - 2)));
  const W = centers.map((m) => 2 * m);
  const B = centers.map((m) => -m * m);
  const graph = Buffer.concat([
    msg(1, bytes(1, 'image'), bytes(1, 'W'), bytes(1, 'B'), bytes(2, 'logits'), bytes(3, 'conv'), bytes(4, 'Conv')),
    bytes(2, 'tiny'),
    msg(5, floatTensor('W', [C, 1, 1, 1, 1], W)),
    msg(5, floatTensor('B', [C], B)),
    valueInfo(11, 'image', [1, 1, 'd', 'h', 'w']),
    valueInfo(12, 'logits', [1, C, 'd', 'h', 'w']),
  ]);
  const model = Buffer.concat([vint(1, 8), bytes(2, 'umd-lens-tests'), msg(7, graph), msg(8, bytes(1, ''), vint(2, 13))]);
  const onnx = path.join(dir, `${name}.onnx`);
  fs.writeFileSync(onnx, model);
  fs.writeFileSync(path.join(dir, `${name}.umd.json`), JSON.stringify({
    kind: 'semantic', name, description: 'Wiring-test model: nearest-intensity classifier (not a real segmenter).',
    inputs: { image: 'image' }, outputs: { logits: 'logits' }, patchSize: null, spatialOrder: 'kji', spacing: null,
    normalization: { '*': { method: 'minmax' } },
    labels: Object.fromEntries(ORGANS.map((o, i) => [String(i + 1), o])),
  }, null, 2));
  return onnx;
}
