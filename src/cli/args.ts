import { DEVICES, isDevice, type Device } from '../core/model/session';
import type { MirrorAxis } from '../core/model/inference';
import { UsageError } from './usage';
import { parsePromptArg, type PromptSpec } from '../core/prompts/promptSpec';

// the argument parsing every command shares lives apart, so that a command can use it without this module's imports
// (the model's session module loads onnxruntime-node)
export { parse, positiveInt } from './argParse';


/** Inference options shared by `evaluate` and `predict`. */
export const INFERENCE_OPTIONS = {
  threads: { type: 'string' }, device: { type: 'string' }, overlap: { type: 'string' }, batch: { type: 'string' },
  tta: { type: 'boolean' }, 'tta-axes': { type: 'string' }, 'band-dtype': { type: 'string' }, 'max-memory-gb': { type: 'string' },
} as const;

export interface InferenceArgs {
  threads?: number;
  device?: Device;
  overlap?: number;
  batchSize?: number;
  tta?: boolean | MirrorAxis[];
  bandDtype?: 'float32' | 'float16';
  maxMemoryGB?: number;
}

/**
 * --threads N (>= 1), --device cpu|cuda, --overlap [0, 1), --batch N (>= 1), --tta, --tta-axes 0,1,2,
 * --band-dtype float32|float16, --max-memory-gb X (> 0).
 */
export function inferenceArgs(v: { threads?: string; device?: string; overlap?: string; batch?: string; tta?: boolean; 'tta-axes'?: string; 'band-dtype'?: string; 'max-memory-gb'?: string }): InferenceArgs {
  const out: InferenceArgs = {};
  const atLeastOne = (name: string, s: string): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${s}"`);
    return n;
  };
  if (v.threads !== undefined) out.threads = atLeastOne('threads', v.threads);
  if (v.batch !== undefined) out.batchSize = atLeastOne('batch', v.batch);
  if (v.device !== undefined) {
    if (!isDevice(v.device)) throw new UsageError(`--device must be one of ${DEVICES.join(', ')}, got "${v.device}"`);
    out.device = v.device;
  }
  if (v.overlap !== undefined) {
    const o = Number(v.overlap);
    if (v.overlap.trim() === '' || !(o >= 0 && o < 1)) throw new UsageError(`--overlap must be a number in [0, 1), got "${v.overlap}"`);
    out.overlap = o;
  }
  if (v['band-dtype'] !== undefined) {
    if (v['band-dtype'] !== 'float32' && v['band-dtype'] !== 'float16') throw new UsageError(`--band-dtype must be float32 or float16, got "${v['band-dtype']}"`);
    out.bandDtype = v['band-dtype'];
  }
  if (v['max-memory-gb'] !== undefined) {
    const g = Number(v['max-memory-gb']);
    if (v['max-memory-gb'].trim() === '' || !(g > 0) || !Number.isFinite(g)) throw new UsageError(`--max-memory-gb must be a positive number of GB, got "${v['max-memory-gb']}"`);
    out.maxMemoryGB = g;
  }
  if (v['tta-axes'] !== undefined) {
    const axes = v['tta-axes'].split(',').map((a) => a.trim());
    if (!axes.length || axes.some((a) => a !== '0' && a !== '1' && a !== '2')) throw new UsageError(`--tta-axes must list tensor axes 0, 1, 2 (e.g. 0,1,2), got "${v['tta-axes']}"`);
    out.tta = [...new Set(axes.map((a) => Number(a) as MirrorAxis))];
  } else if (v.tta) {
    out.tta = true;
  }
  return out;
}

/** Prompt options of evaluate and predict, for promptable models (see core/prompts). */
export const PROMPT_OPTIONS = {
  prompt: { type: 'string' }, 'prompt-seed': { type: 'string' }, 'box-jitter-mm': { type: 'string' },
} as const;

/** --prompt center|random|box|clicks:N, --prompt-seed N (integer >= 0), --box-jitter-mm X (>= 0). */
export function promptArgs(v: { prompt?: string; 'prompt-seed'?: string; 'box-jitter-mm'?: string }): { prompt?: PromptSpec; promptSeed?: number; boxJitterMm?: number } {
  const out: { prompt?: PromptSpec; promptSeed?: number; boxJitterMm?: number } = {};
  if (v.prompt !== undefined) {
    try {
      out.prompt = parsePromptArg(v.prompt);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (v['prompt-seed'] !== undefined) {
    const n = Number(v['prompt-seed']);
    if (!Number.isInteger(n) || n < 0 || !/^\d+$/.test(v['prompt-seed'])) throw new UsageError(`--prompt-seed must be an integer >= 0 (got "${v['prompt-seed']}")`);
    out.promptSeed = n;
  }
  if (v['box-jitter-mm'] !== undefined) {
    const x = Number(v['box-jitter-mm']);
    if (v['box-jitter-mm'].trim() === '' || !Number.isFinite(x) || x < 0) throw new UsageError(`--box-jitter-mm must be a number of mm >= 0 (got "${v['box-jitter-mm']}")`);
    out.boxJitterMm = x;
  }
  if ((out.promptSeed !== undefined || out.boxJitterMm !== undefined) && !out.prompt) out.prompt = { kind: 'center' };
  return out;
}
