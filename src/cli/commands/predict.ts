import * as path from 'node:path';
import type { Modality } from '../../core/dataset/organs';
import { checkPredictMemory, loadModel, predictClasses } from '../../core/model/predict';
import { allowedBatchSize } from '../../core/model/session';
import { readImageStored } from '../../core/nifti/read';
import { writeNifti } from '../../core/nifti/write';
import { inferenceArgs, INFERENCE_OPTIONS, parse, promptArgs, PROMPT_OPTIONS } from '../args';
import { predictPrompted } from './predictPrompted';
import { formatDuration } from '../../core/evaluate/eta';
import { UsageError } from '../usage';

/** Writes the model's own class ids (the argmax, not remapped) on the image's grid, as nnU-Net's predict does. */
export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string' }, modality: { type: 'string' }, probabilities: { type: 'string' }, ...INFERENCE_OPTIONS, ...PROMPT_OPTIONS, labels: { type: 'string' } });
  if (positionals.length !== 2) throw new UsageError('predict needs <model.onnx> <image.nii.gz>');
  if (!values.out) throw new UsageError('predict needs --out <labels.nii.gz>');
  const modality = values.modality?.toUpperCase();
  if (modality !== undefined && !['CT', 'PET', 'MRI'].includes(modality)) throw new UsageError(`--modality must be CT, PET or MRI, got "${values.modality}"`);
  const inf = inferenceArgs(values);
  const model = await loadModel(path.resolve(positionals[0]), { threads: inf.threads, device: inf.device });
  try {
    process.stderr.write(`card: ${model.cardSource} (${model.cardFiles.join(', ')})\n`);
    for (const w of model.warnings) process.stderr.write(`warn: ${w}\n`);
    const pa = promptArgs(values);
    if (model.card.kind === 'promptable') {
      if (!values.labels) throw new UsageError('predict with a promptable model needs --labels <labels.nii.gz>: the prompts are made from each label\'s voxels');
      await predictPrompted(model, path.resolve(positionals[1]), path.resolve(values.labels), (modality as Modality | undefined) ?? null, path.resolve(values.out),
        { spec: pa.prompt ?? { kind: 'center' }, seed: pa.promptSeed ?? 0, boxJitterMm: pa.boxJitterMm ?? 0 });
      process.stderr.write(`wrote ${values.out} and ${values.out}.prompts.json\n`);
      return 0;
    }
    if (pa.prompt || values.labels) throw new UsageError(`--prompt and --labels are for promptable models; ${positionals[0]} is a semantic model (card kind "${model.card.kind}")`);
    const batch = allowedBatchSize(model.session, model.card.inputs.image, inf.batchSize ?? 1);
    if (batch.note) process.stderr.write(`warn: ${batch.note}\n`);
    const t0 = Date.now();
    let last = t0;
    // --probabilities DIR: one softmax map per labelled class of the card, DIR/<class name>.nii.gz
    const probDir = values.probabilities ? path.resolve(values.probabilities) : undefined;
    const probabilities = probDir
      ? Object.entries(model.card.labels).map(([cls, name]) => ({ classes: [Number(cls)], file: path.join(probDir, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.nii.gz`) }))
      : undefined;
    const imageFile = path.resolve(positionals[1]);
    // refused from the header, before the image is read, when it would not fit
    const estimate = checkPredictMemory(model, imageFile, { batchSize: batch.batchSize, tta: inf.tta, bandDtype: inf.bandDtype, probabilities, maxMemoryGB: inf.maxMemoryGB });
    process.stderr.write(`memory: about ${(estimate.totalBytes / 2 ** 30).toFixed(2)} GB estimated\n`);
    const image = readImageStored(imageFile);
    const classes = await predictClasses(model, image, (modality as Modality | undefined) ?? null, {
      overlap: inf.overlap, batchSize: batch.batchSize, tta: inf.tta, probabilities, bandDtype: inf.bandDtype,
      onProgress: (done, total) => {
        const t = Date.now();
        if (done === 0 || done === total || t - last < 2000) return;
        last = t;
        process.stderr.write(`window ${done}/${total}, about ${formatDuration(((t - t0) / 1000 / done) * (total - done))} left\n`);
      },
    });
    writeNifti(path.resolve(values.out), classes, `umd-lens predict ${path.basename(positionals[0])}`);
    process.stderr.write(`wrote ${values.out} (${classes.dims.join('x')})\n`);
    if (probDir) process.stderr.write(`wrote ${probabilities!.length} probability maps to ${probDir}\n`);
  } finally {
    await model.close();
  }
  return 0;
}
