#!/usr/bin/env node
// Writes the README's two screenshots from the real workbench, with the workbench tests' harness
// (test/workbench/lib: code-server under Node 24, Debian's Chromium through playwright-core):
//   docs/images/runs-view.png       the UMD Lens container: Runs, Regressions, Modality Gap
//   docs/images/failure-viewer.png  the case viewer's paired CT | PET view on a failure case
// Needs `node esbuild.mjs` (dist/) and the test host (bash scripts/setup-test-host.sh). The workspace, with two
// runs on UMD-mini made by the CLI (the all-modalities checkpoint as baseline, then the CT-only demo), is kept in
// out/screenshots/workspace and reused; delete it to start over. Usage: node scripts/screenshots.mjs
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, startCodeServer, launchBrowser } from '../test/workbench/lib/code-server-host.mjs';
import { recompressPng } from './lib/png.mjs';

const OUT = path.join(ROOT, 'docs/images');
const WORK = path.join(ROOT, 'out/screenshots');
const WS = path.join(WORK, 'workspace');
const DATA = path.join(WS, '.umd/umd-mini');
const RUNS = path.join(WS, '.umd/runs');
const CLI = path.join(ROOT, 'dist/cli.js');
const VIEWPORT = { width: 1280, height: 800 };
const t0 = Date.now();
// a screenshot over 300 KB (the viewer's images have thousands of colours) becomes a 256-colour palette image
const shrink = (file) => (fs.statSync(file).size > 300 * 1024 ? recompressPng(file, { colours: 256 }) : recompressPng(file));
const log = (...a) => console.log(`[screenshots ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

for (const f of ['dist/cli.js', 'dist/extension.js', 'dist/engine.js', 'dist/webview/viewer.js']) {
  if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`missing ${f}: run "node esbuild.mjs" first`);
}

const finishedRun = (model) => (fs.existsSync(RUNS) ? fs.readdirSync(RUNS).sort().reverse() : []).find((d) => {
  if (!d.endsWith(`-${model}`)) return false;
  try { return !!JSON.parse(fs.readFileSync(path.join(RUNS, d, 'run.json'), 'utf8')).finishedAt; } catch { return false; }
});

// The workspace: UMD-mini, the baseline run (all modalities) first, then the CT-only demo run (the newest).
fs.mkdirSync(path.join(WS, 'models'), { recursive: true });
for (const f of ['umd-mini-ct-only.onnx', 'umd-mini-ct-only.umd.json']) {
  const link = path.join(WS, 'models', f);
  if (!fs.existsSync(link)) fs.symlinkSync(path.join(ROOT, 'models', f), link);
}
const cli = (args) => execFileSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
if (!fs.existsSync(path.join(DATA, 'PETCT'))) { log('generating UMD-mini'); cli(['phantom', '--out', DATA]); }
if (!finishedRun('umd-mini-all-modalities') || !finishedRun('umd-mini-ct-only')) {
  fs.rmSync(RUNS, { recursive: true, force: true });
  log('evaluating the all-modalities checkpoint (baseline)');
  cli(['evaluate', path.join(ROOT, 'models/umd-mini-all-modalities.onnx'), '--data', DATA, '--runs', RUNS]);
  log('evaluating the CT-only demo checkpoint');
  cli(['demo', '--data', DATA, '--runs', RUNS]);
}
const baselineRun = finishedRun('umd-mini-all-modalities');
const demoRun = finishedRun('umd-mini-ct-only');
const recs = fs.readFileSync(path.join(RUNS, demoRun, 'cases.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
// the failure to show: the liver case whose CT scores well and whose PET of the same study scores worst
const petOf = (r) => recs.find((o) => o.modality === 'PET' && o.subject === r.subject && o.study === r.study && o.organ === r.organ);
const failure = recs.filter((r) => r.modality === 'CT' && r.organ === 'liver' && typeof r.dice === 'number' && typeof petOf(r)?.dice === 'number')
  .sort((a, b) => (b.dice - petOf(b).dice) - (a.dice - petOf(a).dice))[0];
log(`runs: baseline ${baselineRun}, demo ${demoRun}; failure case ${failure.subject} ${failure.study} liver (Dice CT ${failure.dice.toFixed(3)}, PET ${petOf(failure).dice.toFixed(3)})`);

fs.mkdirSync(OUT, { recursive: true });
const server = await startCodeServer({ logFile: path.join(WORK, 'code-server.log'), log });
const browser = await launchBrowser();
try {
  const ctx = await browser.newContext({ viewport: VIEWPORT });
  const page = await ctx.newPage();
  await page.goto(server.workbenchUrl({ folder: WS, payload: [['extensionDevelopmentPath', server.remote(ROOT)]] }));
  await page.waitForFunction(() => !!window.driver, null, { timeout: 90000 });
  await page.evaluate(() => window.driver.whenWorkbenchRestored());
  // the toasts of the offline workbench (gallery, extension recommendations) would cover the views
  const dismissToasts = async () => {
    for (const b of await page.locator('.notifications-toasts .codicon-notifications-clear').all()) await b.click().catch(() => {});
  };

  const tab = page.locator('.activitybar .action-item a[aria-label^="UMD Lens"], .activitybar .action-item[aria-label^="UMD Lens"]').first();
  await tab.waitFor({ timeout: 60000 });
  await tab.click();
  const side = page.locator('.part.sidebar');
  await side.locator('.monaco-list').first().waitFor({ timeout: 30000 });
  // steps that only make the picture better: a failure is logged, the screenshot still taken
  const soft = async (what, fn) => { try { await fn(); } catch (e) { log(`(${what}: ${String(e.message).split('\n')[0]})`); } };
  const dragSideBarTo = async (x) => {
    const box = await side.boundingBox();
    await page.mouse.move(box.x + box.width, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(x, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
  };
  await soft('secondary side bar', async () => {
    const aux = page.locator('.part.auxiliarybar');
    if (!(await aux.isVisible())) return;
    await page.locator('.titlebar [aria-label^="Toggle Secondary Side Bar"]').first().click({ timeout: 5000 }).catch(() => page.keyboard.press('Control+Alt+B'));
    await aux.waitFor({ state: 'hidden', timeout: 5000 });
  });
  // a wider side bar, so that the views' descriptions are read in full
  await soft('side bar width', () => dragSideBarTo(700));
  const pane = (name) => page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: name }) }).first();
  const setExpanded = async (name, want) => {
    const header = pane(name).locator('.pane-header').first();
    await header.waitFor({ timeout: 30000 });
    if (((await header.getAttribute('aria-expanded')) === 'true') !== want) await header.click();
  };
  const expand = async (row) => {
    await row.waitFor({ timeout: 30000 });
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    await page.waitForFunction((el) => el.getAttribute('aria-expanded') === 'true', await row.elementHandle(), { timeout: 15000 });
  };
  for (const [name, open] of [['Runs', true], ['Regressions', true], ['Modality Gap', true], ['Failure Cases', false]]) await setExpanded(name, open);

  // the baseline: the pin (inline action) on the all-modalities run; the CT-only run is then compared with it
  const runs = pane('Runs');
  const baseRow = runs.locator('.monaco-list-row[aria-level="1"]', { hasText: 'umd-mini-all-modalities' }).first();
  await baseRow.waitFor({ timeout: 30000 });
  await baseRow.hover();
  await baseRow.locator('.action-label[aria-label^="Set as Baseline"]').first().click();
  await runs.locator('.monaco-list-row[aria-level="1"]', { hasText: 'baseline' }).first().waitFor({ timeout: 30000 });
  const demoRow = runs.locator('.monaco-list-row[aria-level="1"]', { hasText: 'umd-mini-ct-only' }).first();
  await demoRow.hover();
  const compare = demoRow.locator('.action-label[aria-label^="Compare with Baseline"]').first();
  if (await compare.count()) await compare.click();
  // the comparison runs in the engine process; its modalities open expanded
  await pane('Regressions').locator('.monaco-list-row[aria-level="2"]').first().waitFor({ timeout: 120000 });
  await expand(demoRow);
  await soft('PET organs', () => expand(runs.locator('.monaco-list-row[aria-level="2"]', { hasText: /^\s*PET\s*mean Dice/ }).first()));
  // the gap of the newest run: a header row, then the organs, largest gap to PET first
  await pane('Modality Gap').locator('.monaco-list-row[aria-level="1"][aria-expanded]').first().waitFor({ timeout: 120000 });
  await soft('gap organ', () => expand(pane('Modality Gap').locator('.monaco-list-row[aria-level="1"][aria-expanded]').first()));
  await dismissToasts();
  await page.mouse.move(VIEWPORT.width - 20, VIEWPORT.height - 60);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: path.join(OUT, 'runs-view.png') });
  log(`wrote docs/images/runs-view.png (${shrink(path.join(OUT, 'runs-view.png'))} bytes)`);

  // the failure: the case's paired view (CT | PET of its PET/CT study), crosshair on the worst slice
  // PET's organs folded again: the CT organ rows then lie in view (rows out of view are not in the DOM)
  await soft('fold PET', async () => {
    const pet = runs.locator('.monaco-list-row[aria-level="2"]', { hasText: /^\s*PET\s*mean Dice/ }).first();
    if ((await pet.getAttribute('aria-expanded')) === 'true') await pet.click();
  });
  await expand(runs.locator('.monaco-list-row[aria-level="2"]', { hasText: /^\s*CT\s*mean Dice/ }).first());
  const organRow = runs.locator('.monaco-list-row[aria-level="3"]', { hasText: /^\s*liver\s*Dice/ }).first();
  await organRow.scrollIntoViewIfNeeded();
  await expand(organRow);
  const caseRow = runs.locator('.monaco-list-row[aria-level="4"]', { hasText: `${failure.subject} · ${failure.study}` }).first();
  await caseRow.waitFor({ timeout: 15000 });
  await caseRow.click({ button: 'right' });
  await page.locator('.monaco-menu .action-item', { hasText: 'Open Paired View' }).first().click();
  const frame = page.frameLocator('iframe.webview.ready:visible').frameLocator('#active-frame');
  await frame.locator('#status').filter({ hasText: /ground truth \d+ voxels/ }).waitFor({ timeout: 120000 });
  await frame.locator('#paneB:not([hidden])').waitFor({ timeout: 30000 });
  await soft('worst slice', async () => {
    await frame.locator('#worst').click();
    await frame.locator('#status').filter({ hasText: /worst/ }).waitFor({ timeout: 15000 });
  });
  // the side bar narrowed again to give the viewer the room
  await soft('side bar width', () => dragSideBarTo(360));
  await dismissToasts();
  await page.waitForTimeout(2500);
  await page.screenshot({ path: path.join(OUT, 'failure-viewer.png') });
  log(`wrote docs/images/failure-viewer.png (${shrink(path.join(OUT, 'failure-viewer.png'))} bytes; status: "${(await frame.locator('#status').innerText()).replace(/\s+/g, ' ')}")`);
  await ctx.close();
} catch (e) {
  // what the page showed, for whoever fixes the next step
  for (const p of browser.contexts().flatMap((c) => c.pages())) {
    await p.screenshot({ path: path.join(WORK, 'failed.png') }).catch(() => {});
    const rows = await p.locator('.part.sidebar .monaco-list-row').evaluateAll((els) => els.map((el) => `${el.getAttribute('aria-level')} ${el.getAttribute('aria-expanded')} ${el.textContent}`)).catch(() => []);
    console.error(`side bar rows:\n  ${rows.join('\n  ')}\nscreenshot: out/screenshots/failed.png`);
  }
  throw e;
} finally {
  await browser.close().catch(() => {});
  await server.stop();
}
