/**
 * umd-lens report on the two demo runs (test/helpers/demoRuns.ts): CSV rows equal cases.jsonl parsed
 * independently here, the JSON validates against schemas/report.schema.json (a draft-07 subset checker below,
 * since no schema library is installed) and its summary equals a recomputation from cases.jsonl, the Markdown
 * carries the table with the run's numbers. All through the built CLI (dist/cli.js).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { csvField } from '../../src/core/report/csv';
import { htmlEscape, reportHtml, scriptJson } from '../../src/core/report/html';
import { mdEscape } from '../../src/core/report/markdown';
import { illusion } from '../../src/core/analysis/gap';
import { illusionTable } from '../../src/core/analysis/illusionTable';
import * as os from 'node:os';
import { buildReport } from '../../src/core/report/model';
import { readRun } from '../../src/core/runstore/runStore';
import { demoRuns } from '../helpers/demoRuns';
import { repoRoot } from '../helpers/realData';
import { CLI } from '../helpers/cli';

let dirs: { dataset: string; ctOnly: string; multimodal: string };
before(async () => { dirs = await demoRuns(); });

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}
function cases(dir: string): Array<Record<string, unknown>> {
  return fs.readFileSync(path.join(dir, 'cases.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** RFC 4180 parser (quoted fields with doubled quotes, CRLF records), written independently of the writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []; let row: string[] = []; let f = ''; let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) { if (c === '"') { if (text[i + 1] === '"') { f += '"'; i++; } else q = false; } else f += c; }
    else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(f); rows.push(row); row = []; f = ''; i++; }
    else f += c;
  }
  return rows;
}

/** Checks type / required / properties / items / enum / additionalProperties / local $ref of a draft-07 schema. */
function validate(schema: any, v: unknown, root: any, at = '$'): string[] {
  if (schema.$ref) return validate(root.definitions[schema.$ref.split('/').pop()], v, root, at);
  const errs: string[] = [];
  const typeOf = (x: unknown) => x === null ? 'null' : Array.isArray(x) ? 'array' : Number.isInteger(x) ? 'integer' : typeof x;
  if (schema.type) {
    const ts: string[] = [].concat(schema.type); const t = typeOf(v);
    if (!ts.includes(t) && !(t === 'integer' && ts.includes('number'))) return [`${at}: ${t} is not ${ts.join('|')}`];
  }
  if (schema.enum && !schema.enum.includes(v)) errs.push(`${at}: ${JSON.stringify(v)} not in enum`);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const k of schema.required ?? []) if (!(k in (v as object))) errs.push(`${at}: missing ${k}`);
    for (const [k, s] of Object.entries(schema.properties ?? {})) if (k in (v as object)) errs.push(...validate(s, (v as any)[k], root, `${at}.${k}`));
    if (schema.additionalProperties) for (const [k, x] of Object.entries(v as object)) errs.push(...validate(schema.additionalProperties, x, root, `${at}.${k}`));
  }
  if (Array.isArray(v) && schema.items) v.forEach((x, i) => errs.push(...validate(schema.items, x, root, `${at}[${i}]`)));
  return errs;
}

test('csv: one row per case record, every value equal to cases.jsonl, RFC 4180 quoting', () => {
  const rows = parseCsv(cli('report', dirs.multimodal, '--format', 'csv'));
  const recs = cases(dirs.multimodal);
  const header = rows[0];
  assert.equal(rows.length - 1, recs.length);
  const organs = new Set(recs.map((r) => r.organ)); const scans = new Set(recs.map((r) => `${r.subject}/${r.study}/${r.modality}`));
  assert.equal(recs.length, organs.size * scans.size, 'demo run has every organ of every case');
  rows.slice(1).forEach((row, i) => {
    const r = recs[i];
    for (const [j, col] of header.entries()) {
      const want = r[col === 'label_id' ? 'labelId' : col];
      if (want === null || want === undefined) assert.equal(row[j], '', `${col} row ${i}`);
      else if (typeof want === 'number') assert.equal(Number(row[j]), want, `${col} row ${i}`);
      else assert.equal(row[j], String(want), `${col} row ${i}`);
    }
  });
  assert.equal(csvField('a,"b"\nc'), '"a,""b""\nc"');
  assert.equal(csvField(null), '');
});

test('json: validates against the schema, summary equals recomputation from cases.jsonl', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'schemas', 'report.schema.json'), 'utf8'));
  for (const dir of [dirs.multimodal, dirs.ctOnly]) {
    const rep = JSON.parse(cli('report', dir, '--format', 'json', '--baseline', dirs.ctOnly));
    assert.deepEqual(validate(schema, rep, schema), []);
    const recs = cases(dir);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
    assert.equal(rep.run.model.sha256, manifest.model.sha256);
    const keys = new Set(recs.filter((r) => r.organ !== null).map((r) => `${r.organ}|${r.study}|${r.modality}`));
    assert.equal(rep.summary.length, keys.size);
    for (const c of rep.summary) {
      const rs = recs.filter((r) => r.organ === c.organ && r.study === c.study && r.modality === c.modality);
      const d = rs.map((r) => r.dice).filter((x): x is number => typeof x === 'number');
      assert.equal(c.n, d.length); assert.equal(c.skipped, rs.length - d.length);
      if (d.length) assert.ok(Math.abs(c.dice - d.reduce((s, x) => s + x, 0) / d.length) < 1e-12);
    }
    assert.ok(rep.gap.length > 0);
    assert.ok(rep.comparison && Array.isArray(rep.comparison.cells) && rep.comparison.cells.length > 0);
    // The run against itself: nothing changes.
    if (dir === dirs.ctOnly) assert.ok(rep.comparison.cells.every((c: any) => c.class === 'unchanged'));
  }
});

test('md: headline, organ x scan table with the run\'s mean Dice / NSD, gap table', () => {
  const md = cli('report', dirs.multimodal, '--format', 'md');
  const recs = cases(dirs.multimodal);
  assert.match(md, /^## UMD Lens report: /);
  assert.match(md, /\| Organ \| PETCT\/CT \|/);
  const organ = recs.find((r) => typeof r.dice === 'number')!.organ as string;
  const rs = recs.filter((r) => r.organ === organ && r.study === 'PETCT' && r.modality === 'CT');
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const dice = mean(rs.map((r) => r.dice).filter((x): x is number => typeof x === 'number'));
  const nsd = mean(rs.map((r) => r.nsd).filter((x): x is number => typeof x === 'number'));
  const line = md.split('\n').find((l) => l.startsWith(`| ${organ} |`));
  assert.ok(line, `row for ${organ}`);
  assert.ok(line!.includes(`${dice.toFixed(3)} / ${nsd.toFixed(3)}`), line);
  assert.match(md, /### Modality gap/);
  assert.match(md, /\| CT-PET \| dice \|/);
});

test('bad input: unknown format and missing run dir give clear errors', () => {
  const r = spawnSync(process.execPath, [CLI, 'report', dirs.multimodal, '--format', 'pdf'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0); assert.match(r.stderr, /--format must be one of json, csv, md, html/);
  const r2 = spawnSync(process.execPath, [CLI, 'report', '/nonexistent-run'], { encoding: 'utf8' });
  assert.notEqual(r2.status, 0); assert.match(r2.stderr, /nonexistent-run/);
});

test('escaping: hostile organ names and paths cannot break out of the HTML data block or Markdown table', () => {
  const evil = '</script><img src=x onerror=alert(1)>|`*';
  const json = scriptJson({ organ: evil, p: '\u2028' });
  assert.ok(!json.includes('</script') && !json.includes('<'), json);
  assert.deepEqual(JSON.parse(json), { organ: evil, p: '\u2028' });
  assert.equal(htmlEscape('<a href="x">&\''), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  assert.ok(!mdEscape(evil).includes('<') && !/(^|[^\\])\|/.test(mdEscape(evil)), mdEscape(evil));
  const run = readRun(dirs.ctOnly);
  run.cases = run.cases.map((c) => (c.organ === null ? { ...c } : { ...c, organ: evil + c.organ }));
  run.manifest = { ...run.manifest, model: { ...run.manifest.model, name: evil } };
  const html = reportHtml(buildReport(run), run.cases, '/* echarts */');
  // The only "</script" are the page's own three closing tags.
  assert.equal(html.split('</script').length - 1, 3);
  assert.ok(!html.includes('<img'), 'markup from data reached the page');
});

/**
 * A copy of a stored run (run.json and cases.jsonl, as written by the evaluation) whose card reports scores, as a
 * card with `reported` records them: real run-store data for the reported-vs-measured view.
 */
function withReported(dir: string, reported: Record<string, { dice?: number; nsd?: number; source?: string }>): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-reported-run-'));
  process.on('exit', () => fs.rmSync(copy, { recursive: true, force: true }));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
  manifest.card.reported = reported;
  fs.writeFileSync(path.join(copy, 'run.json'), JSON.stringify(manifest));
  fs.copyFileSync(path.join(dir, 'cases.jsonl'), path.join(copy, 'cases.jsonl'));
  return copy;
}

const REPORTED = { liver: { dice: 0.95, nsd: 0.9, source: 'paper, Table 2' }, Left_Kidney: { dice: 0.9 }, 'optic chiasm': { dice: 0.5 } };

test('illusion table: one row per reported organ and metric, measured mean per scan and the gap, from cases.jsonl', () => {
  const dir = withReported(dirs.multimodal, REPORTED);
  const table = illusionTable(illusion(readRun(dir)));
  const recs = cases(dir);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // the dataset has no optic chiasm: no row; Left_Kidney is the dataset's "left kidney" (organ-name matching)
  assert.deepEqual(table.rows.map((r) => [r.organ, r.metric]), [['liver', 'dice'], ['liver', 'nsd'], ['left kidney', 'dice']]);
  assert.deepEqual(table.scans, ['PETCT/CT', 'PETCT/PET', 'PETMRI/MRI', 'PETMRI/PET']);
  const expected = { liver: { dice: 0.95, nsd: 0.9 }, 'left kidney': { dice: 0.9 } } as Record<string, Record<string, number>>;
  for (const row of table.rows) {
    assert.equal(row.reported, expected[row.organ][row.metric]);
    let worst: { scan: string; gap: number } | null = null;
    for (const scan of table.scans) {
      const [study, modality] = scan.split('/');
      const xs = recs.filter((r) => r.organ === row.organ && r.study === study && r.modality === modality).map((r) => r[row.metric]).filter((x): x is number => typeof x === 'number');
      assert.ok(Math.abs(row.measured[scan]! - mean(xs)) < 1e-12, `${row.organ} ${row.metric} ${scan}`);
      assert.ok(Math.abs(row.gap[scan]! - (row.reported - mean(xs))) < 1e-12);
      if (!worst || row.reported - mean(xs) > worst.gap) worst = { scan, gap: row.reported - mean(xs) };
    }
    assert.equal(row.worst!.scan, worst!.scan);
  }
  assert.equal(table.rows[0].source, 'paper, Table 2');
  // a run whose card reports nothing has no table
  assert.deepEqual(illusionTable(illusion(readRun(dirs.multimodal))), { scans: [], rows: [] });
});

test('md and html: the reported-vs-measured table when the card reports scores, none otherwise', () => {
  const dir = withReported(dirs.multimodal, REPORTED);
  const table = illusionTable(illusion(readRun(dir)));
  const md = cli('report', dir, '--format', 'md');
  assert.match(md, /### Reported vs measured \(generalization illusion\)/);
  assert.match(md, /\| Organ \| Metric \| Reported \| CT \| PET \(PET\/CT\) \| MRI \| PET \(PET\/MRI\) \| Largest gap \|/);
  const liver = table.rows[0];
  const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;
  const line = md.split('\n').find((l) => l.startsWith('| liver | dice |'))!;
  assert.ok(line.includes(`| 0.950 | ${liver.measured['PETCT/CT']!.toFixed(3)} (${signed(liver.gap['PETCT/CT']!)}) |`), line);
  assert.doesNotMatch(cli('report', dirs.multimodal, '--format', 'md'), /Reported vs measured/);
  const html = reportHtml(buildReport(readRun(dir)), readRun(dir).cases, '/* echarts */');
  const data = JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]);
  assert.deepEqual(data.illusion, JSON.parse(JSON.stringify(table)));
  assert.equal(data.scanLabels['PETMRI/PET'], 'PET (PET/MRI)');
});
