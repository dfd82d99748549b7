/** From whole-volume logits to what is kept: classes (argmax) and softmax probabilities slab by slab. */
import type { Logits, ProbabilitySink, Shape3 } from './types';

/**
 * Index of the largest channel per voxel (the first one on ties, as torch.argmax), as uint8 when the
 * channel count allows, else uint16.
 */
export function argmaxChannels(logits: Logits, n: number): Uint8Array | Uint16Array {
  const { data, channels } = logits;
  const out = channels <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  if (channels === 0) return out;
  const best = data.slice(0, n);
  for (let c = 1; c < channels; c++) {
    const base = c * n;
    for (let v = 0; v < n; v++) {
      const x = data[base + v];
      if (x > best[v]) {
        best[v] = x;
        out[v] = c;
      }
    }
  }
  return out;
}

/**
 * The softmax probabilities of `channels` from whole-volume logits [C, d0, d1, d2], handed over slab by slab as
 * slidingWindowClasses does with `probabilities`.
 */
export function probabilitySlabs(logits: Logits, shape: Shape3, sink: ProbabilitySink): void {
  const { data, channels } = logits;
  const n = shape[0] * shape[1] * shape[2];
  const plane = shape[1] * shape[2];
  const bad = sink.channels.find((c) => !Number.isInteger(c) || c < 0 || c >= channels);
  if (bad !== undefined) throw new Error(`probabilities asked for channel ${bad}; the model outputs ${channels}`);
  const planes = sink.channels.map(() => new Float32Array(plane));
  for (let a = 0; a < shape[0]; a++) {
    for (let v = 0; v < plane; v++) {
      const at = a * plane + v;
      let best = data[at];
      for (let c = 1; c < channels; c++) if (data[c * n + at] > best) best = data[c * n + at];
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += Math.exp(data[c * n + at] - best);
      for (let i = 0; i < sink.channels.length; i++) planes[i][v] = Math.exp(data[sink.channels[i] * n + at] - best) / sum;
    }
    sink.slab(a, planes);
  }
}
