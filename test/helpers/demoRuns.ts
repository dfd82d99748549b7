/**
 * Real evaluation runs shared by the analysis and report tests: UMD-mini (6 subjects, phantom seed 1, the demo's
 * dataset, held out from both demo models' training seed 1001) evaluated by both demo checkpoints through the
 * engine's evaluateRun, exactly as `umd-lens evaluate` does.
 *
 * Evaluating 2 x 24 cases takes minutes, so the result is cached on disk across test processes under
 * `<os.tmpdir()>/umd-lens-test-cache/<key>`, where key hashes the two models' sha256, the phantom parameters and
 * the package version. It is built in a temporary sibling directory and renamed into place in one step, so a
 * concurrent or interrupted build never leaves a half-written cache behind; a process that loses the rename race
 * uses the winner's copy. Delete the directory to force a rebuild (e.g. after changing inference code, which the
 * key does not cover).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { evaluateRun, sha256File } from '../../src/core/evaluate/evaluateRun';
import { generatePhantom } from '../../src/core/phantom';
import { repoRoot } from './realData';

export const DEMO_PHANTOM = { subjects: 6, seed: 1 } as const;

export interface DemoRuns {
  /** The generated UMD-mini dataset root. */
  dataset: string;
  /** Run directory of models/umd-mini-ct-only.onnx on it. */
  ctOnly: string;
  /** Run directory of models/umd-mini-all-modalities.onnx on it. */
  multimodal: string;
}

function layout(root: string): DemoRuns {
  return { dataset: path.join(root, 'umd-mini'), ctOnly: path.join(root, 'runs', 'ct-only'), multimodal: path.join(root, 'runs', 'multimodal') };
}

function complete(root: string): boolean {
  return fs.existsSync(path.join(root, 'done.json'));
}

let pending: Promise<DemoRuns> | undefined;

export async function demoRuns(): Promise<{ dataset: string; ctOnly: string; multimodal: string }> {
  pending ??= build();
  return pending;
}

async function build(): Promise<DemoRuns> {
  const root = repoRoot();
  const models = { ctOnly: path.join(root, 'models', 'umd-mini-ct-only.onnx'), multimodal: path.join(root, 'models', 'umd-mini-all-modalities.onnx') };
  const version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const shas = { ctOnly: await sha256File(models.ctOnly), multimodal: await sha256File(models.multimodal) };
  const key = crypto.createHash('sha256').update(JSON.stringify({ shas, phantom: DEMO_PHANTOM, version })).digest('hex').slice(0, 16);
  const cacheRoot = path.join(os.tmpdir(), 'umd-lens-test-cache');
  const final = path.join(cacheRoot, key);
  if (complete(final)) return layout(final);

  fs.mkdirSync(cacheRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(cacheRoot, `${key}.building-`));
  try {
    const dirs = layout(tmp);
    await generatePhantom({ outDir: dirs.dataset, subjects: DEMO_PHANTOM.subjects, seed: DEMO_PHANTOM.seed });
    for (const which of ['ctOnly', 'multimodal'] as const) {
      const result = await evaluateRun({ modelPath: models[which], datasetRoot: dirs.dataset, runDir: dirs[which] });
      if (result.cancelled) throw new Error(`demoRuns: evaluation of ${models[which]} was cancelled`);
    }
    // run.json and cases.jsonl record absolute paths (dataset root, images): point them at the final location
    for (const which of ['ctOnly', 'multimodal'] as const) {
      for (const file of ['run.json', 'cases.jsonl']) {
        const f = path.join(dirs[which], file);
        fs.writeFileSync(f, fs.readFileSync(f, 'utf8').split(JSON.stringify(tmp).slice(1, -1)).join(JSON.stringify(final).slice(1, -1)));
      }
    }
    fs.writeFileSync(path.join(tmp, 'done.json'), JSON.stringify({ shas, phantom: DEMO_PHANTOM, version }) + '\n');
    try {
      fs.renameSync(tmp, final);
    } catch (e) {
      // another process finished first (the target exists and is not empty): use its copy
      if (!complete(final)) throw e;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return layout(final);
}
