// The analysis views in the real extension host, on the run the main suite evaluated (the newest finished run):
// Modality Gap (computed in the engine process) and Failure Cases, checked against values computed here from the
// run's cases.jsonl; the Runs view's headline and the confinement of "Delete Run".
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CaseRecord } from '../../../src/core/runstore/schema';
import type { UmdLensApi } from '../../../src/extension/extension';
import type { GapNode } from '../../../src/extension/analysis/gapTree';
import type { FailuresNode } from '../../../src/extension/analysis/failuresTree';
import { evaluatedRun, finishedRuns, lensApi, readCases } from './fixture';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

suite('UMD Lens analysis views', () => {
  let api: UmdLensApi;
  let runDir: string;
  let records: CaseRecord[];

  suiteSetup(async function () {
    api = await lensApi();
    // run alone, the suite makes the evaluation the main suite would have made
    if (!finishedRuns(api.runsRoot()).length) await evaluatedRun(this);
    const finished = finishedRuns(api.runsRoot());
    assert.ok(finished.length, 'a finished run from the main suite');
    // the newest of the largest runs: watch mode's quick runs (one subject) may be newer
    const read = readCases;
    const sized = finished.map((d) => ({ d, n: read(d).length }));
    const most = Math.max(...sized.map((x) => x.n));
    runDir = sized.find((x) => x.n === most)!.d;
    records = read(runDir);
  });

  const dice = (subject: string, study: string, modality: string, organ: string) =>
    records.find((r) => r.subject === subject && r.study === study && r.modality === modality && r.organ === organ)?.dice;

  test('Modality Gap: organ -> CT vs PET / MRI vs PET / CT vs MRI with paired means from the same subjects, worst drops first', async function () {
    this.timeout(300000);
    await api.showAnalysis(runDir);
    const view = api.gapProvider;
    assert.strictEqual(view.current()?.runDir, runDir);
    const [header, ...organs] = view.getChildren();
    assert.strictEqual(header.kind, 'header');
    assert.strictEqual(organs.length, 13, 'every organ');
    const liver = organs.find((o) => o.kind === 'organ' && o.organ === 'liver') as Extract<GapNode, { kind: 'organ' }>;
    const pairs = view.getChildren(liver) as Extract<GapNode, { kind: 'pair' }>[];
    assert.deepStrictEqual(pairs.map((p) => view.getTreeItem(p).label), ['CT vs PET', 'MRI vs PET', 'CT vs MRI']);
    // CT vs PET of the PET/CT study, recomputed from the records: subjects with both scans scored
    const subjects = [...new Set(records.map((r) => r.subject))].sort();
    const kept = subjects.map((s) => ({ s, a: dice(s, 'PETCT', 'CT', 'liver'), b: dice(s, 'PETCT', 'PET', 'liver') }))
      .filter((x): x is { s: string; a: number; b: number } => typeof x.a === 'number' && typeof x.b === 'number');
    const row = pairs[0].row;
    assert.strictEqual(row.n, kept.length);
    assert.ok(Math.abs(row.mean_a - mean(kept.map((k) => k.a))) < 1e-12);
    assert.ok(Math.abs(row.mean_b - mean(kept.map((k) => k.b))) < 1e-12);
    assert.ok(Math.abs(row.mean_diff - mean(kept.map((k) => k.a - k.b))) < 1e-12);
    assert.ok(row.ci_low <= row.mean_diff && row.mean_diff <= row.ci_high);
    assert.match(String(view.getTreeItem(pairs[0]).description), /^CT 0\.\d{3} → PET 0\.\d{3} · Δ [+−]\d\.\d{3} \[[+−]\d\.\d{3}, [+−]\d\.\d{3}\] · p\(Holm\) (<0\.001|\d\.\d{3}) \(n=\d+\)$/);
    // the subjects that drop most, worst first, each opening its PET scan in the paired view
    const subs = view.getChildren(pairs[0]) as Extract<GapNode, { kind: 'subject' }>[];
    const expected = [...kept].sort((x, y) => (y.a - y.b) - (x.a - x.b) || x.s.localeCompare(y.s)).slice(0, 5).map((k) => k.s);
    assert.deepStrictEqual(subs.map((n) => n.subject.subject), expected);
    const item = view.getTreeItem(subs[0]);
    assert.strictEqual(item.command?.command, 'umdLens.openPairedCase');
    const rec = item.command!.arguments![1] as CaseRecord;
    assert.deepStrictEqual([rec.subject, rec.study, rec.modality, rec.organ], [expected[0], 'PETCT', 'PET', 'liver']);
    // organs with the largest gap to PET first
    const worst = (o: GapNode) => Math.max(...(o as Extract<GapNode, { kind: 'organ' }>).rows.filter((r) => r.metric === 'dice' && r.pair !== 'CT-MRI').map((r) => r.mean_diff));
    const order = organs.map(worst);
    assert.deepStrictEqual(order, [...order].sort((a, b) => b - a));
    await vscode.commands.executeCommand('umdLens.gap.focus');
  });

  test('Failure Cases: organ -> scan -> the lowest-Dice cases, as many as the setting says', async () => {
    const view = api.failuresProvider;
    assert.strictEqual(view.current()?.dir, runDir);
    const [header, ...organs] = view.getChildren();
    assert.strictEqual(header.kind, 'header');
    const lowest = (organ: string) => Math.min(...records.filter((r) => r.organ === organ && typeof r.dice === 'number').map((r) => r.dice as number));
    const lows = organs.map((o) => lowest((o as Extract<FailuresNode, { kind: 'organ' }>).organ));
    assert.deepStrictEqual(lows, [...lows].sort((a, b) => a - b), 'worst organ first');
    const first = organs[0] as Extract<FailuresNode, { kind: 'organ' }>;
    for (const scan of view.getChildren(first) as Extract<FailuresNode, { kind: 'scan' }>[]) {
      const cases = view.getChildren(scan) as Extract<FailuresNode, { kind: 'case' }>[];
      const mine = records.filter((r) => r.organ === first.organ && r.modality === scan.group.modality && typeof r.dice === 'number')
        .map((r) => r.dice as number).sort((a, b) => a - b);
      assert.deepStrictEqual(cases.map((c) => c.record.dice), mine.slice(0, 3));
      assert.strictEqual(view.getTreeItem(cases[0]).command?.command, 'umdLens.openCase');
    }
    await vscode.workspace.getConfiguration('umdLens').update('failureCases.perOrganAndScan', 1, vscode.ConfigurationTarget.Workspace);
    try {
      const scans = view.getChildren(view.getChildren()[1]);
      assert.ok(scans.every((s) => view.getChildren(s).length === 1));
    } finally {
      await vscode.workspace.getConfiguration('umdLens').update('failureCases.perOrganAndScan', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('Runs view: each run shows its date, protocol and mean Dice per scan', () => {
    const p = api.runsProvider;
    const node = p.getChildren().find((n) => n.kind === 'run' && n.run.dir === runDir)!;
    const desc = String(p.getTreeItem(node).description);
    const ct = mean([...new Set(records.filter((r) => r.modality === 'CT' && r.organ).map((r) => r.organ!))]
      .map((o) => mean(records.filter((r) => r.modality === 'CT' && r.organ === o && typeof r.dice === 'number').map((r) => r.dice as number))));
    assert.match(desc, new RegExp(` · umd · Dice CT ${ct.toFixed(3)} · PET \\d\\.\\d{3} · MRI \\d\\.\\d{3}$`));
  });

  test('Delete Run touches nothing outside the runs directory', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-not-a-run-'));
    fs.writeFileSync(path.join(outside, 'run.json'), '{}');
    const deleted = await vscode.commands.executeCommand('umdLens.deleteRun', outside);
    assert.strictEqual(deleted, false);
    assert.ok(fs.existsSync(path.join(outside, 'run.json')), 'left alone');
    fs.rmSync(outside, { recursive: true, force: true });
  });
});
