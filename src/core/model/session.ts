/**
 * ONNX Runtime session on the CPU, checked against the model card before any image is read: a card naming
 * tensors the model does not have would otherwise fail on the first case with ORT's terse message.
 */
import * as ort from 'onnxruntime-node';
import type { ModelCard } from './card';

export class ModelError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ModelError';
  }
}

export interface SessionOptions {
  /** Intra-op threads (parallelism inside one operator); ORT's default (all cores) when absent. */
  threads?: number;
}

export async function createSession(onnxPath: string, card: ModelCard, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    // one graph, run sequentially: inter-op threads would only compete with intra-op ones
    interOpNumThreads: 1,
  };
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new Error(`threads must be a positive integer (got ${opts.threads})`);
    options.intraOpNumThreads = opts.threads;
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxPath, options);
  } catch (e) {
    throw new ModelError(onnxPath, `cannot load ONNX model (${(e as Error).message})`);
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
  if (!session.outputNames.includes(card.outputs.logits)) {
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
