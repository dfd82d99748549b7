#!/usr/bin/env node
// `umd-lens report --format html` in real headless Chromium, every network request blocked except the page file:
// no console errors, each chart is a live ECharts instance with the series types and data lengths of the run,
// a screenshot (test-results/report.png) whose heatmap area holds coloured pixels.
// Needs the demo runs' cache (test/helpers/demoRuns.ts; built by `node --test out/test/unit/report.test.js`)
// or REPORT_RUN=<runDir>. Prints ✔/✘ per check and "N passed, N failed"; exit 1 on any failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'test-results');
fs.mkdirSync(RESULTS, { recursive: true });
let passed = 0, failed = 0;
const check = (name, ok, detail = '') => { if (ok) passed++; else failed++; console.log(`${ok ? '✔' : '✘'} ${name}${ok ? '' : ' ' + detail}`); };

const cache = path.join(os.tmpdir(), 'umd-lens-test-cache');
const runDir = process.env.REPORT_RUN || (fs.existsSync(cache) && fs.readdirSync(cache).map((d) => path.join(cache, d, 'runs', 'multimodal')).find((d) => fs.existsSync(path.join(d, 'cases.jsonl'))));
if (!runDir) {
  console.error('no demo run: run out/test/unit/report.test.js first or set REPORT_RUN');
  console.log('0 passed, 1 failed');
  fs.writeFileSync(path.join(RESULTS, 'report.json'), JSON.stringify({ passed: 0, failed: 1 }) + '\n');
  process.exit(1);
}
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'umd-report-')), 'report <&>.html');
const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'report', runDir, '--format', 'html', '--out', out], { encoding: 'utf8' });
check('cli writes the html', r.status === 0, r.stderr);
const cases = fs.readFileSync(path.join(runDir, 'cases.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const organs = [...new Set(cases.map((c) => c.organ))];
const scans = [...new Set(cases.map((c) => `${c.study}/${c.modality}`))];
const subjects = new Set(cases.map((c) => c.subject));
const html = fs.readFileSync(out, 'utf8');
check('no external URL in the page', !/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html) && !/@import|url\(\s*['"]?https?:/i.test(html));

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium' });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const fileUrl = pathToFileURL(out).href;
  const blocked = [];
  await page.route('**/*', (route) => (route.request().url() === fileUrl ? route.continue() : (blocked.push(route.request().url()), route.abort())));
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(fileUrl);
  await page.waitForTimeout(500);
  check('no console errors', errors.length === 0, JSON.stringify(errors));
  check('no request beyond the file', blocked.length === 0, JSON.stringify(blocked));
  const info = await page.evaluate(() => {
    const opt = (el) => { const i = window.echarts.getInstanceByDom(el); return i ? i.getOption().series.map((s) => ({ type: s.type, n: s.data.length })) : null; };
    return { heat: opt(document.getElementById('heatmap')), box: opt(document.getElementById('boxplot')),
      slopes: [...document.querySelectorAll('#slopes .slope')].map((d) => ({ organ: d.dataset.organ, series: opt(d) })), gapRows: document.querySelectorAll('#gap tbody tr').length };
  });
  const summaryCells = new Set(cases.filter((c) => typeof c.dice === 'number').map((c) => `${c.organ}|${c.study}/${c.modality}`)).size;
  check('heatmap instance, one cell per organ x scan with a Dice', info.heat?.[0]?.type === 'heatmap' && info.heat[0].n === summaryCells, JSON.stringify(info.heat));
  check('boxplot instance, one series per scan, one box per organ', info.box?.length === scans.length && info.box.every((s) => s.type === 'boxplot' && s.n === organs.length), JSON.stringify(info.box));
  check('a slope plot per organ', info.slopes.length === organs.length && info.slopes.every((s) => s.series !== null), JSON.stringify(info.slopes.length));
  const lines = info.slopes.flatMap((s) => s.series);
  check('slope lines: each subject CT->PET and MRI->PET per organ (2 points each)', lines.length === organs.length * subjects.size * 2 && lines.every((l) => l.type === 'line' && l.n === 2), `${lines.length} vs ${organs.length * subjects.size * 2}`);
  check('gap table rows', info.gapRows > 0);
  const png = path.join(RESULTS, 'report.png');
  await page.screenshot({ path: png, fullPage: false });
  const box = await page.locator('#heatmap').boundingBox();
  const shot = await page.screenshot({ clip: box });
  // Coloured = a pixel whose channels differ by > 40 (the page background and text are grey-scale).
  const coloured = await page.evaluate(async (b64) => {
    const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
    const c = document.createElement('canvas'); c.width = img.width; c.height = img.height; const g = c.getContext('2d'); g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) n++;
    return n / (d.length / 4);
  }, shot.toString('base64'));
  check('heatmap has drawn coloured cells (> 20% of its area)', coloured > 0.2, String(coloured));
  check('no reported-vs-measured section for a card without reported scores', await page.locator('#illusion-section').isHidden());

  // The same run with a card that reports scores (run.json's card.reported, as a card with `reported` stores it):
  // the reported-vs-measured table, each cell the mean of cases.jsonl and reported - measured.
  const reportedRun = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-report-reported-'));
  const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
  manifest.card.reported = { liver: { dice: 0.95, nsd: 0.9, source: 'paper, Table 2' }, spleen: { dice: 0.9 } };
  fs.writeFileSync(path.join(reportedRun, 'run.json'), JSON.stringify(manifest));
  fs.copyFileSync(path.join(runDir, 'cases.jsonl'), path.join(reportedRun, 'cases.jsonl'));
  const out2 = path.join(reportedRun, 'report.html');
  const r2 = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'report', reportedRun, '--format', 'html', '--out', out2], { encoding: 'utf8' });
  check('cli writes the html of the run with reported scores', r2.status === 0, r2.stderr);
  const url2 = pathToFileURL(out2).href;
  await page.unroute('**/*');
  await page.route('**/*', (route) => (route.request().url() === url2 ? route.continue() : (blocked.push(route.request().url()), route.abort())));
  await page.goto(url2);
  await page.waitForTimeout(500);
  const table = await page.evaluate(() => ({
    visible: !document.getElementById('illusion-section').hidden,
    head: [...document.querySelectorAll('#illusion thead th')].map((t) => t.textContent),
    rows: [...document.querySelectorAll('#illusion tbody tr')].map((tr) => ({ organ: tr.dataset.organ, metric: tr.dataset.metric, title: tr.title, cells: [...tr.children].map((td) => td.textContent) })),
  }));
  check('reported-vs-measured section shown, columns reported and each scan', table.visible && JSON.stringify(table.head) === JSON.stringify(['Organ', 'Metric', 'Reported', 'CT', 'PET (PET/CT)', 'MRI', 'PET (PET/MRI)', 'Largest gap']), JSON.stringify(table.head));
  check('one row per reported organ and metric', JSON.stringify(table.rows.map((x) => [x.organ, x.metric])) === JSON.stringify([['liver', 'dice'], ['liver', 'nsd'], ['spleen', 'dice']]), JSON.stringify(table.rows));
  const meanOf = (organ, metric, study, modality) => {
    const xs = cases.filter((c) => c.organ === organ && c.study === study && c.modality === modality && typeof c[metric] === 'number').map((c) => c[metric]);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const signed = (v) => `${v >= 0 ? '+' : '\u2212'}${Math.abs(v).toFixed(3)}`;
  const scansOrder = [['PETCT', 'CT'], ['PETCT', 'PET'], ['PETMRI', 'MRI'], ['PETMRI', 'PET']];
  const expectRow = (organ, metric, rep) => [organ, metric, rep.toFixed(3), ...scansOrder.map(([st, mo]) => { const m = meanOf(organ, metric, st, mo); return `${m.toFixed(3)} (${signed(rep - m)})`; })];
  const liverRow = table.rows.find((x) => x.organ === 'liver' && x.metric === 'dice');
  check('liver Dice: reported 0.950, each scan the mean of cases.jsonl with reported - measured', !!liverRow && JSON.stringify(liverRow.cells.slice(0, 7)) === JSON.stringify(expectRow('liver', 'dice', 0.95)), JSON.stringify([liverRow?.cells, expectRow('liver', 'dice', 0.95)]));
  check('the reported source as the row tooltip', liverRow?.title === 'reported: paper, Table 2', liverRow?.title);
  check('no console errors or requests on the page with reported scores', errors.length === 0 && blocked.length === 0, JSON.stringify([errors, blocked]));
  await page.screenshot({ path: path.join(RESULTS, 'report-illusion.png'), fullPage: true });
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
fs.writeFileSync(path.join(RESULTS, 'report.json'), JSON.stringify({ passed, failed }) + '\n');
process.exit(failed === 0 ? 0 : 1);
