// In the real extension host (code-server), against the real engine process: evaluate a checkpoint on the
// engine-generated UMD-mini dataset, then check the run files, the Runs tree and the case viewer.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { DEFAULT_ORGANS } from '../../../src/core/dataset/organs';
import type { CaseRecord } from '../../../src/core/runstore/schema';
import type { UmdLensApi } from '../../../src/extension/extension';
import type { RunsNode } from '../../../src/extension/runs/runsTree';

const EXT_ID = 'umd-lens.umd-lens';

suite('UMD Lens in a real extension host', () => {
  let api: UmdLensApi;
  let runDir: string;
  const model = process.env.UMD_TEST_MODEL ?? '';

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<UmdLensApi>(EXT_ID);
    assert.ok(ext, `${EXT_ID} not found`);
    api = await ext.activate();
  });

  test('activates lean and registers its commands', async () => {
    const cmds = await vscode.commands.getCommands(true);
    for (const c of ['umdLens.evaluate', 'umdLens.refreshRuns', 'umdLens.openCase']) assert.ok(cmds.includes(c), `${c} missing`);
    assert.ok(vscode.workspace.isTrusted, 'test workspace is trusted');
    assert.ok(model && fs.existsSync(model), `test model missing: ${model}`);
    // the extension bundle must not pull in onnxruntime-node or the engine
    const bundle = fs.readFileSync(path.join(vscode.extensions.getExtension(EXT_ID)!.extensionPath, 'dist', 'extension.js'), 'utf8');
    assert.ok(!bundle.includes('onnxruntime-node'), 'extension bundle references onnxruntime-node');
  });

  test('evaluate runs the model in the engine process on the generated UMD-mini dataset', async function () {
    this.timeout(900000);
    const t0 = Date.now();
    const dir = await api.evaluate(model);
    assert.ok(dir, 'no run directory');
    runDir = dir;
    console.log(`    run ${runDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.strictEqual(path.dirname(runDir), api.runsRoot());
    const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    assert.strictEqual(api.runsRoot(), path.join(ws, '.umd', 'runs'));
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    assert.ok(manifest.finishedAt, 'run.json has finishedAt');
    assert.ok(fs.existsSync(path.join(manifest.dataset.root, 'PETCT')) && fs.existsSync(path.join(manifest.dataset.root, 'PETMRI')), 'UMD-mini generated');
    const records: CaseRecord[] = fs.readFileSync(path.join(runDir, 'cases.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(records.length >= 13 * 4, `only ${records.length} records`);
    const scored = records.filter((r) => typeof r.dice === 'number');
    assert.ok(scored.length > records.length / 2, 'most records have a Dice');
    assert.ok(scored.every((r) => r.dice! >= 0 && r.dice! <= 1), 'Dice in [0, 1]');
    assert.ok(scored.some((r) => r.dice! > 0.05), 'some organ is actually segmented');
    const preds = fs.readdirSync(path.join(runDir, 'pred')).filter((f) => f.endsWith('.nii.gz'));
    assert.ok(preds.length >= 4, `predictions: ${preds.join(', ')}`);
  });

  test('Runs tree: run -> CT/PET/MRI -> the 13 organs -> cases worst first', async () => {
    assert.ok(runDir, 'needs the evaluation');
    const p = api.runsProvider;
    const roots = p.getChildren();
    const runNode = roots.find((n) => n.kind === 'run' && n.run.dir === runDir);
    assert.ok(runNode, 'run listed');
    const runItem = p.getTreeItem(runNode);
    assert.strictEqual(runItem.label, path.basename(model, '.onnx'));
    const mods = p.getChildren(runNode) as Extract<RunsNode, { kind: 'modality' }>[];
    assert.deepStrictEqual(mods.map((m) => m.stats.modality), ['CT', 'PET', 'MRI']);
    for (const m of mods) {
      assert.match(String(p.getTreeItem(m).description), /^mean Dice \d\.\d{3} · NSD \d\.\d{3} · 13 organs$/);
      const organs = p.getChildren(m) as Extract<RunsNode, { kind: 'organ' }>[];
      assert.deepStrictEqual(organs.map((o) => o.stats.organ), DEFAULT_ORGANS.map((o) => o.name), `${m.stats.modality} organs`);
      for (const o of organs) {
        if (o.stats.meanNsd !== null) assert.match(String(p.getTreeItem(o).description), /^Dice \d\.\d{3} · NSD \d\.\d{3} \(n=\d+/);
        const cases = p.getChildren(o) as Extract<RunsNode, { kind: 'case' }>[];
        assert.ok(cases.length > 0);
        const d = cases.map((c) => c.record.dice ?? Infinity);
        assert.deepStrictEqual(d, [...d].sort((a, b) => a - b), 'worst first');
        const item = p.getTreeItem(cases[0]);
        assert.strictEqual(item.command?.command, 'umdLens.openCase');
        assert.match(String(item.label), /^sub-\d+ · PET(CT|MRI)$/);
      }
    }
    await vscode.commands.executeCommand('umdLens.runs.focus');
  });

  test('opening a case shows the NiiVue viewer, which reports the volumes drawn', async function () {
    this.timeout(180000);
    const records: CaseRecord[] = fs.readFileSync(path.join(runDir, 'cases.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const rec = records.filter((r) => r.modality === 'CT' && (r.dice ?? 0) > 0).sort((a, b) => b.dice! - a.dice!)[0] ?? records[0];
    const panel = await vscode.commands.executeCommand<{ whenRendered(ms?: number): Promise<{ volumes: number; voxels: { gt: number; pred: number } }> }>('umdLens.openCase', runDir, rec);
    assert.ok(panel, 'panel returned');
    const r = await panel.whenRendered(150000);
    console.log(`    rendered ${rec.study}/${rec.subject} ${rec.modality} ${rec.organ}: ${JSON.stringify(r)}`);
    assert.strictEqual(r.volumes, 3);
    assert.ok(r.voxels.gt > 0, 'ground-truth organ drawn');
  });
});

suite('UMD Lens engine process control', () => {
  test('cancel sends {type:"cancel"} and the engine stops (killed after the grace period at worst)', async function () {
    this.timeout(120000);
    const { runEngine } = await import('../../../src/extension/engineClient');
    const ext = vscode.extensions.getExtension<UmdLensApi>(EXT_ID)!;
    const api = await ext.activate();
    const runs = api.runsProvider.runs().filter((r): r is Exclude<typeof r, { error: string }> => !('error' in r));
    assert.ok(runs.length, 'needs a finished run (dataset root)');
    const datasetRoot = runs[0].manifest.dataset.root;
    const ac = new AbortController();
    const events: string[] = [];
    const t0 = Date.now();
    const done = await runEngine({
      enginePath: path.join(ext.extensionPath, 'dist', 'engine.js'),
      request: { type: 'evaluate', modelPath: process.env.UMD_TEST_MODEL!, datasetRoot, runsRoot: path.join(api.runsRoot(), '..', 'cancelled-runs') },
      signal: ac.signal,
      graceMs: 3000,
      onEvent: (e) => {
        events.push(e.type);
        if (e.type === 'started' || e.type === 'progress') ac.abort();
      },
    });
    console.log(`    engine stopped ${Date.now() - t0} ms after start; events: ${[...new Set(events)].join(', ')}`);
    assert.strictEqual(done.cancelled, true);
    assert.ok(Date.now() - t0 < 60000, 'stopped promptly');
  });
});
