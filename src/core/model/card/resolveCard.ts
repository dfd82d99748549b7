/**
 * Finds a model's card. First match wins, and the source is reported with the card (and recorded in run.json):
 *   1. umd.json        `<name>.umd.json` beside `<name>.onnx`, written for UMD Lens
 *   2. onnx-metadata   a `umd` entry in the ONNX model's metadata_props: the same JSON as a umd.json, carried
 *                      inside the checkpoint
 *   3. nnunet          nnU-Net v2 `dataset.json` + `plans.json` beside the model (fromNnunet.ts)
 *   4. monai-bundle    the MONAI bundle's `configs/metadata.json` (fromMonai.ts)
 * A hand-written card comes first because it is the only way to correct what the others imply. The ONNX file
 * is read (headers only, onnxProto.ts) only when there is no umd.json: for the metadata, and for the tensor
 * names that nnU-Net and MONAI files do not give.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CardSource, ModelCard } from './modelCard';
import { cardFromMonai, findMonaiMetadata } from './fromMonai';
import { cardFromNnunet, findNnunetFiles } from './fromNnunet';
import { CardError } from './jsonChecks';
import { cardPathFor, loadCard, validateCard } from './loadCard';
import { OnnxFormatError, readOnnxModelInfo, type OnnxModelInfo } from './onnxProto';

export interface ResolvedCard {
  card: ModelCard;
  source: CardSource;
  /** Files the card was read from: the umd.json; the .onnx; dataset.json and plans.json; metadata.json. */
  files: string[];
  warnings: string[];
}

/** The metadata_props key holding a UMD card. */
export const ONNX_METADATA_KEY = 'umd';

export function resolveCard(onnxPath: string): ResolvedCard {
  const umdPath = cardPathFor(onnxPath);
  if (fs.existsSync(umdPath)) {
    const { card, warnings } = loadCard(onnxPath);
    return { card, source: 'umd.json', files: [umdPath], warnings };
  }
  let info: OnnxModelInfo;
  try {
    info = readOnnxModelInfo(onnxPath);
  } catch (e) {
    if (!(e instanceof OnnxFormatError)) throw e;
    throw new CardError(onnxPath, [`no ${path.basename(umdPath)} beside the model, and its own metadata cannot be read (${e.problem})`]);
  }
  const entry = info.metadata.get(ONNX_METADATA_KEY);
  if (entry !== undefined) return cardFromOnnxMetadata(onnxPath, entry);

  const nnunet = findNnunetFiles(onnxPath);
  if (nnunet) {
    const { card, warnings } = cardFromNnunet(nnunet, singleTensors(info, onnxPath, 'nnU-Net'));
    return checked(card, 'nnunet', [nnunet.datasetJson, nnunet.plansJson], warnings);
  }
  const monai = findMonaiMetadata(onnxPath);
  if (monai) {
    const { card, warnings } = cardFromMonai(monai, singleTensors(info, onnxPath, 'MONAI bundle'));
    return checked(card, 'monai-bundle', [monai], warnings);
  }
  const dir = path.dirname(onnxPath);
  const half = ['dataset.json', 'plans.json'].filter((f) => fs.existsSync(path.join(dir, f)));
  const note = half.length === 1 ? ` (found ${half[0]} but not ${half[0] === 'dataset.json' ? 'plans.json' : 'dataset.json'}: nnU-Net needs both)` : '';
  throw new CardError(umdPath, [
    `model card not found: every model needs a card beside it (${path.basename(umdPath)} next to ${path.basename(onnxPath)}), ` +
      `or a "${ONNX_METADATA_KEY}" entry in the model's metadata_props, nnU-Net's dataset.json + plans.json, or a MONAI bundle's configs/metadata.json${note}`,
  ]);
}

function cardFromOnnxMetadata(onnxPath: string, text: string): ResolvedCard {
  const where = `metadata_props "${ONNX_METADATA_KEY}"`;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CardError(onnxPath, [`${where} is not valid JSON (${(e as Error).message})`]);
  }
  try {
    const { card, warnings } = validateCard(raw, onnxPath, `${path.basename(onnxPath)} ${where}`);
    return { card, source: 'onnx-metadata', files: [onnxPath], warnings };
  } catch (e) {
    if (e instanceof CardError) throw new CardError(onnxPath, e.problems.map((p) => `${where}: ${p}`));
    throw e;
  }
}

/** Derived cards name the model's only input and output; a model with more needs a umd.json saying which. */
function singleTensors(info: OnnxModelInfo, onnxPath: string, source: string): { image: string; logits: string } {
  if (info.inputs.length === 1 && info.outputs.length === 1) return { image: info.inputs[0], logits: info.outputs[0] };
  const list = (names: string[]) => (names.length ? names.map((n) => `"${n}"`).join(', ') : 'none');
  throw new CardError(onnxPath, [
    `the ${source} files do not name the model's tensors, and the model has inputs ${list(info.inputs)} and outputs ${list(info.outputs)}: ` +
      `write ${path.basename(cardPathFor(onnxPath))} naming inputs.image and outputs.logits`,
  ]);
}

/** A derived card passes the same validation as a hand-written one, so both reach the model in one shape. */
function checked(card: ModelCard, source: CardSource, files: string[], warnings: string[]): ResolvedCard {
  const again = validateCard(card, files[files.length - 1]);
  return { card: again.card, source, files, warnings: [...warnings, ...again.warnings] };
}
