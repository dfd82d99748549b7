// Restricted Mode (an untrusted workspace, Workspace Trust enforced by the real workbench): UMD Lens shows the runs
// already on disk and opens their cases, but runs no model, resumes nothing and ignores the workspace's values of
// its restricted settings. The workspace was prepared by test/workbench/run.mjs (phase 3): a copied run, the demo
// checkpoint, and a .vscode/settings.json that tries to move the runs directory.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CaseRecord } from '../../../src/core/runstore/schema';
import type { UmdLensApi } from '../../../src/extension/extension';
import type { RunsNode } from '../../../src/extension/runs/runsTree';
import { readCases } from '../suite/fixture';

const EXT_ID = 'umd-lens.umd-lens';

suite('UMD Lens in Restricted Mode (untrusted workspace)', () => {
  let api: UmdLensApi;
  const model = process.env.UMD_TEST_MODEL ?? '';
  const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  const runDirs = () => fs.readdirSync(path.join(ws(), '.umd', 'runs')).sort();

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<UmdLensApi>(EXT_ID);
    assert.ok(ext, `${EXT_ID} not found`);
    api = await ext.activate();
  });

  test('the workspace is untrusted and the extension is active (limited support)', () => {
    assert.strictEqual(vscode.workspace.isTrusted, false, 'the workbench enforces Workspace Trust');
    assert.ok(vscode.extensions.getExtension(EXT_ID)!.isActive);
    assert.ok(model && fs.existsSync(model), `test model missing: ${model}`);
  });

  test('restricted settings: the workspace cannot move the runs directory', () => {
    const attempted = (JSON.parse(fs.readFileSync(path.join(ws(), '.vscode', 'settings.json'), 'utf8')) as Record<string, string>)['umdLens.runsDirectory'];
    assert.ok(attempted && path.isAbsolute(attempted), 'the workspace settings try to move the runs directory');
    assert.notStrictEqual(vscode.workspace.getConfiguration('umdLens').get('runsDirectory'), attempted, 'the workspace value is not applied');
    assert.strictEqual(api.runsRoot(), path.join(ws(), '.umd', 'runs'));
  });

  test('viewing: the Runs tree lists the existing run with its scans and organs', () => {
    const p = api.runsProvider;
    const runs = p.getChildren().filter((n): n is Extract<RunsNode, { kind: 'run' }> => n.kind === 'run');
    assert.strictEqual(runs.length, 1, 'the copied run');
    const mods = p.getChildren(runs[0]) as Extract<RunsNode, { kind: 'modality' }>[];
    assert.deepStrictEqual(mods.map((m) => m.stats.modality), ['CT', 'PET', 'MRI']);
    assert.strictEqual(p.getChildren(mods[0]).length, 13);
  });

  test('viewing: a case opens in the viewer', async function () {
    this.timeout(180000);
    const dir = path.join(api.runsRoot(), runDirs()[0]);
    const rec: CaseRecord = readCases(dir)
      .find((r) => r.modality === 'CT' && typeof r.dice === 'number')!;
    const panel = api.openCase(dir, rec);
    const r = await panel.whenRendered(150000);
    assert.strictEqual(r.volumes, 4, 'image, ground truth, prediction and error map drawn');
    assert.ok(r.voxels.gt > 0);
  });

  test('no model runs: "Evaluate on UMD" refuses, no run directory, no engine', async () => {
    const before = runDirs();
    const result = await vscode.commands.executeCommand('umdLens.evaluate', vscode.Uri.file(model));
    assert.strictEqual(result, undefined);
    await assert.rejects(api.evaluate(model), /trusted workspaces/);
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepStrictEqual(runDirs(), before, 'no run was started');
  });

  test('no model runs: "Resume Run" refuses on the existing run and leaves it untouched', async () => {
    const dir = path.join(api.runsRoot(), runDirs()[0]);
    const cases = fs.readFileSync(path.join(dir, 'cases.jsonl'), 'utf8');
    const result = await vscode.commands.executeCommand('umdLens.resumeRun', dir);
    assert.strictEqual(result, undefined);
    await new Promise((r) => setTimeout(r, 1000));
    assert.strictEqual(fs.readFileSync(path.join(dir, 'cases.jsonl'), 'utf8'), cases);
  });
});
