// Checks the exported encoder + decoder pairs of make_encoder_decoder.py with onnxruntime-node (the runtime the
// engine uses) against the torch outputs that script left in /tmp/<name>.ref.json: click 1 on zeros, click 2 fed
// click 1's logits (logits form).
//   /usr/bin/python3 models/training/make_encoder_decoder.py && node models/training/check-encoder-decoder.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fix = path.join(root, 'test', 'fixtures', 'encoder-decoder');
const pairs = [
  ['sam-med3d-style', path.join(root, 'models', 'sam-med3d-style')],
  ['fast', path.join(fix, 'fast')],
  ['binary', path.join(fix, 'binary')],
];
for (const [name, base] of pairs) {
  const ref = JSON.parse(fs.readFileSync(`/tmp/${name}.ref.json`, 'utf8'));
  const s = ref.crop;
  const enc = await ort.InferenceSession.create(`${base}.onnx`);
  const dec = await ort.InferenceSession.create(`${base}.decoder.onnx`);
  const image = new Float32Array(s ** 3);
  for (let v = 0; v < image.length; v++) image[v] = ((v * 7919) % 1013) / 64 - 8;
  const emb = (await enc.run({ image: new ort.Tensor('float32', image, [1, 1, s, s, s]) })).image_embeddings;
  const embSum = emb.data.reduce((a, b) => a + b, 0);
  const low = s / 4;
  const m = ref.binary ? s : low;
  const feeds = (n, mask) => ({
    image_embeddings: emb,
    point_coords: new ort.Tensor('float32', Float32Array.from(ref.points[0].slice(0, n).flat()), [1, n, 3]),
    point_labels: new ort.Tensor('float32', Float32Array.from(ref.labels[0].slice(0, n)), [1, n]),
    mask_inputs: new ort.Tensor('float32', mask, [1, 1, m, m, m]),
  });
  const l1 = (await dec.run(feeds(1, new Float32Array(m ** 3)))).low_res_logits;
  // click 2 is fed torch's own click-1 logits; the binary decoder's click 2 is not compared (its input, torch's
  // upsampled 0/1 mask, is not stored; test/unit/encoderDecoder.test.ts checks what the engine feeds it)
  const diff = (a, b) => a.reduce((mx, x, i) => Math.max(mx, Math.abs(x - b[i])), 0);
  const d1 = diff(l1.data, ref.logits1);
  let d2 = NaN;
  if (!ref.binary) {
    const l2 = (await dec.run(feeds(2, Float32Array.from(ref.logits1)))).low_res_logits;
    d2 = diff(l2.data, ref.logits2);
  }
  const bad = !(d1 < 1e-4) || (!ref.binary && !(d2 < 1e-4)) || Math.abs(embSum - ref.embeddingsSum) > 1e-2 * Math.max(1, Math.abs(ref.embeddingsSum));
  console.log(`${name}: embeddings [${emb.dims}] sum ${embSum.toFixed(3)} (torch ${ref.embeddingsSum.toFixed(3)}), click 1 max |onnx - torch| ${d1.toExponential(2)}${ref.binary ? '' : `, click 2 (fed click 1's logits) ${d2.toExponential(2)}`}`);
  if (bad) throw new Error(`${name}: onnxruntime-node and torch disagree`);
}
