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
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
fs.writeFileSync(path.join(RESULTS, 'report.json'), JSON.stringify({ passed, failed }) + '\n');
process.exit(failed === 0 ? 0 : 1);
