import * as path from 'node:path';
import { spacingMm } from '../../core/geometry/affine';
import { resampleNearest } from '../../core/geometry/resample';
import { boxesOverlap, formatWorldBox, overlapFraction, worldBox } from '../../core/geometry/worldBox';
import type { LabelVolume } from '../../core/geometry/volume';
import { caseMetrics, type OrganMetrics } from '../../core/metrics/caseMetrics';
import { makeProtocol } from '../../core/metrics/protocol';
import { readLabelsOnPool } from '../../core/metrics/readLabelsOnPool';
import { SurfacePool } from '../../core/metrics/surfacePool';
import { parse, positiveInt } from '../argParse';
import { protocolArg, tauArg } from '../protocolArgs';
import { fmt, formatTable } from '../table';
import { UsageError } from '../usage';
import { compileOnWorkerThreadsWhenCoresAreFull } from '../workerCompilation';

/**
 * Scores a prediction against a ground truth: every metric of the protocol per label. Different grids are allowed:
 * the prediction is resampled to the ground truth's grid by nearest neighbour through the affines, and the output
 * says so, with the fraction of the ground truth's extent the prediction covers (`grid.overlap_fraction`). A prediction
 * that covers none of it is the wrong file, not a score of 0: exit 1 naming both files and their world extents.
 * `--tau` takes label ids as keys here (`--tau 2` or `--tau 1=2,5=1.5`).
 */
export async function metricsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    labels: { type: 'string' }, json: { type: 'boolean', default: false },
    tau: { type: 'string' }, protocol: { type: 'string' }, threads: { type: 'string' },
  });
  if (positionals.length !== 2) throw new UsageError('metrics needs <gt.nii.gz> <pred.nii.gz>');
  const protocol = makeProtocol(protocolArg(values.protocol) ?? 'umd', [['cli', tauArg(values.tau)]]);
  const threads = positiveInt('threads', values.threads);
  compileOnWorkerThreadsWhenCoresAreFull(threads);
  // started first: its workers inflate the two files, then score them; no warm-up, their first task comes at once
  const pool = new SurfacePool(threads, undefined, { warmUp: false });
  let gt: LabelVolume;
  let ids: number[];
  let scores: Map<number, OrganMetrics>;
  let sameGrid: boolean;
  let overlap = 1;
  try {
    // both at once: each file inflates on its own worker, into the shared memory the workers then score
    let pred: LabelVolume;
    [gt, pred] = await Promise.all([readLabelsOnPool(pool, path.resolve(positionals[0])), readLabelsOnPool(pool, path.resolve(positionals[1]))]);
    sameGrid = gt.dims.every((d, n) => d === pred.dims[n]) && gt.affine.every((v, n) => Math.abs(v - pred.affine[n]) < 1e-4);
    if (!sameGrid) {
      const [g, p] = [worldBox(gt), worldBox(pred)];
      if (!boxesOverlap(g, p)) {
        throw new Error(`${path.resolve(positionals[1])}: the prediction does not overlap the ground truth in world space (prediction ${formatWorldBox(p)}; ground truth ${path.resolve(positionals[0])}: ${formatWorldBox(g)}); wrong file, or check their affines`);
      }
      overlap = overlapFraction(gt, pred);
      pred = resampleNearest(pred, gt);
    }
    let asked: number[] | undefined;
    if (values.labels) {
      asked = values.labels.split(',').map((s) => Number(s.trim()));
      if (asked.some((n) => !Number.isInteger(n) || n <= 0 || n > 65535)) throw new UsageError(`--labels must be positive integer ids, got "${values.labels}"`);
    }
    // without --labels, the labels present, from the scans the workers made as they inflated the maps
    const chosen: number[] = [];
    scores = await caseMetrics(gt, gt.data, pred.data, (present) => {
      chosen.push(...(asked ?? present));
      return chosen.map((id) => ({ id }));
    }, protocol, pool);
    ids = chosen;
  } finally {
    await pool.close();
  }
  const labels: Record<string, OrganMetrics> = {};
  for (const id of ids) labels[String(id)] = scores.get(id)!;
  const grid = { dims: gt.dims, spacing_mm: spacingMm(gt.affine), prediction_resampled: !sameGrid, overlap_fraction: Number(overlap.toFixed(4)) };
  if (values.json) {
    process.stdout.write(JSON.stringify({ protocol, grid, labels }, null, 2) + '\n');
  } else {
    if (!sameGrid) process.stdout.write(`prediction resampled to the ground truth grid (nearest neighbour, through the affines); it covers ${(overlap * 100).toFixed(1)} % of the ground truth's extent\n`);
    process.stdout.write(formatTable(['label', 'dice', `nsd`, 'tau mm', 'hd95 mm', 'assd mm', 'gt mL', 'pred mL', 'status'],
      ids.map((id) => {
        const s = labels[String(id)];
        return [String(id), fmt(s.dice), fmt(s.nsd), String(s.tau_mm), fmt(s.hd95, 2), fmt(s.assd, 2), fmt(s.volume_gt_ml, 1), fmt(s.volume_pred_ml, 1), s.status];
      })) + '\n');
    process.stdout.write(`protocol ${protocol.name}${protocol.custom ? ' (custom tolerances)' : ''}; distances in mm on the ground truth grid\n`);
  }
  return 0;
}
