/**
 * Sliding-window memory whatever the card's axis order (issue 13): `predict` as the CLI runs it (the memory check
 * from the header, the image read in its stored type, predictClasses, the label map written) of a 14-class network
 * with 96^3 patches at 50 % overlap on a generated 320 x 320 x 1000 int16 CT at 1.5 mm, once per configuration in
 * a fresh child process: spatialOrder "ijk" and "kji", float32 and float16 band. Prints per configuration the peak
 * RSS (process.resourceUsage().maxRSS of the child), the estimate the memory check made from the header, the wall
 * time and the windows, then the share of voxels where the float16 band gives the float32 band's class. Asserts
 * nothing.
 *   npm run build && node out/bench/sweep.bench.js [--dims 320,320,1000] [--threads 2] [--keep DIR]
 *     [--configs ijk:float32,kji:float32,ijk:float16,kji:float16]
 * The network (made here with Debian's /usr/bin/python3 torch and exported to ONNX): a 3^3 convolution 1 -> 8,
 * ReLU, a 1^3 convolution 8 -> 14, seeded weights: cheap enough that a run takes a minute, with real logits whose
 * classes depend on a voxel's neighbourhood. --keep DIR reuses (or keeps) the image and the model there.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { axisAlignedAffine, type GridDims } from '../src/core/geometry/affine';
import * as model from '../src/core/model/predict';
import * as read from '../src/core/nifti/read';
import { writeNifti } from '../src/core/nifti/write';

const { values } = parseArgs({
  options: {
    dims: { type: 'string', default: '320,320,1000' }, threads: { type: 'string', default: '2' }, keep: { type: 'string' },
    configs: { type: 'string', default: 'ijk:float32,kji:float32,ijk:float16,kji:float16' },
    child: { type: 'string' }, order: { type: 'string' }, band: { type: 'string' }, out: { type: 'string' },
  },
});
const PY = '/usr/bin/python3';
const GB = 2 ** 30;

/** A CT-like int16 volume: air, a body ellipse of soft tissue with organs of other densities, bone, noise. */
function phantomCt(dims: GridDims): Int16Array {
  const [ni, nj, nk] = dims;
  const out = new Int16Array(ni * nj * nk);
  let s = 12345;
  let o = 0;
  for (let k = 0; k < nk; k++) {
    const z = k / nk;
    for (let j = 0; j < nj; j++) {
      const y = (j - nj / 2) / (nj * 0.35);
      for (let i = 0; i < ni; i++, o++) {
        const x = (i - ni / 2) / (ni * 0.42);
        s = (s * 1103515245 + 12345) % 2147483648;
        const noise = (s / 2147483648 - 0.5) * 40;
        const r = x * x + y * y;
        let hu = -1000;
        if (r < 1) {
          hu = 40;
          if ((x - 0.3) ** 2 + (y + 0.1) ** 2 < 0.08 && z > 0.4 && z < 0.6) hu = 60; // liver-like
          if ((x + 0.35) ** 2 + y * y < 0.03 && z > 0.45 && z < 0.55) hu = 120; // kidney-like
          if (x * x + (y - 0.6) ** 2 < 0.01) hu = 700; // spine
          if (z > 0.6 && z < 0.8 && Math.abs(x) > 0.2 && Math.abs(x) < 0.7 && Math.abs(y) < 0.6) hu = -800; // lungs
        }
        out[o] = Math.round(hu + noise);
      }
    }
  }
  return out;
}

const MAKE_MODEL = `
import sys, torch
torch.manual_seed(13)
net = torch.nn.Sequential(torch.nn.Conv3d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv3d(8, 14, 1))
x = torch.zeros(1, 1, 96, 96, 96)
torch.onnx.export(net, x, sys.argv[1], input_names=['image'], output_names=['logits'], opset_version=13)
`;

function card(order: string): Record<string, unknown> {
  return {
    kind: 'semantic', inputs: { image: 'image' }, outputs: { logits: 'logits' }, patchSize: [96, 96, 96], overlap: 0.5,
    spatialOrder: order, spacing: [1.5, 1.5, 1.5],
    // nnU-Net's CT scheme with fixed bounds and statistics
    normalization: { ct: { method: 'clip-zscore', lower: -1000, upper: 1000, mean: 0, std: 300 } },
    labels: Object.fromEntries(Array.from({ length: 13 }, (_, c) => [String(c + 1), `organ${c + 1}`])),
  };
}

/** One configuration, as `umd-lens predict` runs it; prints one JSON line. */
async function child(): Promise<void> {
  const onnx = values.child!;
  const t0 = Date.now();
  const m = await model.loadModel(onnx, { threads: Number(values.threads) });
  const bandDtype = values.band as 'float32' | 'float16';
  const imageFile = path.join(path.dirname(values.out!), 'ct.nii.gz');
  // the memory check of this change (absent before it)
  const estimate = typeof model.checkPredictMemory === 'function' ? model.checkPredictMemory(m, imageFile, { bandDtype }) : undefined;
  const image = typeof read.readImageStored === 'function' ? read.readImageStored(imageFile) : read.readImage(imageFile);
  let windows = 0;
  const classes = await model.predictClasses(m, image, 'CT', { bandDtype, onProgress: (_d, t) => { windows = t; } } as model.PredictOptions);
  writeNifti(values.out!, classes);
  await m.close();
  const rss = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ rss, estimate: estimate?.totalBytes ?? null, wall: (Date.now() - t0) / 1000, windows, imageType: image.data.constructor.name }));
}

async function main(): Promise<void> {
  const dims = values.dims.split(',').map(Number) as unknown as GridDims;
  const dir = values.keep ? path.resolve(values.keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'umd-sweep-'));
  fs.mkdirSync(dir, { recursive: true });
  const imageFile = path.join(dir, 'ct.nii.gz');
  const onnx = path.join(dir, 'net.onnx');
  if (!fs.existsSync(imageFile)) {
    const t = Date.now();
    writeNifti(imageFile, { dims, affine: axisAlignedAffine([1.5, 1.5, 1.5], [0, 0, 0]), data: phantomCt(dims) });
    console.log(`wrote ${imageFile} (${dims.join(' x ')} int16, 1.5 mm) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  if (!fs.existsSync(onnx)) {
    const r = spawnSync(PY, ['-c', MAKE_MODEL, onnx], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`exporting the network failed: ${r.stderr}`);
  }
  console.log(`sliding-window memory: ${dims.join(' x ')} int16 CT at 1.5 mm, 14 classes, 96^3 patches, 50 % overlap, ${values.threads} threads, ${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} cores, ${(os.totalmem() / GB).toFixed(1)} GB)`);
  const results = new Map<string, { rss: number; estimate: number | null; wall: number; windows: number; imageType: string }>();
  for (const cfg of values.configs.split(',')) {
    const [order, band] = cfg.split(':');
    const orderDir = path.join(dir, order);
    fs.mkdirSync(orderDir, { recursive: true });
    // the model with this order's card beside it (model.umd.json), the image linked in
    const m = path.join(orderDir, 'net.onnx');
    if (!fs.existsSync(m)) fs.symlinkSync(onnx, m);
    if (!fs.existsSync(path.join(orderDir, 'ct.nii.gz'))) fs.symlinkSync(imageFile, path.join(orderDir, 'ct.nii.gz'));
    fs.writeFileSync(path.join(orderDir, 'net.umd.json'), JSON.stringify(card(order)));
    const out = path.join(orderDir, `pred-${band}.nii.gz`);
    const r = spawnSync(process.execPath, [__filename, '--child', m, '--order', order, '--band', band, '--out', out, '--threads', values.threads], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`  ${order} ${band}: failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      continue;
    }
    const res = JSON.parse(line);
    results.set(cfg, res);
    const est = res.estimate === null ? 'no estimate' : `estimate ${(res.estimate / GB).toFixed(2)} GB`;
    console.log(`  spatialOrder ${order}, ${band} band: peak RSS ${(res.rss / GB).toFixed(2)} GB (${est}), wall ${res.wall.toFixed(1)} s, ${res.windows} windows, image ${res.imageType}`);
  }
  for (const order of ['ijk', 'kji']) {
    const a = path.join(dir, order, 'pred-float32.nii.gz');
    const b = path.join(dir, order, 'pred-float16.nii.gz');
    if (!fs.existsSync(a) || !fs.existsSync(b) || !results.has(`${order}:float16`)) continue;
    const x = read.readLabels(a).data;
    const y = read.readLabels(b).data;
    let same = 0;
    const cls = new Set<number>();
    for (let v = 0; v < x.length; v++) {
      if (x[v] === y[v]) same++;
      cls.add(x[v]);
    }
    console.log(`  float16 band vs float32 (${order}): same class for ${((100 * same) / x.length).toFixed(4)} % of voxels (${x.length - same} of ${x.length} differ; ${cls.size} classes present)`);
  }
  if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
}

(values.child ? child() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
