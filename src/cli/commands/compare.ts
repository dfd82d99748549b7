import { compareRuns, type CompareCell } from '../../core/analysis/compare';
import { parse } from '../args';
import { fmt, formatTable } from '../table';
import { UsageError } from '../usage';
import { bootstrapArgs, formatP, loadRun, metricArg, numberArg } from './gap';

const ORDER: Record<CompareCell['class'], number> = { regression: 0, improvement: 1, unchanged: 2 };

/**
 * A run against a baseline run (core/analysis/compare.ts): per organ, modality and metric, the mean difference on
 * the matched cases with its CI and Wilcoxon p, classed regression / improvement / unchanged. Regressions first.
 */
export async function compareCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean', default: false }, metric: { type: 'string' }, 'min-effect': { type: 'string' },
    alpha: { type: 'string' }, seed: { type: 'string' }, resamples: { type: 'string' },
  });
  if (positionals.length !== 2) throw new UsageError('compare needs <runDir> <baselineRunDir>');
  const opts = {
    metrics: metricArg(values.metric), minEffect: numberArg('min-effect', values['min-effect'], 0, 1),
    alpha: numberArg('alpha', values.alpha, 0, 1), ...bootstrapArgs(values),
  };
  const run = loadRun(positionals[0]);
  const baseline = loadRun(positionals[1]);
  const cmp = compareRuns(run, baseline, opts);
  if (values.json) {
    process.stdout.write(JSON.stringify(cmp, null, 2) + '\n');
    return 0;
  }
  const cells = cmp.cells.map((c, i) => ({ c, i })).sort((x, y) => ORDER[x.c.class] - ORDER[y.c.class] || (x.c.class === 'regression' ? x.c.mean_diff - y.c.mean_diff : 0) || x.i - y.i).map((x) => x.c);
  if (!cells.length) process.stdout.write('no matched cases with scores in both runs\n');
  else {
    process.stdout.write(formatTable(
      ['class', 'organ', 'modality', 'metric', 'n', 'run', 'baseline', 'run - baseline', '95% CI', 'p'],
      cells.map((c) => [c.class, c.organ, c.modality, c.metric, String(c.n), fmt(c.mean_run), fmt(c.mean_baseline), fmt(c.mean_diff), `${fmt(c.ci_low)}..${fmt(c.ci_high)}`, formatP(c.p)]),
    ) + '\n');
  }
  const count = (k: CompareCell['class']) => cmp.cells.filter((c) => c.class === k).length;
  process.stdout.write(`${count('regression')} regression(s), ${count('improvement')} improvement(s), ${count('unchanged')} unchanged ` +
    `(|mean diff| >= ${cmp.options.minEffect} and Wilcoxon p < ${cmp.options.alpha})\n`);
  if (cmp.onlyInRun.length || cmp.onlyInBaseline.length) {
    process.stdout.write(`not matched: ${cmp.onlyInRun.length} case record(s) only in the run, ${cmp.onlyInBaseline.length} only in the baseline (--json lists them)\n`);
  }
  return 0;
}
