import { evaluateGates, GatesFileError, readGates } from '../../core/analysis/gates';
import { parse } from '../args';
import { UsageError } from '../usage';
import { loadRun } from './gap';

/**
 * Checks a run against a gates file (core/analysis/gates.ts). Exit 0 when every gate holds, 1 when any fails
 * (each failure listed with its line and numbers), 2 on usage errors, an invalid gates file included.
 */
export async function gateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { gates: { type: 'string' }, baseline: { type: 'string' }, json: { type: 'boolean', default: false } });
  if (positionals.length !== 1) throw new UsageError('gate needs one <runDir>');
  if (!values.gates) throw new UsageError('gate needs --gates <umd.gates.json>');
  let gates;
  try {
    gates = readGates(values.gates);
  } catch (e) {
    if (e instanceof GatesFileError) {
      process.stderr.write(`umd-lens: ${e.message}\n`);
      return 2;
    }
    throw new UsageError((e as Error).message);
  }
  const regression = gates.gates.find((g) => g.kind === 'maxRegression');
  if (regression && !values.baseline) {
    throw new UsageError(`${values.gates}:${regression.line}: maxRegression needs a baseline run: add --baseline <runDir>`);
  }
  const run = loadRun(positionals[0]);
  const baseline = values.baseline ? loadRun(values.baseline) : undefined;
  const results = evaluateGates(run, gates, baseline);
  const failed = results.filter((r) => !r.pass);
  if (values.json) {
    process.stdout.write(JSON.stringify({ pass: failed.length === 0, results }, null, 2) + '\n');
  } else {
    for (const r of failed) process.stdout.write(`FAIL ${values.gates}:${r.line}:${r.column}: ${r.message}\n`);
    process.stdout.write(`${results.length - failed.length} of ${results.length} gate check(s) hold${failed.length ? `, ${failed.length} fail` : ''}\n`);
  }
  return failed.length ? 1 : 0;
}
