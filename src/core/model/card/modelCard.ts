/**
 * The model card: how to feed a checkpoint and read its output. Written by hand as `<name>.umd.json` beside the
 * model, or derived from the files a checkpoint already ships with (see resolveCard.ts for the order).
 * Schema documented in the README ("Model card").
 */

/** Where a card came from; recorded with every run. */
export type CardSource = 'umd.json' | 'onnx-metadata' | 'nnunet' | 'monai-bundle';

export type NormalizationMethod = 'none' | 'minmax' | 'zscore' | 'clip-zscore' | 'suv-clip';

/**
 * Which voxels the per-volume statistics (mean, std, percentiles) are taken over: "nonzero" (x != 0, as MONAI's
 * NormalizeIntensity(nonzero=True) and nnU-Net's use_mask_for_norm) or {"above": t} (x > t, e.g. body vs air in
 * CT). zscore also leaves the voxels outside the mask at 0, as both libraries do.
 */
export type NormalizationMask = 'nonzero' | { above: number };

export interface Normalization {
  method: NormalizationMethod;
  /** clip-zscore, suv-clip: intensity window [lower, upper] (suv-clip: lower defaults to 0). */
  lower?: number;
  upper?: number;
  /** clip-zscore: window bounds as percentiles (0..100, numpy's linear interpolation) of this volume's voxels. */
  lowerPercentile?: number;
  upperPercentile?: number;
  /** zscore, clip-zscore: fixed mean and std (nnU-Net CTNormalization); computed per volume when absent. */
  mean?: number;
  std?: number;
  /** zscore, clip-zscore: restricts the per-volume statistics to a foreground. */
  mask?: NormalizationMask;
  /**
   * zscore with `mask`: what becomes of the voxels outside it. "zero" (default): set to 0, as MONAI's
   * NormalizeIntensity(nonzero=True) and nnU-Net's use_mask_for_norm; "scaled": z-scored like the rest with the
   * mask's statistics, as torchio's ZNormalization(masking_method=...) does (SAM-Med3D's crops).
   */
  outside?: 'zero' | 'scaled';
}

/**
 * Crop or pad before inference (after normalization), undone on the prediction. Sizes are in the tensor's
 * spatial order, like patchSize. divisibleBy: pad each axis up to a multiple (MONAI DivisiblePad); size: pad
 * or centre-crop each axis to exactly that size (MONAI ResizeWithPadOrCrop). Padding is symmetric (the odd
 * voxel after), with value 0.
 */
export type PadSpec = { divisibleBy: [number, number, number] } | { size: [number, number, number] };

/** Model input modality key used by `normalization`: lower-case modality or "*" for any. */
export type ModalityKey = 'ct' | 'mri' | 'pet' | '*';

export interface ModelCard {
  /**
   * "semantic": one forward pass labels every class. "promptable": one organ at a time from a prompt made from
   * the ground truth (points, box or clicks), on a crop of `cropSize` voxels at `spacing` around the prompt;
   * `prompt` says how the prompt is fed and `labels` must hold the foreground class (its logit vs background).
   */
  kind: 'semantic' | 'promptable';
  /**
   * kind "promptable" (required there): how prompts reach the network, see checkPromptable.ts. kind "semantic":
   * only `prompt.text`, one text query per asked class (docs/foundation-models.md section 4).
   */
  prompt?: PromptInputs;
  /** kind "promptable" only (required there): crop size in voxels, in the tensor's spatial order. */
  cropSize?: [number, number, number];
  inputs: { image: string };
  outputs: { logits: string };
  /** Patch size in voxels, in the tensor's spatial order; null feeds the whole volume. */
  patchSize: [number, number, number] | null;
  /** "kji": tensor dims (k, j, i), i fastest, NIfTI storage order; "ijk": (i, j, k) as nibabel/MONAI. */
  spatialOrder: 'kji' | 'ijk';
  /**
   * Axis codes the model expects (nibabel aff2axcodes, e.g. "RAS", "LPS"): the image is permuted and flipped to
   * them before inference and the prediction back; null (or absent) keeps the image's storage order.
   */
  orientation?: string | null;
  /** Model grid spacing in mm along i, j, k (of the reoriented image); null runs on the image's own grid. */
  spacing: [number, number, number] | null;
  normalization: Partial<Record<ModalityKey, Normalization>>;
  /** Model class id (as a string key) -> organ name. Classes not listed (background) are ignored. */
  labels: Record<string, string>;
  /** Crop/pad to a size the network accepts; absent = none. */
  pad?: PadSpec;
  /** Sliding-window overlap fraction in [0, 1); default 0.5. */
  overlap?: number;
  /** NSD tolerance (mm) this model should be scored with, per organ name or "*" for all; overrides the protocol's. */
  nsdToleranceMm?: Record<string, number>;
  /**
   * Model organ name (as in `labels`) -> dataset organ name, applied before the synonym table
   * (dataset/organSynonyms.ts); null leaves that class unscored.
   */
  organMap?: Record<string, string | null>;
  /** Scores the model's authors report per organ, kept for comparison with the scores measured here. */
  reported?: Record<string, ReportedScore>;
  /**
   * Foundation-model contracts (docs/foundation-models.md). `decoder`: a second graph run per prompt, fed the
   * outputs of this card's own graph (the encoder, run once per organ crop) named in `decoder.embeddings`.
   */
  decoder?: DecoderGraph;
  /** How the output logits become a mask: low-res size and its resize, and the activation. */
  logits?: LogitsSpec;
  /** Class-id prompts (VISTA3D): each window is told which classes to segment. */
  classPrompt?: ClassPrompt;
  /**
   * Promptable models: where the normalization's statistics come from, "crop" (the default: the crop's own, as
   * SAM-Med3D) or "image" (the whole image's, applied to the crop, as nnInteractive normalizes before cutting).
   */
  cropNormalization?: 'crop' | 'image';
  /** Promptable models: where the crop is centred ("prompt", the default, or the leaky "official" GT-box centre). */
  crop?: 'prompt' | 'official';
  /**
   * Promptable models: the family's official rule for the one simulated point of `--protocol umd-paper`
   * (docs/foundation-models.md section 6): "random" = a uniformly drawn voxel of the organ (SAM-Med3D,
   * SAM-Med3D-turbo, SegAnyPET), "center" = the interior point farthest from the boundary (the CVPR 2025
   * challenge's click, which nnInteractive's own benchmark entry receives). Absent: "center", recorded as a default.
   */
  pointRule?: PointRule;
  /** Free text shown to users. */
  name?: string;
  description?: string;
}

/** The official first-point rule of a promptable model's family (ModelCard.pointRule). */
export type PointRule = 'random' | 'center';

/**
 * How a promptable model receives its prompt; give tensor inputs (SAM-Med3D / SegVol style) or dense channels
 * (never both). Coordinates fed to tensors are voxel indices of the crop, in the tensor's spatial order
 * (`spatialOrder`), as float32.
 * - points: [B, N, 3] click coordinates, with pointLabels: [B, N] (1 positive, 0 negative, float32);
 * - box: [B, 6] = (min along the three spatial axes, then max), inclusive voxel corners;
 * - channels: prompt channels concatenated to the image channels (after them, in this order): "positive" and
 *   "negative" are 0/1 balls of radiusMm around each click of that label, "box" is the 0/1 box.
 */
export interface PromptInputs {
  points?: string;
  pointLabels?: string;
  box?: string;
  /**
   * Dense channels after the image's, in this order. "previous": the previous 0/1 prediction on the crop (zeros
   * before the first interaction); "box-negative": a negative box (never simulated: zeros); "empty": an
   * interaction the protocol never simulates (scribbles, lasso), all zeros, so the channel count matches.
   */
  channels?: Array<PromptChannel>;
  /** Radius (mm) of a click's ball in a dense channel; default 5. */
  radiusMm?: number;
  /** Radius in crop voxels instead of mm (nnInteractive's point_radius, 4); exclusive with radiusMm. */
  radiusVoxels?: number;
  /**
   * nnInteractive's interaction_decay (0 < d <= 1): the k-th of n interactions is stamped with d^(n - 1 - k) in
   * its channel instead of 1 (promptChannels.ts); absent = 1.
   */
  interactionDecay?: number;
  /** The previous output fed back on the next click (see PreviousMaskInput). */
  previousMask?: PreviousMaskInput;
  /** Value that pads pointLabels of shorter click lists (VISTA3D: -1); absent = no padding is ever needed. */
  pointPadding?: number;
  /** Precomputed text embeddings, one row per organ (SegVol, SAT). */
  text?: TextEmbeddings;
}

export type PromptChannel = 'positive' | 'negative' | 'box' | 'box-negative' | 'previous' | 'empty';

/**
 * The previous click's output, fed back: "logits" = the previous raw output logits at their own size
 * (`logits.size`; zeros before the first click, SAM-Med3D's prev_low_res_mask); "binary" = the previous 0/1 mask
 * on the crop grid. Shape [1, 1, size...].
 */
export interface PreviousMaskInput {
  input: string;
  form: 'logits' | 'binary';
}

/** A second ONNX graph (path relative to the card) fed the named outputs of the card's own graph. */
export interface DecoderGraph {
  file: string;
  /** Outputs of the encoder, passed to decoder inputs of the same names; cached across one organ's clicks. */
  embeddings: string[];
}

/**
 * size: the output's spatial size when it is low-resolution (tensor order), resized to the crop/patch with
 * `upsample` (trilinear = PyTorch F.interpolate(mode="trilinear", align_corners=False)). activation: "sigmoid"
 * = foreground (or each asked class) where logit > 0; "softmax" = argmax over channels (the default for C >= 2).
 */
export interface LogitsSpec {
  size?: [number, number, number];
  upsample?: 'trilinear' | 'nearest';
  activation?: 'sigmoid' | 'softmax';
  /**
   * Semantic models asked for their classes: what the sliding window blends, "logits" (the default: the raw
   * output, as MONAI's sliding_window_inference in VISTA3D's inferer) or "probabilities" (sigmoid of each window's
   * logits, as SAT's inference_engine.py); see classQueries.ts.
   */
  blend?: 'logits' | 'probabilities';
}

/** Class ids (the keys of `labels` being evaluated) fed to every window as an [N, 1] tensor of `dtype`. */
export interface ClassPrompt {
  input: string;
  dtype: 'int64' | 'int32';
}

/**
 * `file` (relative to the card): rows.length x dim float32 little-endian; the row of the organ being segmented
 * (and of its modality, when a row names one; a row without modality serves every modality) is fed as [1, dim].
 */
export interface TextEmbeddings {
  input: string;
  file: string;
  dim: number;
  rows: Array<{ organ: string; modality?: 'CT' | 'MRI' | 'PET' }>;
}

/** A score the model's authors report for one organ (Dice and NSD in [0, 1]) and where it is reported. */
export interface ReportedScore {
  dice?: number;
  nsd?: number;
  /** Paper, table, challenge leaderboard, URL. */
  source?: string;
}
