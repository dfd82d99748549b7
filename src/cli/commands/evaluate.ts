import * as path from 'node:path';
import { evaluateRun, type EvaluateEvent, type EvaluateResult } from '../../core/evaluate/evaluateRun';
import type { GapMetric, RunSummary } from '../../core/analysis/summary';
import { inferenceArgs, INFERENCE_OPTIONS, parse, positiveInt, promptArgs, PROMPT_OPTIONS } from '../args';
import { formatDuration } from '../../core/evaluate/eta';
import { fmt, formatTable } from '../table';
import { protocolArg, tauArg } from '../protocolArgs';
import { UsageError } from '../usage';
import { parseShard, type ShardSpec } from '../../core/runstore/shard';

export function progressPrinter(json: boolean): (e: EvaluateEvent) => void {
  return (e) => {
    const out = process.stderr; // stdout stays clean for --json
    const left = (s?: number) => (s === undefined ? '' : `, about ${formatDuration(s)} left`);
    if (e.type === 'progress') out.write(`[${e.done + 1}/${e.total}] ${e.message}${left(e.etaSeconds)}\n`);
    else if (e.type === 'finished' && e.cancelled) out.write(`cancelled after ${e.done}/${e.total} cases\n`);
    else if (e.type === 'window-progress') out.write(`[${e.done + 1}/${e.total}] ${e.message}: window ${e.windowsDone}/${e.windowsTotal}${left(e.etaSeconds)}\n`);
    else if (e.type === 'case-error') out.write(`error: ${e.message}\n`);
    else if (e.type === 'log' && (!json || e.level !== 'info')) out.write(`${e.level}: ${e.message}\n`);
    else if (e.type === 'started') out.write(`run directory: ${e.runDir}\n`);
  };
}

/**
 * Organ x modality table of mean Dice and NSD, with the paired structural-vs-PET gap per organ (Dice and NSD).
 * NSD columns appear when the run has NSD (runs of format 1 have none).
 */
export function summaryTable(summary: RunSummary): string {
  const modalities = summary.modalities.map((m) => m.modality);
  const organs = [...new Set(summary.cells.map((c) => c.organ))];
  const hasNsd = summary.cells.some((c) => c.meanNsd !== null);
  const metrics: GapMetric[] = hasNsd ? ['dice', 'nsd'] : ['dice'];
  const label = (m: GapMetric) => (m === 'dice' ? 'Dice' : 'NSD');
  const gapCols = [...new Set(summary.gaps.map((g) => g.pair))].flatMap((pair) => metrics.map((metric) => ({ pair, metric })));
  const header = ['organ', ...modalities.flatMap((m) => metrics.map((x) => `${m} ${label(x)}`)), ...gapCols.map((c) => `${c.pair} ${label(c.metric)} gap (n)`)];
  const cell = (organ: string, m: string) => summary.cells.find((c) => c.organ === organ && c.modality === m);
  const rows = organs.map((organ) => [
    organ,
    ...modalities.flatMap((m) => metrics.map((x) => fmt(x === 'dice' ? cell(organ, m)?.meanDice : cell(organ, m)?.meanNsd))),
    ...gapCols.map(({ pair, metric }) => {
      const g = summary.gaps.find((x) => x.organ === organ && x.pair === pair && x.metric === metric);
      return g ? `${g.meanDiff >= 0 ? '+' : ''}${g.meanDiff.toFixed(3)} (${g.n})` : '-';
    }),
  ]);
  const mod = (m: string) => summary.modalities.find((x) => x.modality === m);
  rows.push(['mean over organs', ...modalities.flatMap((m) => metrics.map((x) => fmt(x === 'dice' ? mod(m)?.meanDice : mod(m)?.meanNsd))), ...gapCols.map(() => '')]);
  return formatTable(header, rows);
}

export function reportRun(result: EvaluateResult, json: boolean): number {
  const errors = result.records.filter((r) => r.status === 'error');
  if (json) {
    process.stdout.write(JSON.stringify({ runDir: result.runDir, summary: result.summary, errors: errors.map((e) => e.error) }, null, 2) + '\n');
  } else {
    process.stdout.write(summaryTable(result.summary) + '\n');
    const p = result.manifest.protocol;
    const tau = Object.keys(p.toleranceMm.organs).length ? `${p.toleranceMm.default} mm (per-organ overrides in run.json)` : `${p.toleranceMm.default} mm`;
    process.stdout.write(`NSD: surface Dice at tau = ${tau}, protocol ${p.name}${p.custom ? ' (custom tolerances)' : ''}\n`);
    process.stdout.write('gap = mean over subjects of (structural score - PET score) of the same study: positive means PET is worse\n');
    if (errors.length) process.stdout.write(`\n${errors.length} case(s) failed:\n${errors.map((e) => `  ${e.error}`).join('\n')}\n`);
    process.stdout.write(`\nRun stored in ${result.runDir}\n`);
  }
  if (result.cancelled) return 1;
  return errors.length ? 3 : 0;
}

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    data: { type: 'string' }, out: { type: 'string' }, runs: { type: 'string' }, subjects: { type: 'string' },
    ...INFERENCE_OPTIONS, json: { type: 'boolean', default: false },
    protocol: { type: 'string' }, tau: { type: 'string' }, 'metric-threads': { type: 'string' },
    probabilities: { type: 'string' }, 'max-volume-mb': { type: 'string' },
    shard: { type: 'string' }, resume: { type: 'boolean', default: false }, ...PROMPT_OPTIONS,
  });
  if (positionals.length !== 1) throw new UsageError('evaluate needs exactly one <model.onnx>');
  if (!values.data) throw new UsageError('evaluate needs --data <dataset dir>');
  const json = values.json ?? false;
  if (values.resume && !values.out) throw new UsageError('--resume needs --out <runDir> (the run to continue)');
  const protocol = protocolArg(values.protocol);
  const prompts = promptArgs(values);
  if (protocol === 'umd-paper') {
    if (values.prompt !== undefined) throw new UsageError(`--protocol umd-paper sets the prompt itself (one point per organ by the card's pointRule); it cannot take --prompt ${values.prompt}`);
    if (values.tau !== undefined) throw new UsageError('--protocol umd-paper scores NSD at 1 mm for every organ; it cannot take --tau');
    delete prompts.prompt; // --prompt-seed alone asks for the center prompt; under umd-paper it seeds the card's rule
  }
  const result = await evaluateRun({
    shard: shardArg(values.shard), resume: values.resume,
    modelPath: positionals[0], datasetRoot: values.data,
    runDir: values.out, runsRoot: values.runs ? path.resolve(values.runs) : undefined,
    subjects: values.subjects?.split(',').map((s) => s.trim()).filter(Boolean),
    ...inferenceArgs(values),
    ...prompts,
    protocol,
    toleranceOverrides: [['cli', tauArg(values.tau)]],
    metricThreads: positiveInt('metric-threads', values['metric-threads']),
    probabilities: probabilitiesArg(values.probabilities),
    maxVolumeMB: maxVolumeArg(values['max-volume-mb']),
    onEvent: progressPrinter(json),
  });
  return reportRun(result, json);
}

/** --shard i/N, 1-based (see core/runstore/shard.ts). */
export function shardArg(v: string | undefined): ShardSpec | undefined {
  if (v === undefined) return undefined;
  try {
    return parseShard(v);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** --max-volume-mb N: a positive number of MiB. */
export function maxVolumeArg(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--max-volume-mb must be a positive number of MB, got "${v}"`);
  return n;
}

/** --probabilities all | liver,spleen (dataset organ names). */
export function probabilitiesArg(v: string | undefined): string[] | 'all' | undefined {
  if (v === undefined) return undefined;
  if (v.trim() === 'all') return 'all';
  const organs = v.split(',').map((o) => o.trim()).filter(Boolean);
  if (!organs.length) throw new UsageError('--probabilities needs "all" or organ names separated by commas');
  return organs;
}
