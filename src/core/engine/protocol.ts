/**
 * Messages between a host (the extension, or the CLI) and the engine process (dist/engine.js, started with
 * child_process.fork). The host sends one EngineRequest; the engine streams EngineEvents and exits.
 */
import type { CompareOptions, Comparison } from '../analysis/compare';
import type { GapOptions, GapRow, IllusionRow } from '../analysis/gap';
import type { GateResult } from '../analysis/gates';
import type { RunSummary } from '../analysis/summary';
import type { EvaluateEvent } from '../evaluate/evaluateRun';
import type { ProtocolName, ToleranceOverrides } from '../metrics/protocol';
import type { Device } from '../model/session';

export interface EvaluateRequest {
  type: 'evaluate';
  modelPath: string;
  datasetRoot: string;
  /** Run directory to create; the engine picks `<runsRoot>/<timestamp>-<model>` when absent. */
  runDir?: string;
  runsRoot?: string;
  /** Restrict to these subjects (default: all). */
  subjects?: string[];
  /** Metric protocol (default umd) and NSD tolerance overrides from the host's settings (applied after the card's). */
  protocol?: ProtocolName;
  toleranceMm?: ToleranceOverrides;
  /** Inference settings (EvaluateOptions): execution provider, intra-op threads, overlap (default: the card's),
   * windows per run, mirroring TTA over all three axes. */
  device?: Device;
  threads?: number;
  overlap?: number;
  batchSize?: number;
  tta?: boolean;
  /** Organs whose probability maps are written per case, or 'all' (EvaluateOptions.probabilities). */
  probabilities?: string[] | 'all';
  /** Continue the interrupted run in `runDir` (EvaluateOptions.resume): finished cases are kept, not recomputed. */
  resume?: boolean;
  /** Largest volume read, in MiB (EvaluateOptions.maxVolumeMB; umdLens.limits.maxVolumeMB). */
  maxVolumeMB?: number;
  /** Largest memory one case's prediction may take, in GB (EvaluateOptions.maxMemoryGB), and the band's storage. */
  maxMemoryGB?: number;
  bandDtype?: 'float32' | 'float16';
  /** Promptable models: --prompt text (center|random|box|clicks:N), seed, box jitter (EvaluateOptions.prompt...). */
  prompt?: string;
  promptSeed?: number;
  boxJitterMm?: number;
}

export interface PhantomRequest {
  type: 'phantom';
  outDir: string;
  subjects?: number;
  seed?: number;
}

/** A run against a baseline run (analysis/compare.ts), off the extension host's thread. */
export interface CompareRequest {
  type: 'compare';
  runDir: string;
  baselineDir: string;
  options?: CompareOptions;
}

/** The modality gap of one run (analysis/gap.ts): 10,000 bootstrap resamples per cell, off the host's thread. */
export interface GapRequest {
  type: 'gap';
  runDir: string;
  options?: GapOptions;
}


/**
 * A run checked against a gates file (analysis/gates.ts), off the extension host's thread. `gatesText` is the
 * editor's text when the file has unsaved changes; `baselineDir` is needed by maxRegression gates only.
 */
export interface GatesRequest {
  type: 'gates';
  runDir: string;
  gatesFile: string;
  gatesText?: string;
  baselineDir?: string;
}

export type EngineRequest = EvaluateRequest | PhantomRequest | CompareRequest | GapRequest | GatesRequest;

/** What each request's run ends with, by request type: one typed result per request, no shared optional fields. */
export interface RequestResults {
  /** `cancelled`: the run stopped early (its finished cases are kept in `runDir`, `summary` covers them). */
  evaluate: { runDir: string; summary: RunSummary; cancelled: boolean };
  compare: { comparison: Comparison };
  /** illusion: the card's reported scores vs measured (analysis/gap.ts illusion()); [] when the card reports none. */
  gap: { gap: GapRow[]; illusion: IllusionRow[] };
  gates: { gates: GateResult[] };
  phantom: { outDir: string };
}

export type RequestType = EngineRequest['type'];
export type RequestResult<T extends RequestType> = RequestResults[T];

/** The last event of a request that succeeded; `request` tells which result it carries. */
export type ResultEvent = { [T in RequestType]: { type: 'result'; request: T; result: RequestResult<T> } }[RequestType];

/**
 * The engine forwards evaluateRun's own events unchanged (one type for both: progress, window progress, case
 * errors, logs, its `finished` outcome), then ends with the request's result or its failure.
 */
export type EngineEvent =
  | EvaluateEvent
  | ResultEvent
  | { type: 'failed'; message: string };

export type CancelMessage = { type: 'cancel' };
