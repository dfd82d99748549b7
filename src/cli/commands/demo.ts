import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateRun } from '../../core/evaluate/evaluateRun';
import { generatePhantom } from '../../core/phantom';
import { parse } from '../args';
import { progressPrinter, reportRun } from './evaluate';

/** The repository root: dist/cli.js lives one folder below it. */
const ROOT = path.resolve(__dirname, '..');
export const DEMO_MODEL = path.join(ROOT, 'models', 'umd-mini-ct-only.onnx');

/**
 * The main job on the embedded default: UMD-mini (generated once) and the CT-only demo checkpoint. The table
 * shows the generalization illusion: high Dice on CT, much lower on the PET of the same subjects.
 */
export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { data: { type: 'string' }, model: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean', default: false } });
  const data = path.resolve(values.data ?? path.join('.umd', 'umd-mini'));
  if (!fs.existsSync(path.join(data, 'umd.json'))) {
    process.stderr.write(`generating UMD-mini in ${data} ...\n`);
    await generatePhantom({ outDir: data, onProgress: (m) => process.stderr.write(m + '\n') });
  }
  const model = path.resolve(values.model ?? DEMO_MODEL);
  process.stderr.write(`evaluating ${path.relative(process.cwd(), model)} on ${path.relative(process.cwd(), data) || data}\n`);
  const result = await evaluateRun({
    modelPath: model, datasetRoot: data, runsRoot: path.resolve(values.runs ?? path.join('.umd', 'runs')),
    onEvent: progressPrinter(values.json ?? false),
  });
  return reportRun(result, values.json ?? false);
}
