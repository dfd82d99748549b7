// Checks an exported demo checkpoint with onnxruntime-node (the runtime the engine uses):
//   node models/training/check-onnx.mjs models/NAME
// runs a 64^3 patch and an odd-sized volume (dynamic spatial axes), and compares the odd one with the torch
// reference that `train.py eval` left in /tmp/NAME.ref-{in,out}.f32.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

const base = process.argv[2];
const name = path.basename(base);
const card = JSON.parse(fs.readFileSync(`${base}.umd.json`, 'utf8'));
const session = await ort.InferenceSession.create(`${base}.onnx`);
const nCls = Object.keys(card.labels).length + 1;
for (const shape of [[1, 1, ...card.patchSize], [1, 1, 40, 50, 70]]) {
  const n = shape.reduce((a, b) => a * b, 1);
  const refIn = `/tmp/${name}.ref-in.f32`;
  const odd = shape[2] === 40;
  const data = odd && fs.existsSync(refIn) ? new Float32Array(fs.readFileSync(refIn).buffer.slice(0)) : new Float32Array(n).fill(0.1);
  const out = (await session.run({ [card.inputs.image]: new ort.Tensor('float32', data, shape) }))[card.outputs.logits];
  const want = [1, nCls, ...shape.slice(2)];
  if (JSON.stringify(out.dims) !== JSON.stringify(want)) throw new Error(`output ${out.dims} != ${want}`);
  let diff = NaN;
  if (odd && fs.existsSync(`/tmp/${name}.ref-out.f32`)) {
    const ref = new Float32Array(fs.readFileSync(`/tmp/${name}.ref-out.f32`).buffer.slice(0));
    diff = 0;
    for (let v = 0; v < ref.length; v++) diff = Math.max(diff, Math.abs(ref[v] - out.data[v]));
    if (!(diff < 1e-3)) throw new Error(`onnx vs torch max abs diff ${diff}`);
  }
  console.log(`${name}: input ${shape.join('x')} -> logits ${out.dims.join('x')}${Number.isNaN(diff) ? '' : `, max |onnx - torch| = ${diff.toExponential(2)}`}`);
}
