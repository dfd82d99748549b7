import * as fs from 'node:fs';
import * as path from 'node:path';
import { casesCsv } from '../../core/report/csv';
import { reportHtml } from '../../core/report/html';
import { reportMarkdown } from '../../core/report/markdown';
import { buildReport } from '../../core/report/model';
import { parse } from '../args';
import { UsageError } from '../usage';
import { loadRun } from './gap';

const FORMATS = ['json', 'csv', 'md', 'html'] as const;

/**
 * A report of a run: json (the whole report model, schemas/report.schema.json), csv (one row per case record),
 * md (a pull-request comment), html (one offline page with ECharts charts). To stdout, or to --out FILE. --baseline adds the comparison (json, md).
 */
export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: 'string', default: 'md' }, baseline: { type: 'string' }, out: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('report needs one <runDir>');
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  const run = loadRun(positionals[0]);
  let text: string;
  if (format === 'csv') text = casesCsv(run.cases);
  else {
    const report = buildReport(run, values.baseline === undefined ? undefined : loadRun(values.baseline));
    text = format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'html' ? reportHtml(report, run.cases) : reportMarkdown(report);
  }
  if (values.out) fs.writeFileSync(path.resolve(values.out), text);
  else process.stdout.write(text);
  return 0;
}
