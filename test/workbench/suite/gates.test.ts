// While developing, in the real extension host: gate diagnostics checked in the engine process, model card
// diagnostics, CodeLens with the newest run's numbers, the gates as tests, watch mode. Runs after
// extension.test.ts (files load in name order) and reuses its evaluation as the newest run.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CaseRecord } from '../../../src/core/runstore/schema';
import type { UmdLensApi } from '../../../src/extension/extension';
import { evaluatedRun, finishedRuns, lensApi, readCases } from './fixture';

const GATES = `{
  "gates": [
    { "organ": "liver", "modality": "CT", "minDice": 0 },
    { "organ": "spleen", "modality": "CT", "minDice": 0.999 }
  ]
}
`;
const BAD_CARD = `{
  "kind": "semantic",
  "inputs": { "image": "image" },
  "outputs": { "logits": "logits" },
  "patchSize": "64",
  "spatialOrder": "kji",
  "spacing": null,
  "normalization": { "*": { "method": "zscore" } },
  "labels": { "1": "liver", "2": "tumour" },
  "colour": "blue"
}
`;

const records = (runDir: string): CaseRecord[] => readCases(runDir);
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function cell(runDir: string, organ: string, modality: string) {
  const rs = records(runDir).filter((r) => r.organ === organ && r.modality === modality);
  const dice = rs.filter((r) => typeof r.dice === 'number').map((r) => r.dice!);
  const nsd = rs.filter((r) => typeof r.nsd === 'number').map((r) => r.nsd!);
  const worst = rs.filter((r) => typeof r.dice === 'number').sort((a, b) => a.dice! - b.dice! || `${a.subject}${a.study}`.localeCompare(`${b.subject}${b.study}`))[0];
  return { dice: meanOf(dice), nsd: meanOf(nsd), n: dice.length, worst };
}
async function until<T>(what: string, f: () => T | undefined | false, ms = 30000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));

suite('UMD Lens while developing: gates, cards, CodeLens, tests, watch mode', () => {
  let api: UmdLensApi;
  let ws: string;
  let runDir: string;
  let gatesUri: vscode.Uri;

  suiteSetup(async function () {
    this.timeout(900000);
    api = await lensApi();
    ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    runDir = finishedRuns(api.runsRoot())[0] ?? (await evaluatedRun(this));
    assert.ok(runDir, 'a finished run');
    gatesUri = vscode.Uri.file(path.join(ws, 'umd.gates.json'));
    fs.writeFileSync(gatesUri.fsPath, GATES);
  });

  test('gates file: the failing gate is a diagnostic at its line with the measured value, the threshold and a link to its cases', async function () {
    this.timeout(120000);
    const evaluations = await api.devLoop.checkGates();
    const mine = evaluations.find((e) => e.uri.fsPath === gatesUri.fsPath);
    assert.ok(mine, `gates file found: ${evaluations.map((e) => e.uri.fsPath).join(', ')}`);
    assert.strictEqual(mine.runDir, runDir, 'checked against the newest run');
    assert.strictEqual(mine.results?.length, 2, JSON.stringify(mine.results));
    const spleen = cell(runDir, 'spleen', 'CT');
    assert.ok(spleen.n > 0 && spleen.dice < 0.999, `spleen CT Dice ${spleen.dice}`);
    // the file watcher may have started a check of the new file too: the later one sets the diagnostics
    const gateDiags = () => vscode.languages.getDiagnostics(gatesUri).filter((d) => d.source === 'UMD Lens gates');
    await until('the gate diagnostic', () => gateDiags().length > 0, 60000);
    const diags = gateDiags();
    assert.strictEqual(diags.length, 1, diags.map((d) => d.message).join('\n'));
    const [d] = diags;
    assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Error);
    const line = lineOf(GATES, '"spleen"');
    assert.strictEqual(d.range.start.line, line);
    const col = GATES.split('\n')[line].indexOf('"minDice"');
    assert.deepStrictEqual([d.range.start.character, d.range.end.character], [col, col + '"minDice"'.length]);
    assert.strictEqual(d.message, `spleen CT: mean Dice ${spleen.dice.toFixed(3)} < minDice 0.999 (n=${spleen.n}) — run ${path.basename(runDir)}`);
    const code = d.code as { value: string; target: vscode.Uri };
    assert.strictEqual(code.target.scheme, 'command');
    assert.strictEqual(code.target.path, 'umdLens.openGateFailures');
    assert.deepStrictEqual(JSON.parse(decodeURIComponent(code.target.query)), [runDir, 'spleen', 'CT']);
    const cmds = await vscode.commands.getCommands(true);
    assert.ok(cmds.includes('umdLens.openGateFailures'));
  });

  test('model card: unknown key, bad type and an organ that maps to nothing are diagnostics at their keys', async function () {
    this.timeout(60000);
    const file = path.join(ws, 'cards', 'bad.umd.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, BAD_CARD);
    const doc = await vscode.workspace.openTextDocument(file);
    const diags = await until('card diagnostics', () => { const d = vscode.languages.getDiagnostics(doc.uri); return d.length ? d : undefined; });
    const summary = diags.map((x) => `${x.range.start.line}:${x.range.start.character} ${x.severity} ${x.message}`).sort();
    assert.strictEqual(diags.length, 3, summary.join('\n'));
    const at = (needle: string) => {
      const line = lineOf(BAD_CARD, needle);
      const d = diags.find((x) => x.range.start.line === line);
      assert.ok(d, `no diagnostic on line ${line} (${needle}): ${summary.join('; ')}`);
      assert.strictEqual(d.range.start.character, BAD_CARD.split('\n')[line].indexOf(needle));
      return d;
    };
    const bad = at('"patchSize"');
    assert.strictEqual(bad.severity, vscode.DiagnosticSeverity.Error);
    assert.strictEqual(bad.message, 'patchSize must be [a,b,c] positive integers or null (got "64")');
    const unknown = at('"colour"');
    assert.strictEqual(unknown.severity, vscode.DiagnosticSeverity.Warning);
    assert.strictEqual(unknown.message, 'unknown key colour (ignored)');
    const organ = at('"tumour"');
    assert.strictEqual(organ.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(organ.message, /^labels\.2: "tumour" maps to no UMD organ/);
    assert.ok(diags.every((x) => x.source === 'UMD Lens card'));
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  test('CodeLens: each gate organ and each card class shows the newest run\'s Dice and NSD, and opens the worst case', async function () {
    this.timeout(60000);
    // the provider command reads the editor model: the documents are opened (not shown) first
    await vscode.workspace.openTextDocument(gatesUri);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', gatesUri, 10);
    const spleenLine = lineOf(GATES, '"spleen"');
    const spleen = cell(runDir, 'spleen', 'CT');
    const onLine = lenses.filter((l) => l.range.start.line === spleenLine);
    assert.deepStrictEqual(onLine.map((l) => l.command?.title), [
      `$(pulse) spleen · CT Dice ${spleen.dice.toFixed(3)} NSD ${spleen.nsd.toFixed(3)}`,
      `$(go-to-file) open worst case (${spleen.worst.subject} CT, Dice ${spleen.worst.dice!.toFixed(3)})`,
    ]);
    assert.strictEqual(onLine[1].command?.command, 'umdLens.openCase');
    assert.deepStrictEqual(onLine[1].command?.arguments, [runDir, spleen.worst]);
    assert.strictEqual(lenses.filter((l) => l.range.start.line === lineOf(GATES, '"liver"')).length, 2);

    // the demo card: its classes are dataset organs, scored in the newest run of that model in every modality
    const card = vscode.Uri.file(process.env.UMD_TEST_MODEL!.replace(/\.onnx$/, '.umd.json'));
    const cardText = fs.readFileSync(card.fsPath, 'utf8');
    await vscode.workspace.openTextDocument(card);
    const cardLenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', card, 10);
    const liverLine = lineOf(cardText, '"liver"');
    const liver = (await Promise.all(['CT', 'PET', 'MRI'].map((m) => cell(runDir, 'liver', m))));
    const title = cardLenses.find((l) => l.range.start.line === liverLine && l.command?.title.startsWith('$(pulse)'))?.command?.title;
    assert.strictEqual(title, `$(pulse) liver · ${['CT', 'PET', 'MRI'].map((m, i) => `${m} Dice ${liver[i].dice.toFixed(3)} NSD ${liver[i].nsd.toFixed(3)}`).join(' · ')}`);
  });

  test('Testing API: one item per gate; a run reports the failing gate with expected and actual at its line', async function () {
    this.timeout(120000);
    const tests = api.devLoop.tests;
    await tests.discover();
    const file = tests.controller.items.get(gatesUri.toString());
    assert.ok(file, 'gates file listed');
    const ids: string[] = [];
    file.children.forEach((c) => { ids.push(c.id); });
    assert.deepStrictEqual(ids.sort(), [`${gatesUri.toString()}#gates[0].minDice`, `${gatesUri.toString()}#gates[1].minDice`]);
    assert.strictEqual(file.children.get(`${gatesUri.toString()}#gates[1].minDice`)!.label, 'spleen · CT · minDice 0.999');

    const cts = new vscode.CancellationTokenSource();
    await tests.run(new vscode.TestRunRequest([file]), cts.token);
    const pass = tests.lastOutcomes.get(`${gatesUri.toString()}#gates[0].minDice`);
    const fail = tests.lastOutcomes.get(`${gatesUri.toString()}#gates[1].minDice`);
    assert.strictEqual(pass?.state, 'passed');
    assert.strictEqual(fail?.state, 'failed');
    assert.strictEqual(fail.messages.length, 1);
    const [m] = fail.messages;
    const spleen = cell(runDir, 'spleen', 'CT');
    assert.strictEqual(m.expectedOutput, 'spleen CT mean Dice >= 0.999');
    assert.strictEqual(m.actualOutput, `spleen CT mean Dice ${spleen.dice.toFixed(3)}`);
    assert.strictEqual(m.location?.uri.fsPath, gatesUri.fsPath);
    assert.strictEqual(m.location?.range.start.line, lineOf(GATES, '"spleen"'));
  });

  test('watch mode: rewriting the watched .onnx evaluates a subset in the engine, then the status bar and the diagnostics update', async function () {
    this.timeout(600000);
    const dir = path.join(ws, 'watched');
    fs.mkdirSync(dir, { recursive: true });
    const model = path.join(dir, 'watched-model.onnx');
    fs.copyFileSync(process.env.UMD_TEST_MODEL!, model);
    fs.copyFileSync(process.env.UMD_TEST_MODEL!.replace(/\.onnx$/, '.umd.json'), path.join(dir, 'watched-model.umd.json'));
    const watch = api.devLoop.watch;
    const cfg = vscode.workspace.getConfiguration('umdLens');
    await cfg.update('watch.subset', 1, vscode.ConfigurationTarget.Workspace);
    await cfg.update('watch.glob', 'watched/*.onnx', vscode.ConfigurationTarget.Workspace);
    await until('the watch status', () => watch.status.text === '$(eye) UMD watch');
    await new Promise((r) => setTimeout(r, 1500));
    const finished = new Promise<{ runDir: string; subjects: string[] }>((resolve) => { const s = watch.onDidFinish((e) => { s.dispose(); resolve(e); }); });
    fs.writeFileSync(model, fs.readFileSync(model)); // a training loop writing the checkpoint again
    await until('the watch evaluation to start', () => watch.status.text.startsWith('$(sync~spin) UMD watch: watched-model.onnx'), 60000);
    const run = await finished;
    try {
      assert.strictEqual(run.subjects.length, 1);
      const recs = records(run.runDir);
      assert.deepStrictEqual([...new Set(recs.map((r) => r.subject))], run.subjects, 'only the subset');
      assert.strictEqual(JSON.parse(fs.readFileSync(path.join(run.runDir, 'run.json'), 'utf8')).model.path, model);
      const ct = recs.filter((r) => r.modality === 'CT' && typeof r.dice === 'number');
      assert.ok(ct.length > 0);
      // the status shows each modality's mean over organs of the organ means, as the Runs tree does
      const dice = (m: string) => meanOf([...new Set(recs.map((r) => r.organ))].map((o) => recs.filter((r) => r.modality === m && r.organ === o && typeof r.dice === 'number').map((r) => r.dice!)).filter((xs) => xs.length).map(meanOf));
      assert.strictEqual(watch.status.text, `$(error) UMD watch: watched-model.onnx Dice ${['CT', 'PET', 'MRI'].map((m) => `${m} ${dice(m).toFixed(3)}`).join(' · ')} · 1 gate failing`);
      // the diagnostics now come from the watch run: one subject's spleen CT
      const spleen = cell(run.runDir, 'spleen', 'CT');
      const [d] = vscode.languages.getDiagnostics(gatesUri).filter((x) => x.source === 'UMD Lens gates');
      assert.strictEqual(d.message, `spleen CT: mean Dice ${spleen.dice.toFixed(3)} < minDice 0.999 (n=${spleen.n}) — run ${path.basename(run.runDir)}`);
      assert.ok(api.runsProvider.runs().some((r) => r.dir === run.runDir), 'the runs tree lists the watch run');
    } finally {
      await cfg.update('watch.glob', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg.update('watch.subset', undefined, vscode.ConfigurationTarget.Workspace);
      fs.rmSync(run.runDir, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
      api.runsProvider.refresh();
    }
  });
});
