/**
 * A card derived from an nnU-Net v2 trained-model folder: `dataset.json` + `plans.json` beside the `.onnx`
 * (or one folder up, when the model sits in `fold_N/` as nnU-Net stores checkpoints).
 *
 * What nnU-Net does at inference, and the card field that reproduces it:
 *   dataset.json labels {name: id}         -> labels {id: name}, without background (0) and "ignore"
 *   dataset.json channel_names {"0": ...}   one channel only: UMD Lens feeds one image per case
 *   plans transpose_forward                 [0,1,2] -> spatialOrder "kji"; [2,1,0] -> "ijk". nnU-Net reads
 *                                           arrays in SimpleITK order (k, j, i) with both of its NIfTI readers,
 *                                           then transposes them; other permutations are refused
 *   configuration spacing, patch_size       in the transposed axis order: patchSize as is, spacing reordered to
 *                                           the card's (i, j, k)
 *   normalization_schemes[0]                CTNormalization -> clip-zscore with lower/upper = percentile_00_5 /
 *                                           percentile_99_5 and mean/std of foreground_intensity_properties;
 *                                           ZScoreNormalization -> zscore (mask nonzero with use_mask_for_norm); NoNormalization -> none;
 *                                           RescaleTo01Normalization -> minmax; RGBTo01Normalization -> x / 255
 *   tile_step_size 0.5 (its default)        overlap 0.5
 * The scheme applies to whatever image fills the channel, so it is the card's "*" entry.
 * The configuration is the one named by the folder (`<trainer>__<plans>__<configuration>`), else 3d_fullres;
 * `inherits_from` is resolved as nnU-Net's PlansManager does (a shallow update of the parent).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelCard, Normalization } from './modelCard';
import { CardError, isFiniteNumber, isObject, isTriple, readJsonFile, show, warnUnknownKeys } from './jsonChecks';

export interface NnunetFiles {
  datasetJson: string;
  plansJson: string;
  /** Configuration named by the folder holding the two files, when it follows nnU-Net's naming. */
  folderConfiguration?: string;
}

/** dataset.json + plans.json beside the model, or one folder up from `fold_N/`; undefined when not both found. */
export function findNnunetFiles(onnxPath: string): NnunetFiles | undefined {
  const dir = path.dirname(onnxPath);
  const dirs = /^fold_(\d+|all)$/.test(path.basename(dir)) ? [dir, path.dirname(dir)] : [dir];
  for (const d of dirs) {
    const datasetJson = path.join(d, 'dataset.json');
    const plansJson = path.join(d, 'plans.json');
    if (fs.existsSync(datasetJson) && fs.existsSync(plansJson)) {
      const parts = path.basename(d).split('__');
      return { datasetJson, plansJson, folderConfiguration: parts.length === 3 ? parts[2] : undefined };
    }
  }
  return undefined;
}

/** Keys of nnU-Net v2's dataset.json (documentation/dataset_format.md), including the optional ones. */
const DATASET_KEYS = ['channel_names', 'modality', 'labels', 'numTraining', 'file_ending', 'regions_class_order', 'overwrite_image_reader_writer',
  'dataset', 'name', 'description', 'reference', 'licence', 'license', 'release', 'tensorImageSize', 'training', 'test', 'numTest', 'converted_by'];
const PLANS_KEYS = ['dataset_name', 'plans_name', 'original_median_spacing_after_transp', 'original_median_shape_after_transp', 'image_reader_writer',
  'transpose_forward', 'transpose_backward', 'configurations', 'experiment_planner_used', 'label_manager',
  'foreground_intensity_properties_per_channel', 'foreground_intensity_properties_by_modality'];
const CONFIGURATION_KEYS = ['data_identifier', 'preprocessor_name', 'batch_size', 'patch_size', 'median_image_size_in_voxels', 'spacing',
  'normalization_schemes', 'use_mask_for_norm', 'resampling_fn_data', 'resampling_fn_seg', 'resampling_fn_data_kwargs', 'resampling_fn_seg_kwargs',
  'resampling_fn_probabilities', 'resampling_fn_probabilities_kwargs', 'architecture', 'batch_dice', 'inherits_from', 'previous_stage', 'next_stage',
  // plans written before the `architecture` block (nnU-Net v2 < 2.3)
  'UNet_class_name', 'UNet_base_num_features', 'unet_max_num_features', 'n_conv_per_stage_encoder', 'n_conv_per_stage_decoder',
  'num_pool_per_axis', 'pool_op_kernel_sizes', 'conv_kernel_sizes'];
const INTENSITY_KEYS = ['max', 'mean', 'median', 'min', 'percentile_00_5', 'percentile_99_5', 'std'];

interface DatasetFacts {
  labels: Record<string, string>;
  name?: string;
  readerWriter?: string;
}

function readDataset(file: string, warnings: string[]): DatasetFacts {
  const label = path.basename(file);
  const raw = readJsonFile(file);
  if (!isObject(raw)) throw new CardError(file, ['dataset.json must be a JSON object']);
  warnUnknownKeys(raw, DATASET_KEYS, '', label, warnings);
  const errors: string[] = [];

  const channelsKey = raw.channel_names !== undefined ? 'channel_names' : 'modality';
  const channels = raw[channelsKey];
  if (!isObject(channels) || Object.keys(channels).length === 0) {
    errors.push(`channel_names must be an object {"0": "CT"} (got ${show(channels)})`);
  } else {
    for (const [k, v] of Object.entries(channels)) if (typeof v !== 'string') errors.push(`${channelsKey}.${k} must be a string (got ${show(v)})`);
    const n = Object.keys(channels).length;
    if (n !== 1) errors.push(`${channelsKey}: the model takes ${n} input channels (${Object.values(channels).map((c) => show(c)).join(', ')}); UMD Lens feeds one image channel per case`);
  }

  if (raw.regions_class_order !== undefined) {
    errors.push('regions_class_order: region-based models output overlapping regions, not one class per voxel; UMD Lens takes the argmax of per-class outputs');
  }
  const labels: Record<string, string> = {};
  if (!isObject(raw.labels)) {
    errors.push(`labels must be an object {"background": 0, "<organ>": 1, ...} (got ${show(raw.labels)})`);
  } else {
    const ids: number[] = [];
    for (const [name, id] of Object.entries(raw.labels)) {
      if (Array.isArray(id)) errors.push(`labels.${name}: a region (a list of label ids) needs region-based inference, which UMD Lens does not do`);
      else if (typeof id === 'string' && /^\d+$/.test(name)) errors.push(`labels.${name}: nnU-Net v1 layout ({"<id>": "<name>"}); nnU-Net v2 writes {"<name>": <id>}`);
      else if (!Number.isInteger(id) || (id as number) < 0) errors.push(`labels.${name} must be a non-negative integer label value (got ${show(id)})`);
      // "ignore" is nnU-Net's unlabelled-voxel marker: no output channel of its own
      else if (name !== 'ignore') {
        ids.push(id as number);
        if (id !== 0) labels[String(id)] = name;
      }
    }
    const sorted = [...ids].sort((a, b) => a - b);
    if (errors.length === 0 && sorted.some((id, n) => id !== n)) {
      errors.push(`labels: nnU-Net requires consecutive label values 0, 1, 2, ... (output channel = label value); got ${sorted.join(', ')}`);
    }
    if (errors.length === 0 && Object.keys(labels).length === 0) errors.push('labels name no class besides background');
  }
  for (const key of ['numTraining'] as const) if (raw[key] !== undefined && !Number.isInteger(raw[key])) errors.push(`${key} must be an integer (got ${show(raw[key])})`);
  for (const key of ['file_ending', 'name', 'description', 'overwrite_image_reader_writer'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') errors.push(`${key} must be a string (got ${show(raw[key])})`);
  }
  if (errors.length) throw new CardError(file, errors);
  return {
    labels,
    name: typeof raw.name === 'string' ? raw.name : undefined,
    readerWriter: typeof raw.overwrite_image_reader_writer === 'string' ? raw.overwrite_image_reader_writer : undefined,
  };
}

/** The configuration with its `inherits_from` chain applied (parent first, child keys win). */
function resolveConfiguration(configurations: Record<string, unknown>, name: string, errors: string[]): Record<string, unknown> | undefined {
  const chain: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  let at: string | undefined = name;
  while (at !== undefined) {
    if (seen.has(at)) {
      errors.push(`configurations.${name}: inherits_from loops through ${at}`);
      return undefined;
    }
    seen.add(at);
    const c: unknown = configurations[at];
    if (!isObject(c)) {
      errors.push(`configurations.${at} must be an object (got ${show(c)})`);
      return undefined;
    }
    chain.unshift(c);
    const parent = c.inherits_from;
    if (parent !== undefined && typeof parent !== 'string') {
      errors.push(`configurations.${at}.inherits_from must be a configuration name (got ${show(parent)})`);
      return undefined;
    }
    at = parent;
  }
  return Object.assign({}, ...chain) as Record<string, unknown>;
}

function normalizationFor(scheme: unknown, at: string, props: unknown, propsAt: string, useMask: boolean, errors: string[], warnings: string[], label: string): Normalization | undefined {
  switch (scheme) {
    case 'CTNormalization': {
      if (!isObject(props)) {
        errors.push(`${propsAt} must hold the foreground intensity properties that CTNormalization needs (got ${show(props)})`);
        return undefined;
      }
      warnUnknownKeys(props, INTENSITY_KEYS, `${propsAt}.`, label, warnings);
      const before = errors.length;
      for (const k of ['percentile_00_5', 'percentile_99_5', 'mean', 'std']) {
        if (!isFiniteNumber(props[k])) errors.push(`${propsAt}.${k} must be a finite number (got ${show(props[k])})`);
      }
      if (errors.length > before) return undefined;
      const [lower, upper, mean, std] = ['percentile_00_5', 'percentile_99_5', 'mean', 'std'].map((k) => props[k] as number);
      if (!(lower < upper)) errors.push(`${propsAt}: percentile_00_5 (${lower}) must be below percentile_99_5 (${upper})`);
      if (!(std > 0)) errors.push(`${propsAt}.std must be > 0 (got ${std})`);
      return errors.length > before ? undefined : { method: 'clip-zscore', lower, upper, mean, std };
    }
    case 'ZScoreNormalization':
      if (!useMask) return { method: 'zscore' };
      warnings.push(`${label}: ${at} is z-scored inside the nonzero region (use_mask_for_norm); nnU-Net also fills holes in that region, UMD Lens does not: zero voxels enclosed by nonzero ones stay 0`);
      return { method: 'zscore', mask: 'nonzero' };
    case 'NoNormalization':
      return { method: 'none' };
    case 'RescaleTo01Normalization':
      return { method: 'minmax' };
    case 'RGBTo01Normalization':
      // x / 255, no clipping: a z-score with fixed mean 0 and std 255 is exactly that
      return { method: 'zscore', mean: 0, std: 255 };
    default:
      errors.push(`${at} must be one of CTNormalization, ZScoreNormalization, NoNormalization, RescaleTo01Normalization, RGBTo01Normalization (got ${show(scheme)}); write a <name>.umd.json for a custom scheme`);
      return undefined;
  }
}

/** Tensor names come from the ONNX graph: nnU-Net's files do not name them. */
export function cardFromNnunet(files: NnunetFiles, tensors: { image: string; logits: string }): { card: ModelCard; warnings: string[] } {
  const warnings: string[] = [];
  const dataset = readDataset(files.datasetJson, warnings);

  const file = files.plansJson;
  const label = path.basename(file);
  const plans = readJsonFile(file);
  if (!isObject(plans)) throw new CardError(file, ['plans.json must be a JSON object']);
  warnUnknownKeys(plans, PLANS_KEYS, '', label, warnings);
  const errors: string[] = [];

  let spatialOrder: ModelCard['spatialOrder'] = 'kji';
  const tf = plans.transpose_forward ?? [0, 1, 2];
  if (JSON.stringify(tf) === '[2,1,0]') spatialOrder = 'ijk';
  else if (JSON.stringify(tf) !== '[0,1,2]') {
    errors.push(`transpose_forward ${show(tf)}: only [0, 1, 2] and [2, 1, 0] have a card equivalent (spatialOrder "kji" / "ijk"); write a <name>.umd.json`);
  }
  const reader = dataset.readerWriter ?? plans.image_reader_writer;
  if (reader !== undefined && typeof reader !== 'string') errors.push(`image_reader_writer must be a string (got ${show(reader)})`);
  // NibabelIOWithReorient feeds nibabel's as_closest_canonical image: RAS by axis permutation and flips
  const orientation = typeof reader === 'string' && /reorient/i.test(reader) ? 'RAS' : undefined;

  const configurations = plans.configurations;
  let configName = '';
  let config: Record<string, unknown> | undefined;
  if (!isObject(configurations)) errors.push(`configurations must be an object (got ${show(configurations)})`);
  else {
    const names = Object.keys(configurations);
    if (files.folderConfiguration && names.includes(files.folderConfiguration)) configName = files.folderConfiguration;
    else if (names.includes('3d_fullres')) configName = '3d_fullres';
    else errors.push(`configurations has no 3d_fullres (has ${names.join(', ') || 'none'}) and the folder name does not name one (<trainer>__<plans>__<configuration>)`);
    if (configName) config = resolveConfiguration(configurations, configName, errors);
  }

  let patchSize: [number, number, number] | null = null;
  let spacing: [number, number, number] | null = null;
  let normalization: Normalization | undefined;
  if (config) {
    const at = `configurations.${configName}`;
    warnUnknownKeys(config, CONFIGURATION_KEYS, `${at}.`, label, warnings);
    if (config.previous_stage !== undefined) {
      errors.push(`${at}.previous_stage: a cascade stage takes the previous stage's segmentation as extra input channels; evaluate ${show(config.previous_stage)} or a full-resolution configuration`);
    }
    const ps = config.patch_size;
    if (Array.isArray(ps) && ps.length === 2) errors.push(`${at}.patch_size ${show(ps)} is 2D; UMD Lens runs 3D models`);
    else if (isTriple(ps, true)) patchSize = [ps[0], ps[1], ps[2]];
    else errors.push(`${at}.patch_size must be [a, b, c] positive integers (got ${show(ps)})`);
    const sp = config.spacing;
    // tensor-order spacing -> the card's (i, j, k): reversed for (k, j, i) tensors
    if (isTriple(sp, false)) spacing = spatialOrder === 'kji' ? [sp[2], sp[1], sp[0]] : [sp[0], sp[1], sp[2]];
    else errors.push(`${at}.spacing must be [a, b, c] positive numbers in mm (got ${show(sp)})`);
    const schemes = config.normalization_schemes;
    const useMask = config.use_mask_for_norm;
    if (useMask !== undefined && !(Array.isArray(useMask) && useMask.every((b) => typeof b === 'boolean'))) {
      errors.push(`${at}.use_mask_for_norm must be a list of booleans (got ${show(useMask)})`);
    }
    if (!Array.isArray(schemes) || schemes.length !== 1) {
      errors.push(`${at}.normalization_schemes must list one scheme for the one input channel (got ${show(schemes)})`);
    } else {
      const propsKey = plans.foreground_intensity_properties_per_channel !== undefined ? 'foreground_intensity_properties_per_channel' : 'foreground_intensity_properties_by_modality';
      const allProps = plans[propsKey];
      const props = isObject(allProps) ? allProps['0'] : undefined;
      const mask = Array.isArray(useMask) && useMask[0] === true;
      normalization = normalizationFor(schemes[0], `${at}.normalization_schemes.0`, props, `${propsKey}.0`, mask, errors, warnings, label);
    }
  }
  if (errors.length) throw new CardError(file, errors);

  const dsName = typeof plans.dataset_name === 'string' ? plans.dataset_name : dataset.name;
  const plansName = typeof plans.plans_name === 'string' ? plans.plans_name : 'plans';
  const card: ModelCard = {
    kind: 'semantic',
    inputs: { image: tensors.image },
    outputs: { logits: tensors.logits },
    patchSize,
    spatialOrder,
    spacing,
    normalization: { '*': normalization ?? { method: 'none' } },
    labels: dataset.labels,
    overlap: 0.5,
    ...(orientation ? { orientation } : {}),
    name: dataset.name ?? dsName ?? path.basename(path.dirname(file)),
    description: `nnU-Net v2 ${configName} configuration (${plansName})${dsName ? ` of ${dsName}` : ''}`,
  };
  return { card, warnings };
}
