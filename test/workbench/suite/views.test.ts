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

  test('Modality Gap: Reported vs measured, per organ the card\'s score, the measured mean per scan and the largest gap', async function () {
    this.timeout(300000);
    // the evaluated run with a card that reports scores (run.json's card.reported, as a card with `reported` stores it)
    const copy = path.join(api.runsRoot(), `${path.basename(runDir)}-reported`);
    fs.mkdirSync(copy);
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
      manifest.card.reported = { liver: { dice: 0.95, nsd: 0.9, source: 'paper, Table 2' }, spleen: { dice: 0.9 } };
      fs.writeFileSync(path.join(copy, 'run.json'), JSON.stringify(manifest));
      fs.copyFileSync(path.join(runDir, 'cases.jsonl'), path.join(copy, 'cases.jsonl'));
      api.runsProvider.refresh();
      await api.showAnalysis(copy);
      const view = api.gapProvider;
      assert.strictEqual(view.current()?.runDir, copy);
      const [header, section, ...organs] = view.getChildren();
      assert.strictEqual(header.kind, 'header');
      assert.strictEqual(section.kind, 'illusion');
      assert.strictEqual(organs.length, 13, 'the gap of every organ follows');
      const sectionItem = view.getTreeItem(section);
      assert.strictEqual(sectionItem.label, 'Reported vs measured');
      assert.match(String(sectionItem.description), /2 organs$/);
      const rows = view.getChildren(section) as Extract<GapNode, { kind: 'illusionOrgan' }>[];
      assert.deepStrictEqual(rows.map((r) => r.organ), ['liver', 'spleen']);
      // each scan's mean Dice recomputed from cases.jsonl; the largest reported - measured named
      const scans = [['PETCT', 'CT', 'CT'], ['PETCT', 'PET', 'PET (PET/CT)'], ['PETMRI', 'MRI', 'MRI'], ['PETMRI', 'PET', 'PET (PET/MRI)']];
      const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
      for (const [organ, reported] of [['liver', 0.95], ['spleen', 0.9]] as const) {
        const measured = scans.map(([study, modality, label]) => ({ label, m: mean(records.filter((r) => r.organ === organ && r.study === study && r.modality === modality && typeof r.dice === 'number').map((r) => r.dice as number)) }));
        const worst = measured.reduce((w, x) => (reported - x.m > reported - w.m ? x : w));
        const expected = `Dice ${reported.toFixed(3)} reported · ${measured.map((x) => `${x.label} ${x.m.toFixed(3)}`).join(' · ')} · gap ${signed(reported - worst.m)} on ${worst.label}`;
        const item = view.getTreeItem(rows.find((r) => r.organ === organ)!);
        assert.strictEqual(item.description, expected);
        const tip = (item.tooltip as vscode.MarkdownString).value;
        assert.ok(tip.includes(`| Dice | ${reported.toFixed(3)} | ${measured[0].m.toFixed(3)} (${signed(reported - measured[0].m)}) |`), tip);
        if (organ === 'liver') assert.match(tip, /\| NSD \| 0\.900 \|.*Reported: paper, Table 2\./s);
      }
      await vscode.commands.executeCommand('umdLens.gap.focus');
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
      api.runsProvider.refresh();
      await api.showAnalysis(runDir);
    }
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
