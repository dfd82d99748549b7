/**
 * Shared by the exporters' parity tests (test/integration/export*.test.ts): whether the upstream source checkouts
 * they need are given, and reading the raw float32 files their Python side writes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel, type LoadedModel } from '../../src/core/model/predict';

export const PYTHON = '/usr/bin/python3';

/**
 * Why a parity test cannot run, or undefined when it can: `need` maps an environment variable to a file that must
 * exist in the checkout it names; `modules` must import under Debian's /usr/bin/python3.
 */
export function missingUpstream(need: Record<string, string>, modules: readonly string[] = ['torch', 'onnx']): string | undefined {
  for (const [v, file] of Object.entries(need)) {
    const dir = process.env[v];
    if (!dir) return `${v} is not set (path of an upstream source checkout holding ${file})`;
    if (!fs.existsSync(path.join(dir, file))) return `${v}=${dir} has no ${file}`;
  }
  const py = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (py.status !== 0) return `${PYTHON} lacks ${modules.join(' or ')}`;
  return undefined;
}

/** A little-endian float32 file as written by numpy's tofile(). */
export function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * The exported model as the engine opens it (src/core/model/predict.ts loadModel: the card validated, the text
 * rows' size, the decoder's and prompt inputs checked against the card), with the card's warnings: an exporter
 * writes a card the engine reads without complaint. `onnx` is the card's own graph (`<name>.onnx` beside
 * `<name>.umd.json`).
 */
export async function engineLoads(onnx: string): Promise<{ card: LoadedModel['card']; warnings: string[] }> {
  const model = await loadModel(onnx, { threads: 1 });
  try {
    return { card: model.card, warnings: model.warnings };
  } finally {
    await model.close();
  }
}
