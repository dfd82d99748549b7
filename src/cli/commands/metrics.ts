import * as path from 'node:path';
import { spacingMm } from '../../core/geometry/affine';
import { resampleNearest } from '../../core/geometry/resample';
import { readLabels } from '../../core/nifti/read';
import { countOverlap, scoreOverlap } from '../../core/metrics/overlap';
import { parse } from '../args';
import { fmt, formatTable } from '../table';
import { UsageError } from '../usage';

/**
 * Scores a prediction against a ground truth. Different grids are allowed: the prediction is resampled to the
 * ground truth's grid by nearest neighbour through the affines, and the output says so.
 */
export async function metricsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { labels: { type: 'string' }, json: { type: 'boolean', default: false } });
  if (positionals.length !== 2) throw new UsageError('metrics needs <gt.nii.gz> <pred.nii.gz>');
  const gt = readLabels(path.resolve(positionals[0]));
  let pred = readLabels(path.resolve(positionals[1]));
  const sameGrid = gt.dims.every((d, n) => d === pred.dims[n]) && gt.affine.every((v, n) => Math.abs(v - pred.affine[n]) < 1e-4);
  if (!sameGrid) pred = resampleNearest(pred, gt);
  const counts = countOverlap(gt.data, pred.data);
  let ids: number[];
  if (values.labels) {
    ids = values.labels.split(',').map((s) => Number(s.trim()));
    if (ids.some((n) => !Number.isInteger(n) || n <= 0)) throw new UsageError(`--labels must be positive integer ids, got "${values.labels}"`);
  } else {
    ids = [...counts.keys()].sort((a, b) => a - b);
  }
  const labels: Record<string, ReturnType<typeof scoreOverlap>> = {};
  for (const id of ids) labels[String(id)] = scoreOverlap(counts.get(id), gt.affine);
  const grid = { dims: gt.dims, spacing_mm: spacingMm(gt.affine), prediction_resampled: !sameGrid };
  if (values.json) {
    process.stdout.write(JSON.stringify({ grid, labels }, null, 2) + '\n');
  } else {
    if (!sameGrid) process.stdout.write('prediction resampled to the ground truth grid (nearest neighbour, through the affines)\n');
    process.stdout.write(formatTable(['label', 'dice', 'gt mL', 'pred mL', 'status'],
      ids.map((id) => { const s = labels[String(id)]; return [String(id), fmt(s.dice), fmt(s.volume_gt_ml, 1), fmt(s.volume_pred_ml, 1), s.status]; })) + '\n');
  }
  return 0;
}
