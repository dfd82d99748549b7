/**
 * Surface metrics on a whole-body case: UMD Lens against a good Python reference (scipy's EDT on bounding-box crops,
 * bench/reference/surface_metrics_scipy.py) and DeepMind's surface-distance library, same case, same machine.
 * Prints figures; asserts nothing (the targets of issue #3 are printed next to them).
 *
 *   npm run build && node out/bench/metrics.bench.js [--scale 1] [--seed 7] [--threads N] [--tau 1] [--repeat 3] [--keep] [--case DIR]
 *
 * The case is generated here: the phantom's anatomy rasterized on a 320 x 320 x 1000 grid of 1.5 mm voxels
 * (--scale s: round(dims * s) voxels of 1.5 / s mm, the same field of view), its 13 organ labels as the ground truth,
 * and a deterministic imperfect prediction made from it: per organ a shift of 1-3 voxels, a one-voxel erosion or
 * dilation and boundary noise; the gallbladder missed; three false-positive blobs (spleen inside the liver, left
 * kidney on the right kidney, bladder in the stomach), which stretch those organs' boxes as real confusions do.
 * Both label maps are written as gzipped NIfTI (as users' files are) to a temporary directory (removed unless --keep),
 * or to --case DIR, where a later run finds them and skips the generation.
 *
 * UMD Lens is timed in fresh child processes (so that peak RSS is the metrics' own), as the CLI runs: start the worker
 * pool (without the warm-up of surfaceWarmup.ts: the workers' first task is inflating the files), read both NIfTI
 * files (each inflated by a worker, readLabelsOnPool), then caseMetrics; once with the worker pool (--threads, default all cores), once inline on 1 thread (no
 * workers, so no warm-up) plus a per-stage split. The references run with Debian's /usr/bin/python3 (numpy, scipy, nibabel); DeepMind's library runs
 * when $UMD_DEEPMIND_SURFACE_DISTANCE names a directory holding its `surface_distance` package. Python's seconds
 * exclude reading the NIfTI files. Every timed side runs --repeat times (default 3) and the medians are compared.
 *
 * The whole process of `umd-lens metrics gt.nii.gz pred.nii.gz --json` (dist/cli.js, spawn to exit, as a user runs
 * it) is timed too, against the reference's whole process (Python start, imports, nibabel reading, compute), with
 * the split of our process into its stages taken from the timed child (which runs the same steps).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { axisAlignedAffine, spacingMm, type Grid, type GridDims } from '../src/core/geometry/affine';
import { DEFAULT_ORGANS } from '../src/core/dataset/organs';
import { caseMetrics, type OrganMetrics } from '../src/core/metrics/caseMetrics';
import { squaredDistanceAtMm2 } from '../src/core/metrics/edt';
import { scanLabels } from '../src/core/metrics/labelScan';
import { makeProtocol } from '../src/core/metrics/protocol';
import { labelSurfaceDistances, scoreSurfaces } from '../src/core/metrics/surface';
import { surfelsOfLabel } from '../src/core/metrics/surfels';
import { surfelAreaTable } from '../src/core/metrics/surfelAreas';
import { readLabelsOnPool } from '../src/core/metrics/readLabelsOnPool';
import { SurfacePool } from '../src/core/metrics/surfacePool';
import { WorkBuffers } from '../src/core/metrics/workBuffers';
import { KernelHeap } from '../src/core/metrics/kernelHeap';
import type { LabelVolume } from '../src/core/geometry/volume';
import { writeNifti } from '../src/core/nifti/write';
import { hashSeed, LABEL_OF_TISSUE, makeAnatomy, Rng } from '../src/core/phantom';
import { rasterize } from '../src/core/phantom/modalities';
import { compileOnWorkerThreadsWhenCoresAreFull } from '../src/cli/workerCompilation';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '7' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    tau: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '3' },
    case: { type: 'string' },
    child: { type: 'string' }, // internal: "<gt>,<pred>,<threads>,<tau>" -> one timed run, JSON on stdout
  },
});

const PYTHON = '/usr/bin/python3';
const SCIPY_REF = path.resolve(__dirname, '../../bench/reference/surface_metrics_scipy.py');
const CLI = path.resolve(__dirname, '../../dist/cli.js');
const ORGANS = DEFAULT_ORGANS.map((o) => ({ id: o.id, organ: o.name }));
const seconds = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;
const maxRssMb = () => process.resourceUsage().maxRSS / 1024;

// ------------------------------------------------------------------------------------------------ the case
type Vec3 = [number, number, number];

function wholeBodyGrid(scale: number): Grid {
  const dims = [Math.round(320 * scale), Math.round(320 * scale), Math.round(1000 * scale)] as unknown as GridDims;
  const s = 1.5 / scale;
  // centred on the world origin, where the body's mid-height sits (session z offset below)
  const origin = [0, 1, 2].map((a) => -(dims[a] * s) / 2 + s / 2) as Vec3;
  return { dims, affine: axisAlignedAffine([s, s, s], origin) };
}

function groundTruth(grid: Grid, seed: number): Uint8Array {
  const anatomy = makeAnatomy(new Rng(hashSeed(seed, 0, 'anatomy')));
  const codes = rasterize(grid, anatomy, { cos: 1, sin: 0, t: [0, 0, -480] });
  for (let v = 0; v < codes.length; v++) codes[v] = LABEL_OF_TISSUE[codes[v]];
  return codes;
}

interface Box { lo: Vec3; hi: Vec3 }

function boxes(labels: Uint8Array, dims: GridDims): Map<number, Box> {
  const scan = scanLabels(labels, labels, dims);
  return new Map([...scan.boxes].map(([l, b]) => [l, { lo: [...b.lo] as Vec3, hi: [...b.hi] as Vec3 }]));
}

/**
 * The prediction, deterministic from the seed: per organ (inside its box plus a margin) a shift, a one-voxel
 * 6-connected erosion or dilation, then boundary noise (each voxel on either side of the boundary flips with
 * probability 0.2); organs are pasted in id order onto background only. The gallbladder (13) is missed; three
 * false-positive blobs overwrite whatever is there.
 */
function prediction(gt: Uint8Array, dims: GridDims, spacing: number, seed: number): Uint8Array {
  const [n0, n1, n2] = dims;
  const rng = new Rng(hashSeed(seed, 'prediction'));
  const pred = new Uint8Array(gt.length);
  const gtBoxes = boxes(gt, dims);
  const margin = 6;
  for (const { id } of ORGANS) {
    const b = gtBoxes.get(id);
    if (!b || id === 13) continue;
    const lo = b.lo.map((x) => Math.max(0, x - margin)) as Vec3;
    const hi = [Math.min(n0 - 1, b.hi[0] + margin), Math.min(n1 - 1, b.hi[1] + margin), Math.min(n2 - 1, b.hi[2] + margin)];
    const d: Vec3 = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
    const shift: Vec3 = [rng.nextUint32() % 5 - 2, rng.nextUint32() % 5 - 2, rng.nextUint32() % 7 - 3];
    if (Math.max(...shift.map(Math.abs)) === 0) shift[0] = 1;
    const morph = rng.next() < 0.5 ? 'erode' : 'dilate';
    // the organ's mask in the region, shifted (zero fill)
    let m: Uint8Array = new Uint8Array(d[0] * d[1] * d[2]);
    for (let k = 0; k < d[2]; k++) {
      for (let j = 0; j < d[1]; j++) {
        for (let i = 0; i < d[0]; i++) {
          const si = i - shift[0], sj = j - shift[1], sk = k - shift[2];
          if (si < 0 || sj < 0 || sk < 0 || si >= d[0] || sj >= d[1] || sk >= d[2]) continue;
          m[i + d[0] * (j + d[1] * k)] = gt[lo[0] + si + n0 * (lo[1] + sj + n1 * (lo[2] + sk))] === id ? 1 : 0;
        }
      }
    }
    m = morph6(m, d, morph);
    m = boundaryNoise(m, d, rng, 0.2);
    for (let k = 0; k < d[2]; k++) {
      for (let j = 0; j < d[1]; j++) {
        let v = lo[0] + n0 * (lo[1] + j + n1 * (lo[2] + k));
        for (let i = 0; i < d[0]; i++, v++) if (m[i + d[0] * (j + d[1] * k)] && pred[v] === 0) pred[v] = id;
      }
    }
  }
  const centre = (id: number): Vec3 => {
    const b = gtBoxes.get(id)!;
    return [0, 1, 2].map((a) => Math.round((b.lo[a] + b.hi[a]) / 2)) as Vec3;
  };
  for (const [label, at, radiusMm] of [[2, centre(1), 10], [3, centre(4), 8], [10, centre(11), 6]] as Array<[number, Vec3, number]>) {
    const r = Math.max(1, Math.round(radiusMm / spacing));
    for (let k = -r; k <= r; k++) {
      for (let j = -r; j <= r; j++) {
        for (let i = -r; i <= r; i++) {
          if (i * i + j * j + k * k > r * r) continue;
          const x = at[0] + i, y = at[1] + j, z = at[2] + k;
          if (x >= 0 && y >= 0 && z >= 0 && x < n0 && y < n1 && z < n2) pred[x + n0 * (y + n1 * z)] = label;
        }
      }
    }
  }
  return pred;
}

function morph6(m: Uint8Array, d: Vec3, kind: 'erode' | 'dilate'): Uint8Array {
  const out = new Uint8Array(m.length);
  const s1 = d[0], s2 = d[0] * d[1];
  let v = 0;
  for (let k = 0; k < d[2]; k++) {
    for (let j = 0; j < d[1]; j++) {
      for (let i = 0; i < d[0]; i++, v++) {
        const nb = [i > 0 ? m[v - 1] : 0, i < d[0] - 1 ? m[v + 1] : 0, j > 0 ? m[v - s1] : 0, j < d[1] - 1 ? m[v + s1] : 0,
          k > 0 ? m[v - s2] : 0, k < d[2] - 1 ? m[v + s2] : 0];
        out[v] = kind === 'erode' ? (m[v] && nb.every(Boolean) ? 1 : 0) : (m[v] || nb.some(Boolean) ? 1 : 0);
      }
    }
  }
  return out;
}

function boundaryNoise(m: Uint8Array, d: Vec3, rng: Rng, p: number): Uint8Array {
  const out = m.slice();
  const s1 = d[0], s2 = d[0] * d[1];
  let v = 0;
  for (let k = 0; k < d[2]; k++) {
    for (let j = 0; j < d[1]; j++) {
      for (let i = 0; i < d[0]; i++, v++) {
        if (i === 0 || j === 0 || k === 0 || i === d[0] - 1 || j === d[1] - 1 || k === d[2] - 1) continue;
        const x = m[v];
        if (m[v - 1] !== x || m[v + 1] !== x || m[v - s1] !== x || m[v + s1] !== x || m[v - s2] !== x || m[v + s2] !== x) {
          if (rng.next() < p) out[v] = 1 - x;
        }
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ our run (child)
interface ChildResult {
  threads: number;
  /** From the process's start to the child's first line: Node's start and loading the bundle. */
  startSeconds: number;
  readSeconds: number;
  poolStartSeconds: number;
  metricsSeconds: number;
  /** The same case again on the same (now warm) pool: the per-case cost inside an evaluation run. */
  warmSeconds: number;
  closeSeconds: number;
  rssAfterReadMb: number;
  peakRssMb: number;
  labels: Record<string, OrganMetrics>;
  stages?: Record<string, number>;
  crops?: Record<string, string>;
}

/** Both label maps, read as the CLI reads them: at once, each inflated by a worker of the pool (inline: libuv's). */
async function readPair(pool: SurfacePool, gtFile: string, predFile: string): Promise<[LabelVolume, LabelVolume]> {
  return Promise.all([readLabelsOnPool(pool, gtFile), readLabelsOnPool(pool, predFile)]);
}

async function child(spec: string): Promise<void> {
  const startSeconds = process.uptime();
  const [gtFile, predFile, threadsArg, tauArg] = spec.split(',');
  const threads = Number(threadsArg);
  // the pool first, as the CLI starts it (no warm-up): its workers inflate the files, then score them
  let t = process.hrtime.bigint();
  compileOnWorkerThreadsWhenCoresAreFull(threads);
  const pool = new SurfacePool(threads, undefined, { warmUp: false });
  const poolStartSeconds = seconds(t);
  t = process.hrtime.bigint();
  const [gt, pred] = await readPair(pool, gtFile, predFile);
  const readSeconds = seconds(t);
  const rssAfterReadMb = maxRssMb();
  const protocol = makeProtocol('umd', [['cli', { '*': Number(tauArg) }]]);
  t = process.hrtime.bigint();
  const res = await caseMetrics(gt, gt.data, pred.data, ORGANS, protocol, pool);
  const metricsSeconds = seconds(t);
  t = process.hrtime.bigint();
  await caseMetrics(gt, gt.data, pred.data, ORGANS, protocol, pool);
  const warmSeconds = seconds(t);
  const peakRssMb = maxRssMb();
  const used = pool.threads || 1;
  t = process.hrtime.bigint();
  await pool.close();
  const closeSeconds = seconds(t);
  const out: ChildResult = {
    threads: used, startSeconds, readSeconds, poolStartSeconds, metricsSeconds, warmSeconds, closeSeconds, rssAfterReadMb, peakRssMb,
    labels: Object.fromEntries([...res].map(([id, m]) => [String(id), m])),
  };
  if (threads === 1) {
    // the same work again, stage by stage (warm JIT; for the split, not the total), as a surface task runs it
    const spacing = spacingMm(gt.affine);
    // the maps in a kernel heap once, as a pool holds them (the kernels read nothing else)
    const heap = new KernelHeap();
    const gtData = heap.hold(gt.data).view, predData = heap.hold(pred.data).view;
    const work = new WorkBuffers(heap);
    const stages = { scan: 0, surfels: 0, distances: 0, 'surface distances (surfels, distances, ordering)': 0, scores: 0 };
    const crops: Record<string, string> = {};
    t = process.hrtime.bigint();
    const scan = scanLabels(gtData, predData, gt.dims, heap);
    stages.scan = seconds(t);
    for (const { id } of ORGANS) {
      if (out.labels[String(id)].status !== 'ok') continue;
      const box = scan.boxes.get(id)!;
      t = process.hrtime.bigint();
      const sg = surfelsOfLabel(gtData, gt.dims, id, box, work, 'surfels-gt');
      const sp = surfelsOfLabel(predData, gt.dims, id, box, work, 'surfels-pred');
      stages.surfels += seconds(t);
      crops[String(id)] = [0, 1, 2].map((a) => sg.dims[a] + 1).join('x');
      t = process.hrtime.bigint();
      squaredDistanceAtMm2(sp.index, sg.index, sg.dims, spacing, work, 'distance-gt');
      squaredDistanceAtMm2(sg.index, sp.index, sg.dims, spacing, work, 'distance-pred');
      stages.distances += seconds(t);
      t = process.hrtime.bigint();
      const s = labelSurfaceDistances(gtData, predData, gt.dims, id, box, spacing, work);
      stages['surface distances (surfels, distances, ordering)'] += seconds(t);
      t = process.hrtime.bigint();
      scoreSurfaces(s, Number(tauArg), 95, work);
      stages.scores += seconds(t);
    }
    out.stages = stages;
    out.crops = crops;
  }
  process.stdout.write(JSON.stringify(out));
}

function runChild(gtFile: string, predFile: string, threads: number, tau: number): ChildResult {
  const r = spawnSync(process.execPath, [__filename, '--child', [gtFile, predFile, threads, tau].join(',')], {
    encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`metrics child (${threads} threads) failed with status ${r.status}`);
  return JSON.parse(r.stdout) as ChildResult;
}

/** `umd-lens metrics gt pred --json` as a user runs it: spawn to exit, `repeat` fresh processes. */
function runCli(gtFile: string, predFile: string, tau: number, repeat: number): { walls: number[]; labels: Record<string, OrganMetrics> } {
  const walls: number[] = [];
  let labels: Record<string, OrganMetrics> = {};
  for (let n = 0; n < repeat; n++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [CLI, 'metrics', gtFile, predFile, '--json', '--tau', String(tau)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    walls.push(seconds(t));
    if (r.status !== 0) throw new Error(`${CLI} metrics exited with ${r.status}: ${r.stderr.trim()}`);
    labels = (JSON.parse(r.stdout) as { labels: Record<string, OrganMetrics> }).labels;
  }
  return { walls, labels };
}

// ------------------------------------------------------------------------------------------------ Python
interface PyLabel { status: string; nsd: number | null; hd95: number | null; hd: number | null; assd: number | null }
interface PyResult {
  impl: string; seconds: number; stages_seconds: Record<string, number> | null; peak_rss_mb: number; labels: Record<string, PyLabel>;
  /** Added here: the median of the runs' whole-process wall times (start, imports, reading, compute). */
  wallSeconds?: number; walls?: number[];
}

/** The reference `repeat` times (fresh processes, as ours): the run with the median compute time. */
function runPython(args: string[], repeat: number): PyResult | string {
  const runs: PyResult[] = [];
  for (let n = 0; n < repeat; n++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(PYTHON, [SCIPY_REF, ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error) return `${PYTHON} could not run: ${r.error.message}`;
    if (r.status !== 0) return `exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    const wall = seconds(t);
    runs.push({ ...(JSON.parse(r.stdout) as PyResult), wallSeconds: wall });
    process.stdout.write(`  (${runs[0].impl}: process wall ${wall.toFixed(2)} s including NIfTI reading)\n`);
  }
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const walls = runs.map((r) => r.wallSeconds!);
  const median = { ...sorted[(sorted.length - 1) >> 1], walls, wallSeconds: [...walls].sort((a, b) => a - b)[(walls.length - 1) >> 1] };
  if (repeat > 1) process.stdout.write(`  (${median.impl}: compute ${runs.map((r) => r.seconds.toFixed(2)).join(', ')} s; median taken)\n`);
  return median;
}

function maxDiffs(ours: Record<string, OrganMetrics>, ref: Record<string, PyLabel>): { diffs: Record<string, number>; statusMismatch: string[] } {
  const diffs: Record<string, number> = { nsd: 0, hd95: 0, hd: 0, assd: 0 };
  const statusMismatch: string[] = [];
  for (const [id, o] of Object.entries(ours)) {
    const r = ref[id];
    if (!r || r.status !== o.status) { statusMismatch.push(`${id}: ${o.status} vs ${r?.status}`); continue; }
    for (const k of ['nsd', 'hd95', 'hd', 'assd'] as const) {
      const a = o[k], b = r[k];
      if (a === null || b === null) { if (a !== b) statusMismatch.push(`${id}.${k}: ${a} vs ${b}`); continue; }
      diffs[k] = Math.max(diffs[k], Math.abs(a - b));
    }
  }
  return { diffs, statusMismatch };
}

// ------------------------------------------------------------------------------------------------ main
const f = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));

async function main(): Promise<void> {
  const scale = Number(values.scale);
  const seed = Number(values.seed);
  const tau = Number(values.tau);
  const threads = Number(values.threads);
  const grid = wholeBodyGrid(scale);
  const spacing = 1.5 / scale;
  const dir = values.case ? path.resolve(values.case) : fs.mkdtempSync(path.join(os.tmpdir(), 'umd-metrics-bench-'));
  console.log(`Surface metrics benchmark: ${grid.dims.join(' x ')} voxels of ${spacing} mm (${(grid.dims[0] * grid.dims[1] * grid.dims[2] / 1e6).toFixed(1)} M), ` +
    `13 organs, tau ${tau} mm, seed ${seed}; ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const tag = `s${scale}-seed${seed}`;
  const gtFile = path.join(dir, `gt-${tag}.nii.gz`), predFile = path.join(dir, `pred-${tag}.nii.gz`);
  if (values.case && fs.existsSync(gtFile) && fs.existsSync(predFile)) {
    console.log(`case: found in ${dir}`);
  } else {
    let t = process.hrtime.bigint();
    const gt = groundTruth(grid, seed);
    const tGt = seconds(t);
    t = process.hrtime.bigint();
    const pred = prediction(gt, grid.dims, spacing, seed);
    const tPred = seconds(t);
    fs.mkdirSync(dir, { recursive: true });
    writeNifti(gtFile, { ...grid, data: gt }, 'metrics bench ground truth');
    writeNifti(predFile, { ...grid, data: pred }, 'metrics bench prediction');
    console.log(`case: ground truth ${tGt.toFixed(1)} s, prediction ${tPred.toFixed(1)} s, written to ${dir}`);
  }
  const areasFile = path.join(dir, 'areas.json');
  fs.writeFileSync(areasFile, JSON.stringify({ spacing_mm: [spacing, spacing, spacing], areas: Array.from(surfelAreaTable([spacing, spacing, spacing])) }));

  // Our pool's run and each Python reference are repeated (fresh processes) and their medians compared: one run on a
  // shared 2-core VM varies by a third from one minute to the next.
  const repeat = Math.max(1, Number(values.repeat));
  const runs = Array.from({ length: repeat }, () => runChild(gtFile, predFile, threads, tau));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
  const many: ChildResult = {
    ...runs[0],
    metricsSeconds: median(runs.map((r) => r.metricsSeconds)),
    warmSeconds: median(runs.map((r) => r.warmSeconds)),
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
  };
  const spread = (k: 'metricsSeconds' | 'warmSeconds') => (repeat > 1 ? ` (runs: ${runs.map((r) => r[k].toFixed(3)).join(', ')})` : '');
  const one = runChild(gtFile, predFile, 1, tau);
  const cli = runCli(gtFile, predFile, tau, repeat);

  console.log('\norgan            gt vox   pred vox  crop (padded)      status          dice    nsd    hd95      hd    assd');
  for (const { id, organ } of ORGANS) {
    const m = many.labels[String(id)];
    console.log(`${String(id).padStart(2)} ${organ.padEnd(13)} ${String(m.tp + m.fn).padStart(8)} ${String(m.tp + m.fp).padStart(9)}  ${(one.crops?.[String(id)] ?? '-').padEnd(17)}  ${m.status.padEnd(14)} ${f(m.dice).padStart(6)} ${f(m.nsd).padStart(6)} ${f(m.hd95, 2).padStart(7)} ${f(m.hd, 2).padStart(7)} ${f(m.assd, 2).padStart(7)}`);
  }
  const same = ORGANS.every(({ id }) => JSON.stringify(many.labels[String(id)]) === JSON.stringify(one.labels[String(id)]));
  console.log(`\nUMD Lens (read ${many.readSeconds.toFixed(2)} s, excluded; RSS after reading both maps ${many.rssAfterReadMb.toFixed(0)} MB)`);
  console.log(`  ${String(many.threads).padStart(2)} threads, median of ${repeat} fresh processes: ${many.metricsSeconds.toFixed(3)} s for the first case${spread('metricsSeconds')}, ` +
    `${many.warmSeconds.toFixed(3)} s for the next case on the warm pool${spread('warmSeconds')}; peak RSS ${many.peakRssMb.toFixed(0)} MB`);
  console.log(`   1 thread : ${one.metricsSeconds.toFixed(3)} s in a fresh process, ${one.warmSeconds.toFixed(3)} s warm; peak RSS ${one.peakRssMb.toFixed(0)} MB`);
  console.log(`  scores with ${many.threads} threads and with 1 thread identical: ${same}`);
  if (one.stages) {
    console.log('  1-thread split (warm, a second pass):');
    for (const [k, v] of Object.entries(one.stages)) console.log(`    ${k.padEnd(52)} ${v.toFixed(3)} s`);
  }

  const cliWall = median(cli.walls);
  const cliSame = ORGANS.every(({ id }) => JSON.stringify(cli.labels[String(id)]) === JSON.stringify(many.labels[String(id)]));
  const stage = (k: 'startSeconds' | 'poolStartSeconds' | 'readSeconds' | 'metricsSeconds' | 'closeSeconds') => median(runs.map((r) => r[k])).toFixed(3);
  console.log(`\nWhole process of \`umd-lens metrics gt.nii.gz pred.nii.gz --json\` (dist/cli.js, spawn to exit), median of ${repeat}: ${cliWall.toFixed(2)} s` +
    `${repeat > 1 ? ` (runs: ${cli.walls.map((w) => w.toFixed(2)).join(', ')})` : ''}; scores identical to the timed child's: ${cliSame}`);
  console.log(`  its stages (timed child, same steps, medians): node start + loading ${stage('startSeconds')} s, pool start ${stage('poolStartSeconds')} s, ` +
    `reading both maps ${stage('readSeconds')} s, metrics ${stage('metricsSeconds')} s, pool close ${stage('closeSeconds')} s`);

  const labels = ORGANS.map((o) => o.id).join(',');
  const common = [gtFile, predFile, '--tau', String(tau), '--labels', labels, '--spacing', [spacing, spacing, spacing].join(',')];
  const ours = many.metricsSeconds;
  const report = (name: string, target: number, r: PyResult | string) => {
    if (typeof r === 'string') { console.log(`${name}: not run (${r})`); return; }
    const { diffs, statusMismatch } = maxDiffs(many.labels, r.labels);
    const speed = r.seconds / ours;
    console.log(`${name}: ${r.seconds.toFixed(2)} s compute, peak RSS ${r.peak_rss_mb.toFixed(0)} MB` +
      (r.stages_seconds ? ` (${Object.entries(r.stages_seconds).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})` : ''));
    const warm = r.seconds / many.warmSeconds;
    console.log(`  speedup of UMD Lens (${many.threads} threads): ${speed.toFixed(1)}x in a fresh process [target >= ${target}x: ${speed >= target ? 'met' : 'MISSED'}], ` +
      `${warm.toFixed(1)}x per case on a warm pool (as inside an evaluation run) [${warm >= target ? 'met' : 'MISSED'}]; 1 thread: ${(r.seconds / one.metricsSeconds).toFixed(1)}x`);
    console.log(`  max |ours - ${r.impl}|: ${Object.entries(diffs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}` +
      (statusMismatch.length ? `; status/null mismatches: ${statusMismatch.join('; ')}` : '; statuses agree'));
  };
  console.log('');
  if (!fs.existsSync(PYTHON)) {
    console.log(`Python references: not run (${PYTHON} not found)`);
  } else {
    const scipy = runPython([...common, '--areas-json', areasFile], repeat);
    report('scipy reference (bench/reference/surface_metrics_scipy.py)', 10, scipy);
    if (typeof scipy !== 'string') {
      const whole = scipy.wallSeconds! / cliWall;
      console.log(`  whole process: UMD Lens ${cliWall.toFixed(2)} s, the reference ${scipy.wallSeconds!.toFixed(2)} s (Python start, imports, nibabel reading, compute; runs ` +
        `${scipy.walls!.map((w) => w.toFixed(2)).join(', ')}): ${whole.toFixed(1)}x [target >= 8x: ${whole >= 8 ? 'met' : 'MISSED'}]`);
    }
    const dm = process.env.UMD_DEEPMIND_SURFACE_DISTANCE;
    if (!dm) console.log('DeepMind surface-distance: not run (set UMD_DEEPMIND_SURFACE_DISTANCE to the directory holding its surface_distance package)');
    else if (!fs.existsSync(path.join(dm, 'surface_distance'))) console.log(`DeepMind surface-distance: not run (no surface_distance package in ${dm})`);
    else report('DeepMind surface-distance (full volume per label, as its users call it)', 20, runPython([...common, '--impl', 'deepmind', '--deepmind', dm], repeat));
  }
  const peak = Math.max(many.peakRssMb, one.peakRssMb);
  console.log(`\nUMD Lens peak RSS ${peak.toFixed(0)} MB [target < 1024 MB: ${peak < 1024 ? 'met' : 'MISSED'}]`);
  if (values.keep || values.case) console.log(`kept ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

if (values.child) child(values.child).catch((e) => { console.error(e); process.exit(1); });
else main().catch((e) => { console.error(e); process.exit(1); });
