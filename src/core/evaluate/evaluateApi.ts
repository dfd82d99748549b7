/** What evaluateRun() takes, what it reports while it runs and what it returns. */
import type { RunSummary } from '../analysis/summary';
import type { MirrorAxis } from '../model/inference';
import type { Device } from '../model/session';
import type { ProtocolName, ToleranceOverrides, ToleranceSource } from '../metrics/protocol';
import type { PromptSpec } from '../prompts/promptSpec';
import type { ShardSpec } from '../runstore/shard';
import type { CaseRecord, RunManifest } from '../runstore/schema';

export interface EvaluateOptions {
  modelPath: string;
  datasetRoot: string;
  runDir?: string;
  runsRoot?: string;
  subjects?: readonly string[];
  threads?: number;
  /** Inference: execution provider (default cpu), sliding-window overlap (default: the card's), windows per run
   * (default 1), mirroring TTA (default off). */
  device?: Device;
  overlap?: number;
  batchSize?: number;
  tta?: boolean | readonly MirrorAxis[];
  /** Metric protocol to start from (default umd) and tolerance overrides after the card's (settings, CLI). */
  protocol?: ProtocolName;
  toleranceOverrides?: Array<[ToleranceSource, ToleranceOverrides | undefined]>;
  /**
   * Organs (dataset names) whose softmax probability is written per case to prob/<case>/<organ>.nii.gz (float32,
   * on the model's grid; an organ the model splits over several classes gets their sum), or 'all'. Off by default:
   * a whole-body probability map is hundreds of MB before compression.
   */
  probabilities?: readonly string[] | 'all';
  /** Worker threads for the surface metrics of a case's organs (default: the cores available). */
  metricThreads?: number;
  /** Largest volume read, in MiB (NIfTI ReadLimits.maxVolumeMB; default 2048): a bigger one is a case error. */
  maxVolumeMB?: number;
  /**
   * Largest memory one case's prediction may take, in GB, estimated from the image's header and the card before
   * the image is read (model/memoryEstimate.ts; default 75 % of this machine's memory): a case over it is a case
   * error naming the image, the figures and the ways out, and the run goes on.
   */
  maxMemoryGB?: number;
  /** Storage of the sliding window's blending band: float32 (default) or float16 (half its memory). */
  bandDtype?: 'float32' | 'float16';
  /** Evaluate only this shard's subjects (runstore/shard.ts); recorded in run.json, merged by `umd-lens merge`. */
  shard?: ShardSpec;
  /**
   * Continue the run in `runDir` (runstore/resume.ts): refuses when model, card, protocol, dataset or shard differ,
   * keeps every finished case as written, runs the rest; cases.jsonl ends in canonical order either way.
   */
  resume?: boolean;
  /**
   * Promptable models (card kind "promptable"): the prompt made from each organ's ground truth (default center),
   * its seed (random point, box jitter; default 0) and box jitter in mm (default 0). Refused for a semantic model.
   */
  prompt?: PromptSpec;
  promptSeed?: number;
  boxJitterMm?: number;
  signal?: AbortSignal;
  onEvent?: (e: EvaluateEvent) => void;
}

export type EvaluateEvent =
  | { type: 'started'; runDir: string; total: number }
  | { type: 'progress'; done: number; total: number; message: string; etaSeconds?: number }
  /** Within the current case (throttled): windows run so far, and the estimate of the whole run's time left. */
  | { type: 'window-progress'; done: number; total: number; windowsDone: number; windowsTotal: number; etaSeconds?: number; message: string }
  | { type: 'case-error'; caseId: string; file?: string; message: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** The last event: cases finished out of `total`, and whether the run stopped early (EvaluateResult.cancelled). */
  | { type: 'finished'; done: number; total: number; cancelled: boolean };

export interface EvaluateResult {
  runDir: string;
  manifest: RunManifest;
  records: CaseRecord[];
  summary: RunSummary;
  cancelled: boolean;
}
