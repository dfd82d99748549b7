/**
 * Where the time of one evaluation goes, stage by stage, on UMD-mini with the CT-only demo checkpoint.
 * Prints figures; asserts nothing (speed targets live here, never in timed tests).
 *   npm run build && node out/bench/evaluate.bench.js [--subjects N] [--threads T]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { discoverDataset } from '../src/core/dataset/discover';
import { resampleNearest } from '../src/core/geometry/resample';
import { voxelCount } from '../src/core/geometry/affine';
import { caseMetrics } from '../src/core/metrics/caseMetrics';
import { makeProtocol } from '../src/core/metrics/protocol';
import { SurfacePool } from '../src/core/metrics/surfacePool';
import { loadModel, predictClasses } from '../src/core/model/predict';
import { readImage, readLabels } from '../src/core/nifti/read';
import { generatePhantom } from '../src/core/phantom';

const { values } = parseArgs({ options: { subjects: { type: 'string', default: '2' }, threads: { type: 'string', default: String(os.cpus().length) } } });
const root = path.resolve(__dirname, '../..');
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

async function main(): Promise<void> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-bench-'));
  let t = process.hrtime.bigint();
  await generatePhantom({ outDir: data, subjects: Number(values.subjects), seed: 11 });
  const genMs = ms(t);
  const ds = discoverDataset(data);
  const model = await loadModel(path.join(root, 'models', 'umd-mini-ct-only.onnx'), { threads: Number(values.threads) });
  const stages = { read: 0, predict: 0, resample: 0, metrics: 0 };
  let voxels = 0;
  const pool = new SurfacePool();
  const protocol = makeProtocol('umd');
  const organs = [...ds.organs.byId].map(([id, organ]) => ({ id, organ }));
  for (const c of ds.cases) {
    t = process.hrtime.bigint();
    const image = readImage(c.image);
    const labels = readLabels(c.labels);
    stages.read += ms(t);
    t = process.hrtime.bigint();
    const pred = await predictClasses(model, image, c.modality);
    stages.predict += ms(t);
    t = process.hrtime.bigint();
    const onLabels = resampleNearest(pred, labels);
    stages.resample += ms(t);
    t = process.hrtime.bigint();
    await caseMetrics(labels, labels.data, onLabels.data, organs, protocol, pool);
    stages.metrics += ms(t);
    voxels += voxelCount(image.dims);
  }
  await model.close();
  await pool.close();
  const n = ds.cases.length;
  const total = Object.values(stages).reduce((a, b) => a + b, 0);
  console.log(`UMD-mini evaluate benchmark: ${n} cases (${Number(values.subjects)} subjects), ${values.threads} threads, ${os.cpus()[0]?.model ?? 'cpu'}`);
  console.log(`phantom generation        ${(genMs / Number(values.subjects)).toFixed(0)} ms/subject`);
  for (const [k, v] of Object.entries(stages)) console.log(`${k.padEnd(25)} ${(v / n).toFixed(0).padStart(6)} ms/case  ${((100 * v) / total).toFixed(1).padStart(5)} %`);
  console.log(`total                     ${(total / n).toFixed(0).padStart(6)} ms/case  (${((voxels / total) * 1e3 / 1e6).toFixed(2)} M image voxels/s)`);
  console.log(`peak RSS                  ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  fs.rmSync(data, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
