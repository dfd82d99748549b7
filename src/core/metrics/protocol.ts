/**
 * A metric protocol: what every score in a run means. It is recorded in run.json with the scores, so that a number
 * read later (or compared with a paper) carries its definition: the metrics, NSD's tolerance per organ, the
 * percentile of the robust Hausdorff distance, the empty-mask rule and the grid and spacing the metrics used.
 *
 * Named protocols:
 *   umd     tau = 1 mm for every organ (the UMD paper's protocol; the default)
 *   cvpr25  tau = 2 mm for every organ (CVPR 2025 interactive 3D segmentation challenge)
 *   umd-paper  the UMD paper's whole protocol: tau = 1 mm fixed (no overrides), and the prompts of the paper (one
 *           point per organ by the family's official rule for promptable models; evaluate/paperProtocol.ts)
 * Tolerances can be overridden per organ (model card `nsdToleranceMm`, the setting `umdLens.metrics.toleranceMm`,
 * CLI `--tau`); the protocol then records the overrides and where each came from.
 */

export type ProtocolName = 'umd' | 'cvpr25' | 'umd-paper';
export const PROTOCOL_NAMES: readonly ProtocolName[] = ['umd', 'cvpr25', 'umd-paper'];

const BASE_TAU_MM: Record<ProtocolName, number> = { umd: 1, cvpr25: 2, 'umd-paper': 1 };

export const METRIC_DEFINITIONS = {
  dice: '2|G∩P| / (|G| + |P|), voxel counts on the ground truth grid',
  iou: '|G∩P| / |G∪P|',
  nsd: 'surface Dice at tolerance tau mm (DeepMind surface-distance): area of surfels of each mask within tau of the other surface (d <= tau) over the total surfel area of both',
  hd95: 'robust Hausdorff distance, mm: max over both directions of the area-weighted 95th percentile of surfel distances (DeepMind compute_robust_hausdorff)',
  hd: 'Hausdorff distance, mm: the largest surfel distance in either direction',
  assd: 'average symmetric surface distance, mm: area-weighted mean distance over the surfels of both masks',
  volume_gt_ml: 'ground truth voxel count x voxel volume / 1000',
  volume_pred_ml: 'prediction voxel count x voxel volume / 1000',
  volume_error_ml: 'volume_pred_ml - volume_gt_ml',
  tp: 'voxels in both masks', fp: 'voxels in the prediction only', fn: 'voxels in the ground truth only',
} as const;

export type MetricName = keyof typeof METRIC_DEFINITIONS;

export const EMPTY_RULE = {
  'both-empty': 'ground truth and prediction empty: every score null (not applicable), excluded from means and counted',
  'false-positive': 'organ absent from the ground truth but predicted: dice 0, iou 0, nsd 0, distances null',
  missed: 'organ present in the ground truth but not predicted: dice 0, iou 0, nsd 0, distances null',
  means: 'means over cases skip null scores and report how many were skipped',
} as const;

export type ToleranceSource = 'protocol' | 'card' | 'settings' | 'cli';

export interface MetricProtocol {
  /** The named protocol the tolerances start from; `custom: true` when any organ's tolerance was overridden. */
  name: ProtocolName;
  custom: boolean;
  metrics: typeof METRIC_DEFINITIONS;
  /** NSD tolerance in mm: the default, and every organ that differs, with where its value came from. */
  toleranceMm: { default: number; organs: Record<string, { mm: number; source: ToleranceSource }> };
  /** The tolerance every organ of the dataset was scored with (set by an evaluation run). */
  toleranceByOrganMm?: Record<string, number>;
  hdPercentile: 95;
  surface: string;
  emptyRule: typeof EMPTY_RULE;
  grid: string;
  spacing: string;
}

/** Tolerance overrides: a default for all organs (`*`) and/or per organ (name or label id as a string). */
export type ToleranceOverrides = Record<string, number>;

export function isProtocolName(s: string): s is ProtocolName {
  return (PROTOCOL_NAMES as readonly string[]).includes(s);
}

/**
 * The protocol from a name and overrides applied in order (later wins): typically card, then settings, then CLI.
 * Throws on a non-positive or non-finite tolerance, naming the organ and the source.
 */
export function makeProtocol(name: ProtocolName = 'umd', overrides: Array<[ToleranceSource, ToleranceOverrides | undefined]> = []): MetricProtocol {
  let def = BASE_TAU_MM[name];
  const organs: MetricProtocol['toleranceMm']['organs'] = {};
  let custom = false;
  for (const [source, o] of overrides) {
    if (!o) continue;
    // within one source "*" is applied first, so its own per-organ values win over it; a later source's "*"
    // replaces every earlier per-organ value
    for (const [organ, mm] of Object.entries(o).sort(([a], [b]) => Number(b === '*') - Number(a === '*'))) {
      if (typeof mm !== 'number' || !Number.isFinite(mm) || mm < 0) {
        throw new Error(`NSD tolerance for "${organ}" from the ${source} must be a non-negative number of mm, got ${JSON.stringify(mm)}`);
      }
      custom = true;
      if (organ === '*') {
        def = mm;
        for (const k of Object.keys(organs)) delete organs[k];
      } else {
        organs[organ] = { mm, source };
      }
    }
  }
  return {
    name,
    custom,
    metrics: METRIC_DEFINITIONS,
    toleranceMm: { default: def, organs },
    hdPercentile: 95,
    surface: 'DeepMind surface-distance semantics: surfels at voxel corners from 2x2x2 neighbourhood codes, marching-cubes surfel areas for the voxel spacing, exact Euclidean distances in mm',
    emptyRule: EMPTY_RULE,
    grid: 'ground truth (labels) grid; a prediction on another grid is resampled to it by nearest neighbour through the affines',
    spacing: "each case's ground truth voxel spacing (norms of the affine's columns, mm), recorded per case as spacing_mm",
  };
}

/** NSD tolerance for an organ: by name, else by label id, else the default. */
export function toleranceFor(p: MetricProtocol, organ: string | undefined, labelId: number): number {
  return (organ !== undefined ? p.toleranceMm.organs[organ]?.mm : undefined) ?? p.toleranceMm.organs[String(labelId)]?.mm ?? p.toleranceMm.default;
}

/**
 * `--tau` syntax: `2` (every organ) or `liver=2,spleen=1.5,*=1` (names or label ids). Throws with the offending part.
 */
export function parseToleranceArg(s: string): ToleranceOverrides {
  const out: ToleranceOverrides = {};
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const eq = part.lastIndexOf('=');
    const key = eq < 0 ? '*' : part.slice(0, eq).trim();
    const raw = eq < 0 ? part : part.slice(eq + 1).trim();
    const mm = Number(raw);
    if (!key || raw === '' || !Number.isFinite(mm) || mm < 0) throw new Error(`--tau: "${part}" is not <mm> or <organ>=<mm> with a non-negative number of mm`);
    out[key] = mm;
  }
  if (Object.keys(out).length === 0) throw new Error('--tau needs a value: <mm> or <organ>=<mm>,...');
  return out;
}
