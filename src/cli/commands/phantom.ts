import * as path from 'node:path';
import { generatePhantom } from '../../core/phantom';
import { parse, positiveInt } from '../args';
import { UsageError } from '../usage';

export async function phantomCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string' }, subjects: { type: 'string' }, seed: { type: 'string' } });
  if (positionals.length) throw new UsageError(`phantom takes no positional arguments (got ${positionals.join(' ')})`);
  if (!values.out) throw new UsageError('phantom needs --out <dir>');
  const subjects = positiveInt('subjects', values.subjects);
  if (subjects === 0) throw new UsageError('--subjects must be at least 1');
  const res = await generatePhantom({
    outDir: path.resolve(values.out), subjects, seed: positiveInt('seed', values.seed),
    onProgress: (m) => process.stderr.write(m + '\n'),
  });
  process.stdout.write(`UMD-mini: ${res.subjects.length} subjects, ${res.files.length} files in ${path.resolve(values.out)}\n`);
  return 0;
}
