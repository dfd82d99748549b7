import * as path from 'node:path';
import { discoverDataset } from '../../core/dataset/discover';
import { writeNnunetRaw } from '../../core/dataset/nnunetRaw';
import type { Modality, Study } from '../../core/dataset/organs';
import { splitSubjects } from '../../core/dataset/split';
import { parse } from '../args';
import { UsageError } from '../usage';

const MODALITIES: readonly Modality[] = ['CT', 'MRI', 'PET'];
const DEFAULT_STUDY: Record<Modality, Study> = { CT: 'PETCT', MRI: 'PETMRI', PET: 'PETCT' };

/**
 * A seeded choice of training subjects (core/dataset/split.ts): prints "train: a,b,..." and "test: ...", or one
 * list with --list train|test (for `evaluate --subjects`), or --json; with --nnunet-raw, also writes the training
 * subjects' scans of --modality (and --study) as an nnU-Net v2 raw dataset (core/dataset/nnunetRaw.ts).
 */
export async function splitCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    data: { type: 'string' }, train: { type: 'string' }, seed: { type: 'string', default: '0' },
    list: { type: 'string' }, json: { type: 'boolean', default: false },
    'nnunet-raw': { type: 'string' }, modality: { type: 'string', default: 'CT' }, study: { type: 'string' },
    'dataset-id': { type: 'string', default: '501' }, name: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`split takes no positional arguments (got ${positionals.join(' ')})`);
  if (!values.data) throw new UsageError('split needs --data <dataset dir>');
  const train = Number(values.train);
  if (values.train === undefined || !Number.isInteger(train) || train < 1) throw new UsageError(`split needs --train N, a positive integer (got ${values.train === undefined ? 'none' : `"${values.train}"`})`);
  const seed = Number(values.seed);
  if (!/^\d+$/.test(values.seed!)) throw new UsageError(`--seed must be an integer >= 0 (got "${values.seed}")`);
  if (values.list !== undefined && values.list !== 'train' && values.list !== 'test') throw new UsageError(`--list must be train or test (got "${values.list}")`);
  const modality = values.modality as Modality;
  if (!MODALITIES.includes(modality)) throw new UsageError(`--modality must be CT, MRI or PET (got "${values.modality}")`);
  const study = (values.study ?? DEFAULT_STUDY[modality]) as Study;
  if (study !== 'PETCT' && study !== 'PETMRI') throw new UsageError(`--study must be PETCT or PETMRI (got "${values.study}")`);
  const dataset = discoverDataset(values.data);
  const split = splitSubjects([...dataset.cases, ...dataset.problems].map((c) => c.subject), train, seed);
  let rawDir: string | undefined;
  if (values['nnunet-raw']) {
    rawDir = writeNnunetRaw(dataset, {
      outDir: path.resolve(values['nnunet-raw']), datasetId: Number(values['dataset-id']), name: values.name ?? `UMD${modality}${train}`,
      study, modality, subjects: split.train,
    });
  }
  if (values.json) process.stdout.write(JSON.stringify({ ...split, ...(rawDir ? { nnunetRaw: rawDir } : {}) }, null, 2) + '\n');
  else if (values.list) process.stdout.write(split[values.list].join(',') + '\n');
  else process.stdout.write(`train: ${split.train.join(',')}\ntest: ${split.test.join(',')}\n${rawDir ? `nnU-Net raw dataset: ${rawDir}\n` : ''}`);
  return 0;
}
