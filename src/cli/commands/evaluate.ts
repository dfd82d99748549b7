import * as path from 'node:path';
import { evaluateRun, type EvaluateEvent, type EvaluateResult } from '../../core/evaluate/evaluateRun';
import type { RunSummary } from '../../core/analysis/summary';
import { parse, positiveInt } from '../args';
import { fmt, formatTable } from '../table';
import { UsageError } from '../usage';

export function progressPrinter(json: boolean): (e: EvaluateEvent) => void {
  return (e) => {
    const out = process.stderr; // stdout stays clean for --json
    if (e.type === 'progress' && e.message !== 'done') out.write(`[${e.done + 1}/${e.total}] ${e.message}\n`);
    else if (e.type === 'case-error') out.write(`error: ${e.message}\n`);
    else if (e.type === 'log' && (!json || e.level !== 'info')) out.write(`${e.level}: ${e.message}\n`);
    else if (e.type === 'started') out.write(`run directory: ${e.runDir}\n`);
  };
}

/** Organ x modality table of mean Dice with the paired structural-vs-PET gap per organ. */
export function summaryTable(summary: RunSummary): string {
  const modalities = summary.modalities.map((m) => m.modality);
  const organs = [...new Set(summary.cells.map((c) => c.organ))];
  const gapCols = [...new Set(summary.gaps.map((g) => g.pair))];
  const header = ['organ', ...modalities.map((m) => `${m} Dice`), ...gapCols.map((p) => `${p} gap (n)`)];
  const rows = organs.map((organ) => [
    organ,
    ...modalities.map((m) => fmt(summary.cells.find((c) => c.organ === organ && c.modality === m)?.meanDice)),
    ...gapCols.map((p) => {
      const g = summary.gaps.find((x) => x.organ === organ && x.pair === p);
      return g ? `${g.meanDiff >= 0 ? '+' : ''}${g.meanDiff.toFixed(3)} (${g.n})` : '-';
    }),
  ]);
  rows.push(['mean over organs', ...modalities.map((m) => fmt(summary.modalities.find((x) => x.modality === m)?.meanDice)), ...gapCols.map(() => '')]);
  return formatTable(header, rows);
}

export function reportRun(result: EvaluateResult, json: boolean): number {
  const errors = result.records.filter((r) => r.status === 'error');
  if (json) {
    process.stdout.write(JSON.stringify({ runDir: result.runDir, summary: result.summary, errors: errors.map((e) => e.error) }, null, 2) + '\n');
  } else {
    process.stdout.write(summaryTable(result.summary) + '\n');
    process.stdout.write('gap = mean over subjects of (structural Dice - PET Dice) of the same study: positive means PET is worse\n');
    if (errors.length) process.stdout.write(`\n${errors.length} case(s) failed:\n${errors.map((e) => `  ${e.error}`).join('\n')}\n`);
    process.stdout.write(`\nRun stored in ${result.runDir}\n`);
  }
  if (result.cancelled) return 1;
  return errors.length ? 3 : 0;
}

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    data: { type: 'string' }, out: { type: 'string' }, runs: { type: 'string' }, subjects: { type: 'string' },
    threads: { type: 'string' }, json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('evaluate needs exactly one <model.onnx>');
  if (!values.data) throw new UsageError('evaluate needs --data <dataset dir>');
  const json = values.json ?? false;
  const result = await evaluateRun({
    modelPath: positionals[0], datasetRoot: values.data,
    runDir: values.out, runsRoot: values.runs ? path.resolve(values.runs) : undefined,
    subjects: values.subjects?.split(',').map((s) => s.trim()).filter(Boolean),
    threads: positiveInt('threads', values.threads),
    onEvent: progressPrinter(json),
  });
  return reportRun(result, json);
}
