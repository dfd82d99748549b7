import * as path from 'node:path';
import { illusion, modalityGap } from '../../core/analysis/gap';
import { illusionTable, scanLabel } from '../../core/analysis/illusionTable';
import { isScoreMetric, type ScoreMetric } from '../../core/analysis/scores';
import { readRun, type StoredRun } from '../../core/runstore/runStore';
import { parse, positiveInt } from '../args';
import { fmt, formatTable } from '../table';
import { UsageError } from '../usage';

/** --metric dice|nsd: one metric, else both. */
export function metricArg(v: string | undefined): ScoreMetric[] | undefined {
  if (v === undefined) return undefined;
  if (!isScoreMetric(v)) throw new UsageError(`--metric must be dice or nsd, got "${v}"`);
  return [v];
}

/** A finite number option, optionally within [lo, hi]. */
export function numberArg(name: string, v: string | undefined, lo = -Infinity, hi = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) throw new UsageError(`--${name} must be a number${lo > -Infinity ? ` in [${lo}, ${hi}]` : ''}, got "${v}"`);
  return n;
}

/** --resamples N (>= 1) and --seed S (integer). */
export function bootstrapArgs(v: { seed?: string; resamples?: string }): { seed?: number; resamples?: number } {
  const seed = v.seed === undefined ? undefined : Number(v.seed);
  if (seed !== undefined && (!Number.isInteger(seed) || v.seed!.trim() === '')) throw new UsageError(`--seed must be an integer, got "${v.seed}"`);
  const resamples = positiveInt('resamples', v.resamples);
  if (resamples === 0) throw new UsageError('--resamples must be at least 1');
  return { seed, resamples };
}

export function loadRun(dir: string): StoredRun {
  return readRun(path.resolve(dir));
}

export function formatP(p: number): string {
  return Number.isNaN(p) ? '-' : p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/**
 * The modality gap of a run with paired statistics (core/analysis/gap.ts): per organ, pair (CT-PET, MRI-PET,
 * CT-MRI) and metric, the means, the mean paired difference with its bootstrap CI, the Wilcoxon p (raw and Holm
 * across organs), the share of subjects dropping more than --threshold; then reported-vs-measured scores.
 */
export async function gapCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean', default: false }, metric: { type: 'string' }, seed: { type: 'string' },
    resamples: { type: 'string' }, threshold: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('gap needs one <runDir>');
  const opts = { metrics: metricArg(values.metric), ...bootstrapArgs(values), dropThreshold: numberArg('threshold', values.threshold, 0, 1) };
  const run = loadRun(positionals[0]);
  const rows = modalityGap(run, opts);
  const ill = illusion(run);
  if (values.json) {
    process.stdout.write(JSON.stringify({ rows, illusion: ill }, null, 2) + '\n');
    return 0;
  }
  if (!rows.length) process.stdout.write('no paired scores in this run (every pair has a missing or null score)\n');
  else {
    const threshold = rows[0].drop_threshold;
    process.stdout.write(formatTable(
      ['organ', 'pair', 'metric', 'n', 'mean a', 'mean b', 'a - b', '95% CI', 'p', 'p (Holm)', `drop>${threshold}`, 'worst subject'],
      rows.map((r) => [
        r.organ, r.pair, r.metric, String(r.n), fmt(r.mean_a), fmt(r.mean_b), fmt(r.mean_diff),
        `${fmt(r.ci_low)}..${fmt(r.ci_high)}`, formatP(r.p), formatP(r.p_holm), `${Math.round(r.drop_share * 100)}%`,
        `${r.subjects[0].subject} (${fmt(r.subjects[0].diff)})`,
      ]),
    ) + '\n');
    process.stdout.write('a - b > 0: the second scan of the pair scores worse. p: two-sided Wilcoxon signed-rank on the paired differences.\n');
  }
  const table = illusionTable(ill);
  if (table.rows.length) {
    const signed = (v: number) => `${v >= 0 ? '+' : '-'}${Math.abs(v).toFixed(3)}`;
    process.stdout.write('\nReported (model card) vs measured mean, (reported - measured):\n' + formatTable(
      ['organ', 'metric', 'reported', ...table.scans.map(scanLabel), 'largest gap'],
      table.rows.map((r) => [
        r.organ, r.metric, fmt(r.reported),
        ...table.scans.map((k) => (r.measured[k] === null ? '-' : `${fmt(r.measured[k]!)} (${signed(r.gap[k]!)})`)),
        r.worst ? `${signed(r.worst.gap)} ${scanLabel(r.worst.scan)}` : '-',
      ]),
    ) + '\n');
  }
  return 0;
}
