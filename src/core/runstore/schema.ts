/**
 * On-disk format of a run. A run directory holds:
 *   run.json      RunManifest (written at start, rewritten with `finishedAt` and counts at the end)
 *   cases.jsonl   one CaseRecord per line: an OrganRecord per case (study, subject, modality) and organ, or one
 *                 CaseErrorRecord for a case that failed
 *   pred/<study>_<subject>_<modality>.nii.gz   the prediction, on the labels' grid, dataset label ids
 */
import type { Modality, Study } from '../dataset/organs';
import type { CardSource, ModelCard } from '../model/card/modelCard';
import type { MetricProtocol } from '../metrics/protocol';
import type { PromptRecord } from '../prompts/promptRecord';
import type { PromptSpec } from '../prompts/promptSpec';

/** 2: surface metrics (nsd, hd95, hd, assd) and the full metric protocol. Runs of format 1 still read (those fields absent). */
export const RUN_FORMAT_VERSION = 2;

export interface RunManifest {
  format: number;
  /**
   * Absolute path of the .onnx and its sha256 (hex); for an encoder-decoder card (card.decoder) the .onnx is the
   * encoder and `decoder` is the decoder graph's file and sha256.
   */
  model: { path: string; sha256: string; name: string; decoder?: { path: string; sha256: string } };
  card: ModelCard;
  /**
   * Where the card came from (umd.json, the ONNX model's metadata, nnU-Net's dataset.json + plans.json, a MONAI
   * bundle's metadata.json) and the files read. Absent in runs written before card sources existed.
   */
  cardSource?: CardSource;
  cardFiles?: string[];
  dataset: { root: string; organs: Record<string, string> };
  /**
   * How the model's classes became the dataset's organs (evaluate/labelMapping.ts): each matched class with the
   * rule that matched it (organMap, name, synonym), the classes the card's organMap leaves unscored and the model's
   * organs the dataset lacks. Absent in runs written before it was recorded.
   */
  labelMapping?: {
    matches: Array<{ modelClass: number; modelName: string; organ: string; by: 'organMap' | 'name' | 'synonym' }>;
    excluded: string[];
    unmatched: string[];
  };
  /** How the scores were computed: metric definitions, NSD tolerance per organ, empty-mask rule, grid and spacing. */
  protocol: MetricProtocol;
  /**
   * How each organ was asked for (evaluate/paperProtocol.ts): the prompt a promptable model got, its seed, the
   * point rule and where it came from, and the crop centre rule; for a semantic model, how its classes are asked.
   * Absent in runs written before it was recorded. Resume refuses a run whose prompting differs.
   */
  prompting?: RunPrompting;
  /**
   * How the model was run: execution provider, intra-op threads (null: ONNX Runtime's default), sliding-window
   * overlap actually used, windows per run, mirroring TTA axes ([] when off), and bandDtype "float16" when the
   * blending band was float16 (absent: float32). Absent in runs written before.
   */
  inference?: { device: string; threads: number | null; overlap: number; batchSize: number; ttaAxes: number[]; bandDtype?: 'float16' };
  versions: { umdLens: string; onnxruntime: string; node: string };
  startedAt: string;
  finishedAt?: string;
  counts?: { cases: number; errors: number };
  /** This run evaluated shard `index` of `count` (1-based; subjects dealt round-robin, see runstore/shard.ts). */
  shard?: { index: number; count: number };
  /** Each resume of this run: when, and how many finished cases it kept (not recomputed) and ran. */
  resumed?: Array<{ at: string; casesKept: number; casesRun: number; tornBytes: number }>;
  /** A run made by `umd-lens merge` from these shard runs. */
  merged?: { shards: Array<{ index: number; count: number; dir: string; startedAt: string; finishedAt?: string }> };
}

/** RunManifest.prompting. */
export type RunPrompting =
  | {
    model: 'promptable';
    /** "umd-paper" when the run followed the UMD paper's protocol (one point per organ by `pointRule`), else null. */
    protocol: 'umd-paper' | null;
    prompt: PromptSpec;
    /** --prompt-seed: the stream of random points and box jitter (hashSeed(seed, subject, organ, ...)). */
    seed: number;
    boxJitterMm: number;
    /** umd-paper only: the first-point rule, from the card's `pointRule` or the default ("center"). */
    pointRule?: { rule: 'random' | 'center'; source: 'card' | 'default' };
    /** Where each organ's crop is centred: "prompt" (first click / box centre) or "official" (ground truth box). */
    crop: 'prompt' | 'official';
  }
  | {
    model: 'semantic';
    protocol: 'umd-paper' | null;
    /** How the classes are asked: every class in one pass, class ids fed (classPrompt), or text embeddings. */
    classes: 'all' | 'class-id' | 'text';
  };

/**
 * Status of one organ in one case, or of a failed case ('error'). Scores are null where undefined (both masks
 * empty) or on error.
 */
export type CaseStatus = 'ok' | 'both-empty' | 'missed' | 'false-positive' | 'error';
/** The status of a scored organ: a failing case is one CaseErrorRecord, never an organ record with 'error'. */
export type OrganStatus = Exclude<CaseStatus, 'error'>;

/** What names the case (study, subject, modality) and the image it was run on. */
interface CaseFields {
  subject: string;
  study: Study;
  modality: Modality;
  /** Image the case was run on (relative to the dataset root). */
  image: string;
}

/** What only a scored organ has: the scores beyond Dice and volumes, and the files written for it. */
interface OrganOnlyFields {
  /** Format 2 on (absent in format-1 runs). Distances in mm; nsd at tau_mm; null where not applicable. */
  iou?: number | null;
  nsd?: number | null;
  hd95?: number | null;
  hd?: number | null;
  assd?: number | null;
  volume_error_ml?: number | null;
  tp?: number;
  fp?: number;
  fn?: number;
  tau_mm?: number;
  /** Voxel spacing of the ground truth grid the metrics were computed on, mm (i, j, k). */
  spacing_mm?: [number, number, number];
  /** The prediction written (relative to the run directory). */
  pred?: string;
  /** This organ's softmax probability map (relative to the run directory), when the run was asked for it. */
  probabilities?: string;
  /**
   * Promptable models only (each organ prompted on its own, so organs' masks may overlap; overlap_voxels counts
   * this organ's predicted voxels also predicted for another organ of the case). The prompt made from the ground
   * truth, with every point and box corner as a voxel index of the labels' grid and in world mm.
   */
  prompt?: PromptRecord;
  /** clicks:N only: Dice and NSD after each click (entry 0 after the first click). */
  clicks?: Array<{ dice: number; nsd: number | null }>;
  /** Trapezoid area under Dice / NSD over click index 1..N divided by N - 1 (prompts/clicks.ts clickAuc). */
  dice_auc?: number;
  nsd_auc?: number | null;
  overlap_voxels?: number;
  /**
   * Encoder-decoder promptable cards only (docs/foundation-models.md): how often each graph ran for this organ;
   * the encoder once per organ crop, the decoder once per click.
   */
  model_runs?: { encoder: number; decoder: number };
}

/** A case error has none of them (so every record reads `r.nsd`, `r.pred`, ... as undefined there). */
type NoOrganFields = { [K in keyof OrganOnlyFields]?: undefined };

/** One organ of one case, scored. */
export interface OrganRecord extends CaseFields, OrganOnlyFields {
  /** Organ name, and its label id in the dataset. */
  organ: string;
  labelId: number;
  dice: number | null;
  volume_gt_ml: number | null;
  volume_pred_ml: number | null;
  status: OrganStatus;
  error?: undefined;
}

/**
 * A case that could not be scored (unreadable or mismatched files, a failed model run, a dataset problem): one
 * record for the whole case, in place of its organ records.
 */
export interface CaseErrorRecord extends CaseFields, NoOrganFields {
  organ: null;
  labelId: null;
  dice: null;
  volume_gt_ml: null;
  volume_pred_ml: null;
  status: 'error';
  /** What went wrong, naming the file. */
  error: string;
}

/** One line of cases.jsonl: a scored organ of a case, or a case error. */
export type CaseRecord = OrganRecord | CaseErrorRecord;

/** True for a case error (the case's one record), false for a scored organ. */
export function isCaseError(r: CaseRecord): r is CaseErrorRecord {
  return r.status === 'error' && r.organ === null;
}
