/**
 * Whole-body sliding-window inference: onnxruntime-node (our bounded-band slidingWindowClasses) against a PyTorch
 * CPU sliding window with MONAI semantics (bench/reference/sliding_window_torch.py) on the same network: the
 * UMD-mini U-Net architecture (8-16-32-64, 14 classes) with seeded random weights, exported to ONNX in a temp dir.
 * Prints peak RSS, the share of time outside ONNX Runtime's own run(), both end-to-end times and the agreement of
 * the two class maps. Asserts nothing.
 *   npm run build && node out/bench/inference.bench.js [--shape 1000,320,320] [--patch 96] [--overlap 0.5]
 *     [--threads 2] [--batch 1] [--channels 8,16,32,64] [--arena on|off] [--first-case] [--no-torch]
 * The measured case is, as every case of an evaluation after its first, preceded in the process by an earlier case
 * (the first patch-deep slab of the same volume: one row of windows), so that the blending band's memory and ONNX
 * Runtime's are already touched; --first-case measures a first case in a fresh process instead.
 * --channels widens the U-Net (e.g. 16,32,64,128) for a costlier network: the work outside run() is per voxel and
 * class, so its share shrinks as the network's cost grows.
 * Shape is the tensor's [d0, d1, d2] (d0 slowest: the long axis of a whole body, k in the cards' kji order).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { normalizer } from '../src/core/model/preprocess/normalize';
import { sessionOptions } from '../src/core/model/session';
import { slidingWindowClasses, scanInterval, windowStarts, type RunPatch, type Shape3, type WindowTimings } from '../src/core/model/inference';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: '1000,320,320' }, patch: { type: 'string', default: '96' },
    overlap: { type: 'string', default: '0.5' }, threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '1' }, channels: { type: 'string', default: '8,16,32,64' },
    arena: { type: 'string' }, 'no-torch': { type: 'boolean', default: false }, 'first-case': { type: 'boolean', default: false },
  },
});
const root = path.resolve(__dirname, '../..');
const PY = '/usr/bin/python3';
const SCRIPT = path.join(root, 'bench', 'reference', 'sliding_window_torch.py');
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const now = () => Number(process.hrtime.bigint()) / 1e9;

/** A smooth whole-body-like intensity field with noise, deterministic. */
function phantom([d0, d1, d2]: Shape3): Float32Array {
  const x = new Float32Array(d0 * d1 * d2);
  let s = 12345;
  let o = 0;
  for (let a = 0; a < d0; a++) {
    const za = Math.sin(a / 37);
    for (let b = 0; b < d1; b++) {
      const yb = (b - d1 / 2) / (d1 / 2);
      for (let c = 0; c < d2; c++, o++) {
        const xc = (c - d2 / 2) / (d2 / 2);
        const body = xc * xc + yb * yb < 0.7 ? 1 : -1;
        s = (s * 1103515245 + 12345) % 2147483648;
        x[o] = body + 0.5 * za * Math.cos(b / 19 + c / 23) + 0.2 * (s / 2147483648 - 0.5);
      }
    }
  }
  return x;
}

async function main(): Promise<void> {
  const shape = values.shape.split(',').map(Number) as unknown as Shape3;
  const p = Number(values.patch);
  const patch: Shape3 = [p, p, p];
  const overlap = Number(values.overlap);
  const threads = Number(values.threads);
  const batchSize = Number(values.batch);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-infer-bench-'));
  try {
    const onnx = path.join(tmp, 'unet14.onnx');
    const channels = values.channels.split(',');
    const ex = spawnSync(PY, [SCRIPT, 'export', '--onnx', onnx, '--seed', '0', '--channels', ...channels], { encoding: 'utf8' });
    if (ex.status !== 0) throw new Error(`export failed: ${ex.stderr}`);
    const windows = [0, 1, 2].map((a) => { const f = Math.max(shape[a], patch[a]); return windowStarts(f, patch[a], scanInterval(f, patch[a], overlap)).length; });
    const nWindows = windows[0] * windows[1] * windows[2];
    const n = shape[0] * shape[1] * shape[2];
    console.log(`inference benchmark: ${shape.join('x')} (${(n / 1e6).toFixed(1)} M voxels), ${p}^3 patches, overlap ${overlap}, ${windows.join('x')} = ${nWindows} windows, U-Net ${channels.join('-')} with 14 classes, ${threads} threads, batch ${batchSize}, ${os.cpus()[0]?.model ?? 'cpu'}`);
    console.log(`full float32 logits of 14 classes would take ${mb(14 * n * 4)}; the band takes ${mb(14 * patch[0] * shape[1] * shape[2] * 4)}`);

    // as in a real case: the raw volume is held once, and its z-score normalization (statistics taken here) is
    // applied to each window as it is cut; PyTorch gets the normalized volume, written in chunks
    const image = phantom(shape);
    const transform = normalizer(image, { method: 'zscore' });
    const imageFile = path.join(tmp, 'image.f32');
    if (!values['no-torch']) {
      const fd = fs.openSync(imageFile, 'w');
      const chunk = new Float32Array(1 << 20);
      for (let at = 0; at < n; at += chunk.length) {
        const m = Math.min(chunk.length, n - at);
        for (let v = 0; v < m; v++) chunk[v] = transform(image[at + v]);
        fs.writeSync(fd, new Uint8Array(chunk.buffer, 0, m * 4));
      }
      fs.closeSync(fd);
    }
    // --arena on|off overrides the CPU memory arena setting of sessionOptions (to measure its effect on peak RSS)
    const options = { ...sessionOptions({ threads }), ...(values.arena ? { enableCpuMemArena: values.arena === 'on' } : {}) };
    const session = await ort.InferenceSession.create(onnx, options);
    let runS = 0;
    let runs = 0;
    // as predict.ts runs it: logits written by ONNX Runtime straight into the band's memory once it exists
    let counting = false;
    const run: RunPatch = async (data, dims, batch = 1, output) => {
      const perSample = batch * dims[0] * dims[1] * dims[2];
      const target = output && !(output.buffer instanceof SharedArrayBuffer) ? output : undefined;
      const fetches = target ? { logits: new ort.Tensor('float32', target, [batch, target.length / perSample, ...dims]) } : ['logits'];
      const t = now();
      const out = (await session.run({ image: new ort.Tensor('float32', data, [batch, 1, ...dims]) }, fetches)).logits;
      if (counting) {
        runS += now() - t;
        runs++;
      }
      return { data: target ?? (out.data as Float32Array), channels: out.dims[1] };
    };
    if (!values['first-case']) {
      // an evaluation's earlier case, on the same plane size: a view on the volume's first patch-deep slab
      const earlier: Shape3 = [Math.min(p, shape[0]), shape[1], shape[2]];
      const t = now();
      await slidingWindowClasses(image.subarray(0, earlier[0] * shape[1] * shape[2]), earlier, patch, run, { overlap, batchSize, transform });
      console.log(`earlier case in this process: ${earlier.join('x')}, ${(now() - t).toFixed(1)} s (not counted below; --first-case to measure a first case)`);
    }
    const rssBefore = process.memoryUsage().rss;
    counting = true;
    const t0 = now();
    let lastPrint = 0;
    const timings: WindowTimings = { cutS: 0, blendS: 0, finishS: 0 };
    const classes = await slidingWindowClasses(image, shape, patch, run, {
      overlap, batchSize, transform, timings,
      onProgress: (done, total) => {
        const el = now() - t0;
        if (done > 0 && (el - lastPrint > 15 || done === total)) {
          lastPrint = el;
          process.stderr.write(`  ${done}/${total} windows, ${el.toFixed(0)} s, about ${((el / done) * (total - done)).toFixed(0)} s left\n`);
        }
      },
    });
    const totalS = now() - t0;
    const peak = process.resourceUsage().maxRSS * 1024;
    await session.release();
    const outside = totalS - runS;
    console.log(`onnxruntime-node end to end   ${totalS.toFixed(1)} s (${runs} run() calls, ${(runS / runs * 1e3).toFixed(0)} ms each)`);
    console.log(`  outside ORT's run()         ${outside.toFixed(1)} s = ${((100 * outside) / totalS).toFixed(1)} % of the total (target <= 10 %)`);
    const other = outside - timings.cutS - timings.blendS - timings.finishS;
    console.log(`    cutting windows ${timings.cutS.toFixed(1)} s, blending ${timings.blendS.toFixed(1)} s (${(1e3 * timings.blendS / runs).toFixed(0)} ms per run), finishing slabs ${timings.finishS.toFixed(1)} s, other ${other.toFixed(1)} s`);
    console.log(`  peak RSS                    ${mb(peak)} (target < 1.5 GB = 1431 MiB; raw image ${mb(image.byteLength)}, classes ${mb(classes.byteLength)}, RSS before the window loop ${mb(rssBefore)})`);
    console.log(`  blending band               ${process.env.UMD_LENS_BLEND === 'js' ? 'JavaScript (UMD_LENS_BLEND=js)' : 'WebAssembly SIMD'}`);

    if (values['no-torch']) return;
    const clsFile = path.join(tmp, 'torch.u8');
    const py = spawnSync(PY, [SCRIPT, 'run', '--image', imageFile, '--shape', ...shape.map(String), '--patch', String(p), '--overlap', String(overlap), '--threads', String(threads), '--channels', ...channels, '--out', clsFile], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (py.status !== 0) throw new Error(`torch reference failed: ${py.stderr}`);
    const r = JSON.parse(py.stdout.trim().split('\n').pop()!) as { total_s: number; net_s: number; windows: number; peak_rss_mb: number; torch: string };
    const theirs = new Uint8Array(fs.readFileSync(clsFile));
    let same = 0;
    for (let v = 0; v < n; v++) if (theirs[v] === classes[v]) same++;
    console.log(`PyTorch ${r.torch} (MONAI semantics) ${r.total_s.toFixed(1)} s (${r.windows} windows, net ${r.net_s.toFixed(1)} s), peak RSS ${r.peak_rss_mb.toFixed(0)} MiB`);
    console.log(`speed-up onnxruntime-node / PyTorch: ${(r.total_s / totalS).toFixed(2)}x end to end (target >= 1.5x)`);
    console.log(`class agreement with PyTorch: ${((100 * same) / n).toFixed(4)} % of voxels`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
