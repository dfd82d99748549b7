// What the extension-host suites share, set up once per extension host whichever suite or test asks first, so
// that each runs alone (UMD_WB_GREP) as well as in the full suite: the activated extension, one evaluation of the
// test model, and the run store's own reader for cases.jsonl.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { readRun } from '../../../src/core/runstore/runStore';
import type { CaseRecord } from '../../../src/core/runstore/schema';
import type { UmdLensApi } from '../../../src/extension/extension';

export const EXT_ID = 'umd-lens.umd-lens';
/** The checkpoint the harness put in the workspace (test/workbench/run.mjs). */
export const TEST_MODEL = process.env.UMD_TEST_MODEL ?? '';
/** How long the one evaluation may take (the whole UMD-mini dataset in the engine process). */
export const EVALUATION_TIMEOUT_MS = 900000;

// on globalThis: esbuild bundles this module into each suite's file, and the suites share one extension host
interface Shared { activated?: Promise<UmdLensApi>; evaluated?: Promise<string>; evaluationDone?: boolean }
const shared: Shared = ((globalThis as { umdLensWorkbenchFixture?: Shared }).umdLensWorkbenchFixture ??= {});

export function lensApi(): Promise<UmdLensApi> {
  shared.activated ??= (async () => {
    const ext = vscode.extensions.getExtension<UmdLensApi>(EXT_ID);
    if (!ext) throw new Error(`${EXT_ID} not found`);
    return ext.activate();
  })();
  return shared.activated;
}

/**
 * The run directory of the test model evaluated on the generated UMD-mini dataset: evaluated by the first caller,
 * shared by the others. Pass the mocha context so that a test that runs first gets the evaluation's timeout.
 */
export function evaluatedRun(ctx?: Mocha.Context): Promise<string> {
  if (!shared.evaluationDone) ctx?.timeout(Math.max(ctx.timeout(), EVALUATION_TIMEOUT_MS));
  shared.evaluated ??= (async () => {
    const dir = await (await lensApi()).evaluate(TEST_MODEL);
    if (!dir) throw new Error('the evaluation returned no run directory');
    shared.evaluationDone = true;
    return dir;
  })();
  return shared.evaluated;
}

/** Finished runs under the runs root, newest first. */
export function finishedRuns(runsRoot: string): string[] {
  if (!fs.existsSync(runsRoot)) return [];
  return fs.readdirSync(runsRoot).sort().reverse().map((d) => path.join(runsRoot, d)).filter((d) => {
    try { return !!readRun(d).manifest.finishedAt; } catch { return false; }
  });
}

/** A run's case records, read as the engine reads them. */
export function readCases(runDir: string): CaseRecord[] {
  return readRun(runDir).cases;
}
