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
import { EXT_ID, evaluatedRun, lensApi, readCases } from './fixture';

suite('UMD Lens in a real extension host', () => {
  let api: UmdLensApi;
  const model = process.env.UMD_TEST_MODEL ?? '';

  suiteSetup(async () => {
    assert.ok(vscode.extensions.getExtension<UmdLensApi>(EXT_ID), `${EXT_ID} not found`);
    api = await lensApi();
  });

  test('activates lean and registers its commands', async () => {
    const cmds = await vscode.commands.getCommands(true);
    for (const c of ['umdLens.evaluate', 'umdLens.refreshRuns', 'umdLens.openCase', 'umdLens.openPairedCase', 'umdLens.setBaseline', 'umdLens.compareWithBaseline', 'umdLens.clearBaseline', 'umdLens.resumeRun']) assert.ok(cmds.includes(c), `${c} missing`);
    assert.ok(vscode.workspace.isTrusted, 'test workspace is trusted');
    assert.ok(model && fs.existsSync(model), `test model missing: ${model}`);
    // the extension bundle must not pull in onnxruntime-node or the engine
    const bundle = fs.readFileSync(path.join(vscode.extensions.getExtension(EXT_ID)!.extensionPath, 'dist', 'extension.js'), 'utf8');
    assert.ok(!bundle.includes('onnxruntime-node'), 'extension bundle references onnxruntime-node');
  });

  test('evaluate runs the model in the engine process on the generated UMD-mini dataset', async function () {
    this.timeout(900000);
    const t0 = Date.now();
    const runDir = await evaluatedRun(this);
    assert.ok(runDir, 'no run directory');
    console.log(`    run ${runDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.strictEqual(path.dirname(runDir), api.runsRoot());
    const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    assert.strictEqual(api.runsRoot(), path.join(ws, '.umd', 'runs'));
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    assert.ok(manifest.finishedAt, 'run.json has finishedAt');
    assert.ok(fs.existsSync(path.join(manifest.dataset.root, 'PETCT')) && fs.existsSync(path.join(manifest.dataset.root, 'PETMRI')), 'UMD-mini generated');
    const records: CaseRecord[] = readCases(runDir);
    assert.ok(records.length >= 13 * 4, `only ${records.length} records`);
    const scored = records.filter((r) => typeof r.dice === 'number');
    assert.ok(scored.length > records.length / 2, 'most records have a Dice');
    assert.ok(scored.every((r) => r.dice! >= 0 && r.dice! <= 1), 'Dice in [0, 1]');
    assert.ok(scored.some((r) => r.dice! > 0.05), 'some organ is actually segmented');
    const preds = fs.readdirSync(path.join(runDir, 'pred')).filter((f) => f.endsWith('.nii.gz'));
    assert.ok(preds.length >= 4, `predictions: ${preds.join(', ')}`);
  });

  test('Runs tree: run -> CT/PET/MRI -> the 13 organs -> cases worst first', async function () {
    const runDir = await evaluatedRun(this);
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

  test('Runs tree: failed cases are error items with the message naming the file', async function () {
    const runDir = await evaluatedRun(this);
    // a run whose PET/MRI PET of one subject could not be read, as the engine records it
    const failed = path.join(api.runsRoot(), `${path.basename(runDir)}-failed`);
    fs.cpSync(runDir, failed, { recursive: true });
    const message = `${path.join('/data', 'PETMRI', 'sub-001', 'PET.nii.gz')}: truncated: header declares 1000352 bytes, file has 4096`;
    const error: CaseRecord = { subject: 'sub-001', study: 'PETMRI', modality: 'PET', organ: null, labelId: null, dice: null, volume_gt_ml: null, volume_pred_ml: null, status: 'error', image: 'PETMRI/sub-001/PET.nii.gz', error: message };
    fs.appendFileSync(path.join(failed, 'cases.jsonl'), JSON.stringify(error) + '\n');
    api.runsProvider.refresh();
    const p = api.runsProvider;
    const run = p.getChildren().find((n) => n.kind === 'run' && n.run.dir === failed)!;
    const [first] = p.getChildren(run);
    assert.strictEqual(first.kind, 'failures');
    assert.strictEqual(p.getTreeItem(first).label, 'Failed cases');
    assert.strictEqual(p.getTreeItem(first).description, '1');
    const [item] = p.getChildren(first).map((n) => p.getTreeItem(n));
    assert.strictEqual(item.label, 'sub-001 · PETMRI PET');
    assert.strictEqual(item.description, message);
    assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, 'error');
    assert.ok(!String(item.description).includes('    at '), 'no stack trace');
    fs.rmSync(failed, { recursive: true, force: true });
  });

  test('Regressions: a baseline run, a run compared with it in the engine, regressions first with interval and colour', async function () {
    this.timeout(300000);
    const runDir = await evaluatedRun(this);
    // two runs made from the real one: the same cases, with CT liver Dice lowered and PET spleen Dice raised in
    // the second for every subject (different amounts, so the paired test has no ties); every other score equal
    const records: CaseRecord[] = readCases(runDir);
    const subjects = [...new Set(records.map((r) => r.subject))].sort();
    const variant = (suffix: string, liverCt: (i: number) => number, spleenPet: (i: number) => number): string => {
      const dir = path.join(api.runsRoot(), `${path.basename(runDir)}-${suffix}`);
      fs.cpSync(runDir, dir, { recursive: true });
      const rows = records.map((r) => {
        const i = subjects.indexOf(r.subject);
        if (r.organ === 'liver' && r.modality === 'CT') return { ...r, dice: liverCt(i), status: 'ok' };
        if (r.organ === 'spleen' && r.modality === 'PET') return { ...r, dice: spleenPet(i), status: 'ok' };
        return r;
      });
      fs.writeFileSync(path.join(dir, 'cases.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      return dir;
    };
    const base = variant('base', () => 0.9, () => 0.2);
    const next = variant('next', (i) => 0.6 + 0.01 * i, (i) => 0.5 + 0.02 * i);
    const liverCt = records.filter((r) => r.organ === 'liver' && r.modality === 'CT');
    assert.ok(liverCt.length >= 6, `${liverCt.length} CT liver records: the exact test needs 6 for p < 0.05`);

    await vscode.commands.executeCommand('umdLens.setBaseline', base);
    assert.strictEqual(api.baseline.get(), base);
    const runs = api.runsProvider;
    const baseNode = runs.getChildren().find((n) => n.kind === 'run' && n.run.dir === base)!;
    const baseItem = runs.getTreeItem(baseNode);
    assert.match(String(baseItem.description), /^baseline · /);
    assert.strictEqual(baseItem.contextValue, 'umdLens.run.baseline');

    const cmp = await api.compareWithBaseline(next);
    assert.ok(cmp, 'comparison from the engine');
    const cell = (organ: string, modality: string) => cmp.cells.find((c) => c.metric === 'dice' && c.organ === organ && c.modality === modality)!;
    const n = liverCt.length;
    const liverDiff = liverCt.reduce((s, r) => s + (0.6 + 0.01 * subjects.indexOf(r.subject) - 0.9), 0) / n;
    assert.strictEqual(cell('liver', 'CT').class, 'regression', JSON.stringify(cell('liver', 'CT')));
    assert.ok(Math.abs(cell('liver', 'CT').mean_diff - liverDiff) < 1e-12, `liver CT diff ${cell('liver', 'CT').mean_diff} vs ${liverDiff}`);
    assert.ok(Math.abs(cell('liver', 'CT').p - 2 / 2 ** n) < 1e-12, `exact two-sided p with all differences negative: ${cell('liver', 'CT').p}`);
    assert.strictEqual(cell('spleen', 'PET').class, 'improvement');
    assert.strictEqual(cell('spleen', 'PET').n, records.filter((r) => r.organ === 'spleen' && r.modality === 'PET').length);
    assert.ok(cmp.cells.filter((c) => c.metric === 'dice' && !(c.organ === 'liver' && c.modality === 'CT') && !(c.organ === 'spleen' && c.modality === 'PET')).every((c) => c.class === 'unchanged' && c.mean_diff === 0));

    // the view: a header, then the modality with the regression first, its regression first, red and down
    const view = api.regressionsProvider;
    const [header, ...mods] = view.getChildren();
    assert.strictEqual(header.kind, 'header');
    assert.match(String(view.getTreeItem(header).description), /^1 regressed · 1 improved · \d+ unchanged$/);
    assert.strictEqual(mods[0].kind === 'modality' && mods[0].modality, 'CT');
    const ctCells = view.getChildren(mods[0]);
    const first = view.getTreeItem(ctCells[0]);
    assert.strictEqual(first.label, 'liver');
    assert.match(String(first.description), new RegExp(`^−0\\.\\d{3} \\[−0\\.\\d{3}, −0\\.\\d{3}\\] p=0\\.\\d{3} \\(n=${n}\\)$`));
    const icon = first.iconPath as vscode.ThemeIcon;
    assert.strictEqual(icon.id, 'arrow-down');
    assert.strictEqual(icon.color?.id, 'charts.red');
    const pet = mods.find((m) => m.kind === 'modality' && m.modality === 'PET')!;
    const spleen = view.getTreeItem(view.getChildren(pet)[0]);
    assert.strictEqual(spleen.label, 'spleen');
    assert.strictEqual((spleen.iconPath as vscode.ThemeIcon).color?.id, 'charts.green');
    assert.match((spleen.tooltip as vscode.MarkdownString).value, /\| Dice \| 0\.\d{3} \| 0\.200 \|/);
    assert.match((spleen.tooltip as vscode.MarkdownString).value, /protocol: umd, NSD at 1 mm\./);
    await vscode.commands.executeCommand('umdLens.regressions.focus');

    // the view's filter and sort buttons (their quick picks take the choice as an argument)
    const listed = () => view.getChildren().filter((m) => m.kind === 'modality').flatMap((m) => view.getChildren(m))
      .map((c) => (c.kind === 'cell' ? `${c.cell.organ} ${c.cell.modality}` : '?'));
    await vscode.commands.executeCommand('umdLens.filterRegressions', 'regressions');
    assert.deepStrictEqual(listed(), ['liver CT']);
    assert.match(String(view.getTreeItem(view.getChildren()[0]).description), /^1 regressed · 1 improved · \d+ unchanged · showing regressions only$/);
    await vscode.commands.executeCommand('umdLens.filterRegressions', 'changed');
    assert.deepStrictEqual(listed().sort(), ['liver CT', 'spleen PET']);
    await vscode.commands.executeCommand('umdLens.filterRegressions', 'all');
    await vscode.commands.executeCommand('umdLens.sortRegressions', 'organ');
    const ctOrgans = view.getChildren(view.getChildren().find((m) => m.kind === 'modality' && m.modality === 'CT')).map((c) => (c.kind === 'cell' ? c.cell.organ : ''));
    assert.deepStrictEqual(ctOrgans, [...ctOrgans].sort((a, b) => a.localeCompare(b)));
    assert.ok(ctOrgans.length >= 13);
    await vscode.commands.executeCommand('umdLens.sortRegressions', 'class');

    await vscode.commands.executeCommand('umdLens.clearBaseline');
    assert.strictEqual(api.baseline.get(), undefined);
    assert.deepStrictEqual(view.getChildren(), []);
    fs.rmSync(base, { recursive: true, force: true });
    fs.rmSync(next, { recursive: true, force: true });
  });

  test('Resume Run: an interrupted run (first case kept, torn line) finishes in the engine identical to the uninterrupted one', async function () {
    this.timeout(600000);
    const runDir = await evaluatedRun(this);
    const lines = fs.readFileSync(path.join(runDir, 'cases.jsonl'), 'utf8').trim().split('\n');
    const first = JSON.parse(lines[0]) as CaseRecord;
    const firstCase = lines.filter((l) => { const r = JSON.parse(l) as CaseRecord; return r.subject === first.subject && r.study === first.study && r.modality === first.modality; });
    // as a killed run leaves it: the first case's records, half a line of the next, no finishedAt
    const partial = path.join(api.runsRoot(), `${path.basename(runDir)}-partial`);
    fs.cpSync(runDir, partial, { recursive: true });
    fs.writeFileSync(path.join(partial, 'cases.jsonl'), firstCase.join('\n') + '\n' + lines[firstCase.length].slice(0, 40));
    const manifest = JSON.parse(fs.readFileSync(path.join(partial, 'run.json'), 'utf8'));
    delete manifest.finishedAt;
    delete manifest.counts;
    fs.writeFileSync(path.join(partial, 'run.json'), JSON.stringify(manifest, null, 2));
    api.runsProvider.refresh();
    const node = api.runsProvider.getChildren().find((n) => n.kind === 'run' && n.run.dir === partial)!;
    assert.strictEqual(api.runsProvider.getTreeItem(node).contextValue, 'umdLens.run.unfinished', 'offered for resuming');

    const done = await vscode.commands.executeCommand<string | undefined>('umdLens.resumeRun', node);
    assert.strictEqual(done, partial);
    assert.strictEqual(fs.readFileSync(path.join(partial, 'cases.jsonl'), 'utf8'), fs.readFileSync(path.join(runDir, 'cases.jsonl'), 'utf8'), 'same records as the uninterrupted run');
    const resumed = JSON.parse(fs.readFileSync(path.join(partial, 'run.json'), 'utf8'));
    assert.ok(resumed.finishedAt);
    assert.strictEqual(resumed.resumed?.[0]?.casesKept, 1, JSON.stringify(resumed.resumed));
    fs.rmSync(partial, { recursive: true, force: true });
  });

  test('the engine process killed mid-run: the extension reports the running case, keeps the finished ones, still works', async function () {
    this.timeout(300000);
    const before = new Set(fs.readdirSync(api.runsRoot()));
    const running = api.evaluate(model).then(() => undefined, (e: Error) => e);
    // wait until the new run has a finished case on disk, then kill its engine (Linux: found by its command line)
    let newRun: string | undefined;
    const t0 = Date.now();
    for (;;) {
      newRun = fs.readdirSync(api.runsRoot()).map((d) => path.join(api.runsRoot(), d)).find((d) => !before.has(path.basename(d)) && fs.existsSync(path.join(d, 'cases.jsonl')) && fs.readFileSync(path.join(d, 'cases.jsonl'), 'utf8').trim().length > 0);
      if (newRun || Date.now() - t0 > 120000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(newRun, 'a new run with a finished case');
    // this extension's engine only: other checkouts on the machine may run their own tests meanwhile
    const engineJs = path.join(vscode.extensions.getExtension(EXT_ID)!.extensionPath, 'dist', 'engine.js');
    const engines = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(engineJs); } catch { return false; }
    });
    assert.strictEqual(engines.length, 1, `one engine process: ${engines.join(', ')}`);
    process.kill(Number(engines[0]), 'SIGKILL');
    const err = await running;
    assert.ok(err instanceof Error, 'the evaluation reports the crash');
    assert.match(err.message, /engine exited unexpectedly \(SIGKILL\) while evaluating PET(CT|MRI) sub-\d+ (CT|MRI|PET)/);
    assert.ok(err.message.includes(newRun), `names the kept run: ${err.message}`);
    const kept = readCases(newRun);
    assert.ok(kept.length >= 13, `${kept.length} records kept`);
    assert.ok(!JSON.parse(fs.readFileSync(path.join(newRun, 'run.json'), 'utf8')).finishedAt);
    // the extension still works: the partial run is listed, ready to resume
    api.runsProvider.refresh();
    const node = api.runsProvider.getChildren().find((n) => n.kind === 'run' && n.run.dir === newRun);
    assert.ok(node, 'partial run listed');
    assert.strictEqual(api.runsProvider.getTreeItem(node).contextValue, 'umdLens.run.unfinished');
    fs.rmSync(newRun, { recursive: true, force: true });
  });

  test('opening a case shows the NiiVue viewer, which reports the volumes drawn', async function () {
    this.timeout(180000);
    const runDir = await evaluatedRun(this);
    const records: CaseRecord[] = readCases(runDir);
    const rec = records.filter((r) => r.modality === 'CT' && (r.dice ?? 0) > 0).sort((a, b) => b.dice! - a.dice!)[0] ?? records[0];
    const panel = await vscode.commands.executeCommand<{ whenRendered(ms?: number): Promise<{ volumes: number; voxels: { gt: number; pred: number } }> }>('umdLens.openCase', runDir, rec);
    assert.ok(panel, 'panel returned');
    const r = await panel.whenRendered(150000);
    console.log(`    rendered ${rec.study}/${rec.subject} ${rec.modality} ${rec.organ}: ${JSON.stringify(r)}`);
    // image, ground truth, prediction, error map
    assert.strictEqual(r.volumes, 4);
    assert.ok(r.voxels.gt > 0, 'ground-truth organ drawn');
  });

  test('the paired view of a CT case shows the same subject\'s PET beside it', async function () {
    this.timeout(180000);
    const runDir = await evaluatedRun(this);
    const records: CaseRecord[] = readCases(runDir);
    const rec = records.find((r) => r.modality === 'CT' && r.organ && records.some((o) => o.modality === 'PET' && o.subject === r.subject && o.study === r.study && o.organ === r.organ));
    assert.ok(rec, 'a CT case with its PET in the run');
    const panel = await vscode.commands.executeCommand<{ whenRendered(ms?: number): Promise<{ caseId: string; panes?: number; volumes: number }> }>('umdLens.openPairedCase', runDir, rec);
    assert.ok(panel, 'panel returned');
    const r = await panel.whenRendered(150000);
    console.log(`    paired ${rec.study}/${rec.subject} ${rec.organ}: ${JSON.stringify(r)}`);
    assert.strictEqual(r.panes, 2);
    assert.strictEqual(r.caseId, `${rec.study}_${rec.subject}_CT`);
  });

  test('memory settings reach the engine: umdLens.limits.maxMemoryGB refuses each case with the figures, inference.bandDtype is recorded', async function () {
    this.timeout(300000);
    await evaluatedRun(this); // the dataset exists; this run only reads headers
    const cfg = vscode.workspace.getConfiguration('umdLens');
    await cfg.update('limits.maxMemoryGB', 0.01, vscode.ConfigurationTarget.Workspace);
    await cfg.update('inference.bandDtype', 'float16', vscode.ConfigurationTarget.Workspace);
    let runDir: string | undefined;
    try {
      runDir = await api.evaluate(model);
      assert.ok(runDir, 'no run directory');
      const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
      assert.strictEqual(manifest.inference.bandDtype, 'float16');
      const records = readCases(runDir);
      assert.ok(records.length >= 4, `only ${records.length} records`);
      for (const r of records) {
        assert.strictEqual(r.status, 'error', JSON.stringify(r));
        const message = (r as { error?: string }).error ?? '';
        assert.match(message, /\.nii\.gz: predicting on this image needs about [\d.]+ GB, over the limit of 0\.01 GB/);
        assert.match(message, /umdLens\.limits\.maxMemoryGB/);
      }
    } finally {
      await cfg.update('limits.maxMemoryGB', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg.update('inference.bandDtype', undefined, vscode.ConfigurationTarget.Workspace);
      // later suites read "the newest finished run": this refused one must not be it
      if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
      api.runsProvider.refresh();
    }
  });
});

suite('UMD Lens engine process control', () => {
  test('cancel sends {type:"cancel"} and the engine stops (killed after the grace period at worst)', async function () {
    this.timeout(120000);
    const { runEngine } = await import('../../../src/extension/engineClient');
    const ext = vscode.extensions.getExtension<UmdLensApi>(EXT_ID)!;
    const api = await ext.activate();
    await evaluatedRun(this);
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
