import { summarize } from '../../core/analysis/summary';
import { mergeRuns } from '../../core/runstore/merge';
import { parse } from '../args';
import { UsageError } from '../usage';
import { reportRun } from './evaluate';

/** umd-lens merge <shardRunDir>... --out <runDir>: the shards of one run -> the unsharded run (core/runstore/merge.ts). */
export async function mergeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string' }, json: { type: 'boolean', default: false } });
  if (positionals.length === 0) throw new UsageError('merge needs the shard run directories');
  if (!values.out) throw new UsageError('merge needs --out <runDir> for the merged run');
  const merged = mergeRuns(positionals, values.out);
  const summary = summarize(merged.records, Object.values(merged.manifest.dataset.organs));
  return reportRun({ ...merged, summary, cancelled: false }, values.json ?? false);
}
