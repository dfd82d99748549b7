/**
 * A card derived from a MONAI bundle's `configs/metadata.json` (MONAI Bundle Specification): the model is
 * `<bundle>/models/<name>.onnx` (the spec's `models/model.onnx`) or sits at the bundle root.
 *
 *   network_data_format.inputs.<one>      num_channels must be 1; spatial_shape of fixed integers -> patchSize
 *                                          (expressions such as "16*n" only constrain sizes: whole volume)
 *   network_data_format.outputs.<one>     channel_def {"<channel>": name} -> labels, without "background";
 *                                          format "labels" or "segmentation" with one channel per class
 *   spatialOrder "ijk"                     MONAI's LoadImage yields arrays in (i, j, k) order (nibabel's)
 * metadata.json states neither voxel spacing nor intensity preprocessing: MONAI keeps those as transforms in
 * configs/inference.json, which is Python-flavoured config (`$` expressions, `@` references) and is not read.
 * The card therefore runs on the image's own grid without normalization, and says so in two warnings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { organKey } from '../../dataset/organs';
import type { ModelCard } from './modelCard';
import { CardError, isObject, isTriple, readJsonFile, show, warnUnknownKeys } from './jsonChecks';

/** `configs/metadata.json` of the bundle holding the model, or undefined. */
export function findMonaiMetadata(onnxPath: string): string | undefined {
  const dir = path.dirname(onnxPath);
  const roots = path.basename(dir) === 'models' ? [path.dirname(dir), dir] : [dir];
  return roots.map((r) => path.join(r, 'configs', 'metadata.json')).find((f) => fs.existsSync(f));
}

/** Tensor format specifier keys (MONAI Bundle Specification, "metadata.json File"). */
const TENSOR_KEYS = ['type', 'format', 'modality', 'num_channels', 'spatial_shape', 'dtype', 'value_range', 'is_patch_data', 'channel_def'];
const DATA_FORMAT_KEYS = ['inputs', 'outputs', 'preprocessed_data_sources', 'post_processed_outputs'];

/** The one entry of inputs/outputs; with several outputs, the one whose format is a segmentation. */
function pickTensor(group: unknown, at: string, errors: string[], preferSegmentation: boolean): [string, Record<string, unknown>] | undefined {
  if (!isObject(group) || Object.keys(group).length === 0) {
    errors.push(`${at} must be an object naming at least one tensor (got ${show(group)})`);
    return undefined;
  }
  let entries = Object.entries(group);
  if (entries.length > 1 && preferSegmentation) {
    entries = entries.filter(([, t]) => isObject(t) && (t.format === 'labels' || t.format === 'segmentation'));
  }
  if (entries.length !== 1) {
    errors.push(`${at} has ${Object.keys(group).length} tensors (${Object.keys(group).join(', ')}); UMD Lens feeds one image and reads one segmentation output: write a <name>.umd.json`);
    return undefined;
  }
  const [name, t] = entries[0];
  if (!isObject(t)) {
    errors.push(`${at}.${name} must be a tensor format object (got ${show(t)})`);
    return undefined;
  }
  return [name, t];
}

function checkCommon(t: Record<string, unknown>, at: string, errors: string[]): void {
  if (!Number.isInteger(t.num_channels) || (t.num_channels as number) < 1) errors.push(`${at}.num_channels must be a positive integer (got ${show(t.num_channels)})`);
  for (const k of ['type', 'format', 'modality', 'dtype'] as const) if (t[k] !== undefined && typeof t[k] !== 'string') errors.push(`${at}.${k} must be a string (got ${show(t[k])})`);
  if (t.is_patch_data !== undefined && typeof t.is_patch_data !== 'boolean') errors.push(`${at}.is_patch_data must be true or false (got ${show(t.is_patch_data)})`);
  if (t.value_range !== undefined && !(Array.isArray(t.value_range) && t.value_range.every((x) => typeof x === 'number'))) {
    errors.push(`${at}.value_range must be [min, max] or [] (got ${show(t.value_range)})`);
  }
  const ss = t.spatial_shape;
  if (!Array.isArray(ss) || !ss.every((x) => typeof x === 'string' || (Number.isInteger(x) && x > 0))) {
    errors.push(`${at}.spatial_shape must be a list of positive integers or size expressions (got ${show(ss)})`);
  } else if (ss.length !== 3) errors.push(`${at}.spatial_shape ${show(ss)} is not 3D; UMD Lens runs 3D models`);
}

export function cardFromMonai(file: string, tensors: { image: string; logits: string }): { card: ModelCard; warnings: string[] } {
  const label = path.basename(file);
  const warnings: string[] = [];
  const errors: string[] = [];
  const raw = readJsonFile(file);
  if (!isObject(raw)) throw new CardError(file, ['metadata.json must be a JSON object']);
  const ndf = raw.network_data_format;
  if (!isObject(ndf)) throw new CardError(file, [`network_data_format must be an object with "inputs" and "outputs" (got ${show(ndf)})`]);
  warnUnknownKeys(ndf, DATA_FORMAT_KEYS, 'network_data_format.', label, warnings);

  let patchSize: [number, number, number] | null = null;
  const input = pickTensor(ndf.inputs, 'network_data_format.inputs', errors, false);
  if (input) {
    const at = `network_data_format.inputs.${input[0]}`;
    const t = input[1];
    warnUnknownKeys(t, TENSOR_KEYS, `${at}.`, label, warnings);
    const before = errors.length;
    checkCommon(t, at, errors);
    if (errors.length === before) {
      if (t.num_channels !== 1) errors.push(`${at}.num_channels is ${t.num_channels}; UMD Lens feeds one image channel per case`);
      if (isTriple(t.spatial_shape, true)) {
        patchSize = [...t.spatial_shape];
        if (t.is_patch_data === false) warnings.push(`${label}: ${at}.is_patch_data is false (the bundle resizes whole images to ${show(t.spatial_shape)}); UMD Lens does not resize and slides a window of that size instead`);
      } else warnings.push(`${label}: ${at}.spatial_shape ${show(t.spatial_shape)} is not a fixed size: the whole volume is fed in one run`);
    }
  }

  const labels: Record<string, string> = {};
  const output = pickTensor(ndf.outputs, 'network_data_format.outputs', errors, true);
  if (output) {
    const at = `network_data_format.outputs.${output[0]}`;
    const t = output[1];
    warnUnknownKeys(t, TENSOR_KEYS, `${at}.`, label, warnings);
    const before = errors.length;
    checkCommon(t, at, errors);
    if (t.format !== 'labels' && t.format !== 'segmentation') {
      errors.push(`${at}.format must be "labels" or "segmentation" (per-class outputs, argmax per voxel) (got ${show(t.format)})`);
    }
    const channels = t.num_channels as number;
    if (errors.length === before && channels < 2) {
      errors.push(`${at}.num_channels is ${channels}: a single-channel output holds no per-class scores to take the argmax of`);
    }
    const def = t.channel_def;
    if (!isObject(def)) errors.push(`${at}.channel_def must be an object {"0": "background", "1": "<organ>", ...} (got ${show(def)})`);
    else {
      for (const [ch, name] of Object.entries(def)) {
        if (!/^(0|[1-9]\d*)$/.test(ch)) errors.push(`${at}.channel_def.${ch}: channel keys must be integers`);
        else if (typeof name !== 'string' || name.trim() === '') errors.push(`${at}.channel_def.${ch} must be a non-empty name (got ${show(name)})`);
        else if (Number.isInteger(channels) && Number(ch) >= channels) errors.push(`${at}.channel_def.${ch}: beyond num_channels ${channels}`);
        else if (organKey(name) !== 'background') labels[ch] = name;
      }
      if (errors.length === before && Object.keys(labels).length === 0) errors.push(`${at}.channel_def names no class besides background`);
    }
  }
  if (errors.length) throw new CardError(file, errors);

  warnings.push(`${label} states no voxel spacing (a MONAI bundle keeps it in configs/inference.json): the model runs on each image's own grid; write a <name>.umd.json with "spacing" to resample`);
  warnings.push(`${label} states no intensity normalization (configs/inference.json transforms are not read): images are fed as stored; write a <name>.umd.json with "normalization" to match the bundle's preprocessing`);
  const card: ModelCard = {
    kind: 'semantic',
    inputs: { image: tensors.image },
    outputs: { logits: tensors.logits },
    patchSize,
    spatialOrder: 'ijk',
    spacing: null,
    normalization: { '*': { method: 'none' } },
    labels,
  };
  const name = typeof raw.name === 'string' ? raw.name : typeof raw.task === 'string' ? raw.task : undefined;
  if (name) card.name = name;
  if (typeof raw.description === 'string') card.description = raw.description;
  return { card, warnings };
}
