/**
 * ONNX Runtime session (CPU by default, CUDA when asked), checked against the model card before any image is
 * read: a card naming tensors the model does not have would otherwise fail on the first case with ORT's terse
 * message.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from './card/modelCard';

export class ModelError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ModelError';
  }
}

export const DEVICES = ['cpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];

export function isDevice(v: string): v is Device {
  return (DEVICES as readonly string[]).includes(v);
}

export interface SessionOptions {
  /** Intra-op threads (parallelism inside one operator); ORT's default (all cores) when absent. */
  threads?: number;
  /** Execution provider: cpu (default) or cuda (onnxruntime-node's CUDA 12 binaries, Linux x64 only). */
  device?: Device;
}

/** The flag that makes onnxruntime-node's install script fetch its CUDA binaries (its README, "CUDA EP Installation"). */
export const CUDA_INSTALL_HINT = 'npm install onnxruntime-node --onnxruntime-node-install=cuda12 (or ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node); this project\'s .npmrc sets onnxruntime-node-install=skip';

/** Where onnxruntime-node keeps its native binaries for this platform (bin/napi-v6/<platform>/<arch>). */
function ortBinaryDir(): string | undefined {
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const base = path.join(pkg, 'bin');
    for (const napi of fs.existsSync(base) ? fs.readdirSync(base) : []) {
      const dir = path.join(base, napi, process.platform, process.arch);
      if (fs.existsSync(dir)) return dir;
    }
  } catch {
    // resolved below as "not found"
  }
  return undefined;
}

/**
 * Why the CUDA execution provider cannot be used here, before ORT is asked (ORT would only say "Failed to load
 * shared library"), or undefined when its files are in place.
 */
export function cudaUnavailableReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `onnxruntime-node ships the CUDA execution provider for Linux x64 only (this is ${process.platform} ${process.arch})`;
  }
  const supported = ort.listSupportedBackends?.().some((b) => b.name === 'cuda') ?? true;
  if (!supported) return 'this onnxruntime-node build does not list the CUDA backend';
  const dir = ortBinaryDir();
  if (!dir) return 'onnxruntime-node\'s native binaries were not found';
  const missing = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'].filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length) return `onnxruntime-node's CUDA binaries are not installed: ${missing.join(', ')} missing in ${dir}`;
  return undefined;
}

export class DeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

function executionProviders(device: Device): ort.InferenceSession.SessionOptions['executionProviders'] {
  if (device === 'cpu') return ['cpu'];
  const reason = cudaUnavailableReason();
  if (reason) throw new DeviceError(`--device cuda: ${reason}. Install them with: ${CUDA_INSTALL_HINT}. The CUDA EP also needs an NVIDIA GPU with the CUDA 12 runtime and cuDNN 9 libraries on the library path.`);
  return [{ name: 'cuda', deviceId: 0 }];
}

/** ORT session options for a device and thread count (also used by bench/inference.bench.ts). */
export function sessionOptions(opts: SessionOptions = {}): ort.InferenceSession.SessionOptions {
  const device = opts.device ?? 'cpu';
  if (!isDevice(device)) throw new DeviceError(`device must be one of ${DEVICES.join(', ')} (got "${String(device)}")`);
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: executionProviders(device),
    graphOptimizationLevel: 'all',
    // one graph, run sequentially: inter-op threads would only compete with intra-op ones
    interOpNumThreads: 1,
    // no memory pattern: its pre-planned block for all of a window's activations added ~90 MiB of peak RSS on the
    // 96^3 inference benchmark at no measurable speed gain; the arena still reuses freed buffers
    enableMemPattern: false,
  };
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new Error(`threads must be a positive integer (got ${opts.threads})`);
    options.intraOpNumThreads = opts.threads;
  }
  return options;
}

export async function createSession(onnxPath: string, card: ModelCard, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  const device = opts.device ?? 'cpu';
  const options = sessionOptions(opts);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxPath, options);
  } catch (e) {
    const msg = (e as Error).message;
    if (device === 'cuda' && /cuda|shared library|provider/i.test(msg)) {
      throw new DeviceError(`--device cuda: ONNX Runtime could not start the CUDA execution provider (${msg}). It needs an NVIDIA GPU, the CUDA 12 runtime and cuDNN 9 libraries on the library path, and onnxruntime-node's CUDA binaries (${CUDA_INSTALL_HINT}).`);
    }
    throw new ModelError(onnxPath, `cannot load ONNX model (${msg})`);
  }
  try {
    checkSession(session, card, onnxPath);
  } catch (e) {
    await session.release();
    throw e;
  }
  return session;
}

const list = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

/** Card tensor names exist; the image input is a float tensor of rank 5 (batch, channel, 3 spatial dims). */
export function checkSession(session: ort.InferenceSession, card: ModelCard, onnxPath: string): void {
  const problems: string[] = [];
  if (!session.inputNames.includes(card.inputs.image)) {
    problems.push(`card inputs.image is "${card.inputs.image}" but the model's inputs are ${list(session.inputNames)}`);
  }
  // with a decoder graph the logits are the decoder's output, checked with it (decoderSession.ts)
  if (!card.decoder && !session.outputNames.includes(card.outputs.logits)) {
    problems.push(`card outputs.logits is "${card.outputs.logits}" but the model's outputs are ${list(session.outputNames)}`);
  }
  if (problems.length) throw new ModelError(onnxPath, problems.join('; '));
  const meta = session.inputMetadata?.find((m) => m.name === card.inputs.image);
  if (meta && meta.isTensor) {
    if (meta.shape.length && meta.shape.length !== 5) {
      throw new ModelError(onnxPath, `input "${meta.name}" has rank ${meta.shape.length} (shape [${meta.shape.join(', ')}]); UMD Lens feeds 3D images as rank-5 [batch, channel, d0, d1, d2]`);
    }
    if (meta.type !== 'float32') throw new ModelError(onnxPath, `input "${meta.name}" is ${meta.type}; UMD Lens feeds float32`);
  }
}

/**
 * Fixed spatial sizes the model's input declares (numbers), or null per axis when symbolic/dynamic.
 * Used to explain a shape mismatch before ORT does.
 */
export function declaredSpatialShape(session: ort.InferenceSession, inputName: string): (number | null)[] | null {
  const meta = session.inputMetadata?.find((m) => m.name === inputName);
  if (!meta || !meta.isTensor || meta.shape.length !== 5) return null;
  return meta.shape.slice(2).map((d) => (typeof d === 'number' && d > 0 ? d : null));
}

/**
 * Windows per run the model allows: `requested` when its input's batch dim is dynamic, else its fixed size
 * (1 for most exports); the note says why a larger request was reduced.
 */
export function allowedBatchSize(session: ort.InferenceSession, inputName: string, requested: number): { batchSize: number; note?: string } {
  const meta = session.inputMetadata?.find((m) => m.name === inputName);
  const dim = meta && meta.isTensor ? meta.shape[0] : undefined;
  if (typeof dim === 'number' && dim > 0 && dim !== requested) {
    return { batchSize: dim, note: `the model's input "${inputName}" has a fixed batch size of ${dim}: windows run ${dim} at a time (asked for ${requested})` };
  }
  return { batchSize: requested };
}
