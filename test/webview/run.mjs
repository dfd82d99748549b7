#!/usr/bin/env node
// Viewer webview in real headless Chromium: dist/webview/viewer.js in the page the panel builds
// (src/extension/viewer/html.ts, same CSP), served over loopback HTTP with real NIfTI volumes.
// The only shim is acquireVsCodeApi, which VS Code injects into every webview.
// Prints ✔/✘ per test and "N passed, N failed"; writes test-results/webview.json.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { writeShiftedPrediction } from './lib/nifti-pred.mjs';
import { pixelStats } from './lib/pixels.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'test-results');
const REAL = path.resolve(ROOT, process.env.UMD_REAL_DATA || '../shared/data/real');
const CT = path.join(REAL, 'ct-abdomen/example_ct.nii.gz');
const SEG = path.join(REAL, 'ct-abdomen/example_seg_fast_force_split.nii.gz');
const BUNDLE = path.join(ROOT, 'dist/webview/viewer.js');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const LIVER = 5; // TotalSegmentator "total" label of the liver in the real segmentation
fs.mkdirSync(RESULTS, { recursive: true });
for (const f of fs.readdirSync(RESULTS)) if (f.startsWith('webview')) fs.rmSync(path.join(RESULTS, f), { force: true });

let passed = 0;
let failed = 0;
const finish = (extra) => {
  if (extra) console.error(extra);
  console.log(`${passed} passed, ${failed} failed`);
  fs.writeFileSync(path.join(RESULTS, 'webview.json'), JSON.stringify({ passed, failed }) + '\n');
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
};
for (const [what, p] of [['real CT (UMD_REAL_DATA)', CT], ['real segmentation (UMD_REAL_DATA)', SEG], ['viewer bundle (run node esbuild.mjs)', BUNDLE], ['Chromium', CHROMIUM]]) {
  if (!fs.existsSync(p)) { failed++; finish(`missing ${what}: ${p}`); }
}

// The panel's HTML builder, loaded from source so the test serves exactly what the extension serves.
const built = await esbuild.build({ entryPoints: [path.join(ROOT, 'src/extension/viewer/html.ts')], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'error' });
const { renderViewerHtml, newNonce } = await import(`data:text/javascript;base64,${Buffer.from(built.outputFiles[0].text).toString('base64')}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-webview-'));
const PRED = path.join(tmp, 'pred_liver_shifted.nii.gz');
const moved = writeShiftedPrediction(SEG, PRED, { organId: LIVER, shift: 8 });

const files = { '/data/ct.nii.gz': CT, '/data/labels.nii.gz': SEG, '/data/pred.nii.gz': PRED, '/dist/webview/viewer.js': BUNDLE, '/media/viewer.css': path.join(ROOT, 'media/viewer.css') };
const types = { '.js': 'text/javascript', '.css': 'text/css', '.gz': 'application/octet-stream', '.html': 'text/html' };
let origin = '';
const server = http.createServer((req, res) => {
  const url = new URL(req.url, origin);
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(renderViewerHtml({ cspSource: origin, nonce: newNonce(), scriptUri: `${origin}/dist/webview/viewer.js`, styleUri: `${origin}/media/viewer.css` }));
    return;
  }
  const f = files[url.pathname];
  if (!f) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'content-type': types[path.extname(f)] || 'application/octet-stream' });
  fs.createReadStream(f).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
origin = `http://127.0.0.1:${server.address().port}`;

const loadMsg = (over = {}) => ({
  type: 'load', caseId: 'real_ct-abdomen_CT', title: 'liver · example_ct · CT', subtitle: `Dice n/a · prediction = liver shifted 8 voxels`,
  image: { url: `${origin}/data/ct.nii.gz`, name: 'ct.nii.gz' },
  labels: { url: `${origin}/data/labels.nii.gz`, name: 'labels.nii.gz' },
  pred: { url: `${origin}/data/pred.nii.gz`, name: 'pred.nii.gz' },
  organs: [{ id: 1, name: 'spleen' }, { id: 2, name: 'kidney right' }, { id: 3, name: 'kidney left' }, { id: LIVER, name: 'liver' }],
  organId: LIVER, ...over,
});

const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
const page = await ctx.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
await page.addInitScript(() => {
  // Host shim: VS Code injects acquireVsCodeApi into webviews; record what the viewer posts.
  window.__posted = [];
  window.__csp = [];
  let state;
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => state, setState: (s) => { state = s; } });
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI}`));
});
const posted = (type) => page.evaluate((t) => window.__posted.filter((m) => m.type === t), type);
const waitPosted = async (type, count = 1, timeout = 60000) => {
  await page.waitForFunction(([t, c]) => window.__posted.filter((m) => m.type === t || m.type === 'error').length >= c, [type, count], { timeout });
  const errs = await posted('error');
  if (errs.length) throw new Error(`viewer posted error: ${errs.map((e) => e.message).join('; ')}`);
  return (await posted(type)).at(-1);
};
const shot = async (name) => {
  const file = path.join(RESULTS, name);
  const png = await page.locator('#gl').screenshot({ path: file });
  return { file, stats: await pixelStats(browser, png) };
};

const tests = [
  ['page under the nonce CSP runs the bundle; viewer posts "ready"', async () => {
    await page.goto(`${origin}/`);
    await waitPosted('ready', 1, 20000);
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    if (!/script-src 'nonce-[A-Za-z0-9]{32}'/.test(csp) || /unsafe-eval|unsafe-inline/.test(csp)) throw new Error(`unexpected CSP: ${csp}`);
  }],
  ['"load" message -> CT, ground truth and prediction fetched by URL, "rendered" posted', async () => {
    await page.evaluate((m) => window.postMessage(m, '*'), loadMsg());
    const r = await waitPosted('rendered', 1, 90000);
    if (r.volumes !== 3) throw new Error(`volumes ${r.volumes}`);
    if (!(r.voxels.gt > 1000 && r.voxels.pred > 1000)) throw new Error(`organ voxels ${JSON.stringify(r.voxels)}`);
    if (!(r.canvas.width > 200 && r.canvas.height > 200)) throw new Error(`canvas ${JSON.stringify(r.canvas)}`);
    console.log(`    rendered: ${JSON.stringify(r)} (prediction: ${moved} liver voxels shifted)`);
  }],
  ['canvas shows greyscale CT with green ground truth and red prediction (pixel check)', async () => {
    await page.waitForTimeout(500);
    const { file, stats } = await shot('webview-viewer.png');
    console.log(`    ${path.relative(ROOT, file)}: ${JSON.stringify(stats)}`);
    if (stats.grey < 20000) throw new Error(`too little greyscale CT: ${stats.grey}`);
    if (stats.green < 300) throw new Error(`ground-truth overlay (green) missing: ${stats.green}`);
    if (stats.red < 300) throw new Error(`prediction overlay (red) missing: ${stats.red}`);
  }],
  ['"Prediction" toggle (vscode-checkbox) hides the red overlay', async () => {
    await page.screenshot({ path: path.join(RESULTS, 'webview-page.png') });
    await page.locator('#showPred').click();
    if (await page.evaluate(() => document.getElementById('showPred').checked)) throw new Error('checkbox did not toggle');
    await page.waitForTimeout(300);
    const { stats } = await shot('webview-viewer-no-pred.png');
    if (stats.red > 50) throw new Error(`red pixels still drawn: ${stats.red}`);
    if (stats.green < 300) throw new Error(`ground truth vanished: ${stats.green}`);
    await page.locator('#showPred').click();
  }],
  ['organ select shows another organ (spleen) and reports it', async () => {
    await page.evaluate(() => { const s = document.getElementById('organ'); s.value = '1'; s.dispatchEvent(new Event('change')); });
    const o = await waitPosted('organ', 1, 10000);
    if (o.organId !== 1) throw new Error(`organ ${o.organId}`);
    const status = await page.locator('#status').innerText();
    if (!/^spleen: ground truth \d+ voxels/.test(status)) throw new Error(`status "${status}"`);
    await page.waitForTimeout(300);
    const { stats } = await shot('webview-viewer-spleen.png');
    // spleen unchanged in the prediction: GT and prediction coincide -> blended (yellow), no pure red
    if (stats.yellow + stats.green < 100) throw new Error(`spleen overlay missing: ${JSON.stringify(stats)}`);
  }],
  ['a missing volume is reported with an "error" message, not a hang', async () => {
    await page.evaluate((m) => window.postMessage(m, '*'), loadMsg({ caseId: 'broken', pred: { url: `${origin}/data/missing.nii.gz`, name: 'missing.nii.gz' } }));
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'error' || (m.type === 'rendered' && m.caseId === 'broken')), null, { timeout: 60000 });
    const errs = await posted('error');
    if (!errs.length) throw new Error('no error message for a 404 volume');
    await page.evaluate(() => { window.__posted = window.__posted.filter((m) => m.type !== 'error'); });
    const status = await page.locator('#status').innerText();
    if (!/Could not load/.test(status)) throw new Error(`status "${status}"`);
  }],
  ['no CSP violations and no page errors', async () => {
    const v = await page.evaluate(() => window.__csp);
    if (v.length) throw new Error(`CSP violations: ${[...new Set(v)].join(', ')}`);
    if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join('; ')}`);
  }],
];

for (const [name, fn] of tests) {
  try {
    await fn();
    passed++;
    console.log(`  ✔ ${name}`);
  } catch (e) {
    failed++;
    console.log(`  ✘ ${name}\n    ${String(e.message).split('\n')[0]}`);
    await page.screenshot({ path: path.join(RESULTS, `webview-failure-${passed + failed}.png`) }).catch(() => {});
  }
}
await browser.close();
server.close();
fs.rmSync(tmp, { recursive: true, force: true });
finish();
