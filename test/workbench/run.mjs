#!/usr/bin/env node
// UMD Lens in a real VS Code workbench + Node extension host, headless and offline (adapted from
// /work/shared/recipes/real-workbench): code-server (test-host/code-server, Node 24) on 127.0.0.1,
// driven by Debian's Chromium through playwright-core.
//  Phase 1: mocha suite inside the extension host (out/test/workbench/suite/index.js).
//  Phase 2: Playwright drives the UI: explorer context menu, the UMD Lens tree, the case viewer webview.
// Prints ✔/✘ per test and "N passed, N failed"; writes test-results/workbench.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startCodeServer, launchBrowser, runExtensionTests } from './lib/code-server-host.mjs';
import { writeTinyModel } from './lib/tiny-onnx.mjs';
import { pixelStats } from '../webview/lib/pixels.mjs';

const RESULTS = path.join(ROOT, 'test-results');
const SUITE = path.join(ROOT, 'out/test/workbench/suite/index.js');
const DEMO_MODEL = path.join(ROOT, 'models/umd-mini-ct-only.onnx');
const t0 = Date.now();
const log = (...a) => console.log(`[workbench ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
fs.mkdirSync(RESULTS, { recursive: true });
for (const f of fs.readdirSync(RESULTS)) if (f.startsWith('workbench')) fs.rmSync(path.join(RESULTS, f), { force: true });

let passed = 0;
let failed = 0;
const finish = () => {
  console.log(`${passed} passed, ${failed} failed`);
  fs.writeFileSync(path.join(RESULTS, 'workbench.json'), JSON.stringify({ passed, failed }) + '\n');
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
};
for (const f of [SUITE, path.join(ROOT, 'dist/extension.js'), path.join(ROOT, 'dist/engine.js'), path.join(ROOT, 'dist/webview/viewer.js')]) {
  if (!fs.existsSync(f)) { console.error(`missing ${f}: run "node esbuild.mjs" first`); failed++; finish(); }
}

let server;
let browser;
try {
  server = await startCodeServer({ logFile: path.join(RESULTS, 'workbench-code-server.log'), log });
  browser = await launchBrowser();

  // Workspace (temp, outside the repo): models/ holds the demo checkpoint + card as symlinks, or, until the
  // demo model exists, a tiny generated wiring model.
  const ws = server.dirs.ws;
  const models = path.join(ws, 'models');
  fs.mkdirSync(models);
  let model;
  if (fs.existsSync(DEMO_MODEL) && !process.env.UMD_TEST_TINY_MODEL) {
    model = path.join(models, path.basename(DEMO_MODEL));
    fs.symlinkSync(DEMO_MODEL, model);
    const card = DEMO_MODEL.replace(/\.onnx$/, '.umd.json');
    if (fs.existsSync(card)) fs.symlinkSync(card, path.join(models, path.basename(card)));
  } else {
    model = writeTinyModel(models);
    log(`demo model ${path.relative(ROOT, DEMO_MODEL)} not found: using the generated wiring model`);
  }
  const modelFile = path.basename(model);
  log(`workspace ${ws}, model models/${modelFile}`);

  // ---- Phase 1 ------------------------------------------------------------------------------
  const skipPhase1 = process.env.UMD_WB_PHASE === '2'; // debugging aid: UI tests only
  if (!skipPhase1) {
  log('phase 1: extension-host tests');
  const resultFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'umd-ext-tests-')), 'result.json');
  const wbLog = fs.createWriteStream(path.join(RESULTS, 'workbench-exthost-tests.log'));
  let echo = false;
  const code = await runExtensionTests({
    browser, server, folder: ws,
    extensionDevelopmentPaths: [ROOT],
    extensionTestsPath: SUITE,
    extensionEnv: { EXT_TESTS_RESULT_FILE: resultFile, UMD_TEST_MODEL: model, UMD_WB_GREP: process.env.UMD_WB_GREP ?? '' },
    timeoutMs: 1200000,
    screenshot: path.join(RESULTS, 'workbench-phase1.png'),
    onLog: (type, line) => {
      wbLog.write(`[${type}] ${line}\n`);
      if (line.includes('[ext-tests] begin')) echo = true;
      // the offline workbench's failed gallery look-ups (open-vsx.org) stay in the log file only
      if (echo && !/open-vsx\.org|AccountPolicyGate/.test(line)) console.log(`  | ${line}`);
      if (line.includes('[ext-tests] end')) echo = false;
    },
  });
  wbLog.end();
  const r = fs.existsSync(resultFile) ? JSON.parse(fs.readFileSync(resultFile, 'utf8')) : null;
  fs.rmSync(path.dirname(resultFile), { recursive: true, force: true });
  log(`phase 1: exit code ${code}${r ? `, mocha passes=${r.passes} failures=${r.failures}` : ''}`);
  if (r) { passed += r.passes; failed += r.failures; }
  if (code !== 0 && !(r && r.failures > 0)) { failed += 1; console.log(`  ✘ extension-host test runner (exit ${code})`); }
  }

  // ---- Phase 2 ------------------------------------------------------------------------------
  const runsRoot = path.join(ws, '.umd/runs');
  const openWorkbench = async (page) => {
    await page.goto(server.workbenchUrl({ folder: ws, payload: [['extensionDevelopmentPath', server.remote(ROOT)]] }));
    await page.waitForFunction(() => !!window.driver, null, { timeout: 90000 });
    await page.evaluate(() => window.driver.whenWorkbenchRestored());
  };
  const openContainer = async (page) => {
    const tab = page.locator('.activitybar .action-item a[aria-label^="UMD Lens"], .activitybar .action-item[aria-label^="UMD Lens"]').first();
    await tab.waitFor({ timeout: 60000 });
    await tab.click();
    const tree = page.locator('.part.sidebar .monaco-list');
    await tree.first().waitFor({ timeout: 30000 });
    return page.locator('.part.sidebar');
  };
  const expand = async (r) => {
    await r.waitFor({ timeout: 30000 });
    if ((await r.getAttribute('aria-expanded')) !== 'true') await r.click();
    await r.page().waitForFunction((el) => el.getAttribute('aria-expanded') === 'true', await r.elementHandle(), { timeout: 15000 });
  };

  const uiTests = [
    ['explorer: right-click the .onnx -> "Evaluate on UMD" runs it and reports completion', async (page) => {
      await openWorkbench(page);
      const explorer = page.locator('.explorer-folders-view');
      await explorer.waitFor({ timeout: 60000 });
      const before = fs.existsSync(runsRoot) ? fs.readdirSync(runsRoot).length : 0;
      await expand(explorer.locator('.monaco-list-row', { hasText: /^models$/ }).first());
      const file = explorer.locator('.monaco-list-row', { hasText: modelFile }).first();
      await file.waitFor({ timeout: 30000 });
      await file.click({ button: 'right' });
      const item = page.locator('.monaco-menu .action-item', { hasText: 'Evaluate on UMD' }).first();
      await item.waitFor({ timeout: 15000 });
      await page.screenshot({ path: path.join(RESULTS, 'workbench-context-menu.png') });
      await item.click();
      // the engine writes a new run; the completion message lands in the notification center
      const deadline = Date.now() + 600000;
      let newRun;
      while (!newRun && Date.now() < deadline) {
        const dirs = fs.existsSync(runsRoot) ? fs.readdirSync(runsRoot) : [];
        if (dirs.length > before) newRun = dirs.sort().reverse()[0];
        else await page.waitForTimeout(500);
      }
      if (!newRun) throw new Error('no run directory appeared');
      await page.screenshot({ path: path.join(RESULTS, 'workbench-progress.png') });
      await page.locator('[id="status.notifications"]').click();
      const note = page.locator('.notifications-center').getByText(`UMD Lens: ${modelFile} evaluated.`).first();
      await note.waitFor({ timeout: Math.max(1000, deadline - Date.now()) });
      const manifest = JSON.parse(fs.readFileSync(path.join(runsRoot, newRun, 'run.json'), 'utf8'));
      if (!manifest.finishedAt) throw new Error('run not finished');
      await page.screenshot({ path: path.join(RESULTS, 'workbench-evaluated.png') });
      log(`  notification: "${(await note.innerText()).replace(/\s+/g, ' ')}"`);
    }],
    ['UMD Lens container: Runs tree shows run -> CT/PET/MRI (mean Dice and NSD) -> 13 organs', async (page) => {
      await openWorkbench(page);
      const side = await openContainer(page);
      const runRow = side.locator('.monaco-list-row', { hasText: path.basename(modelFile, '.onnx') }).first();
      await expand(runRow);
      for (const m of ['CT', 'PET', 'MRI']) {
        const mr = side.locator('.monaco-list-row', { hasText: new RegExp(`^\\s*${m}\\s*mean Dice \\d\\.\\d{3} · NSD \\d\\.\\d{3}`) }).first();
        await mr.waitFor({ timeout: 15000 });
      }
      await expand(side.locator('.monaco-list-row', { hasText: /^\s*CT\s*mean Dice/ }).first());
      const organs = ['liver', 'spleen', 'left kidney', 'right kidney', 'heart', 'aorta', 'left lung', 'right lung', 'brain', 'bladder', 'stomach', 'pancreas', 'gallbladder'];
      for (const o of organs) await side.locator('.monaco-list-row[aria-level="3"]', { hasText: new RegExp(`^\\s*${o}\\s*Dice (\\d\\.\\d{3}|—) · NSD \\d\\.\\d{3} \\(n=`) }).first().waitFor({ timeout: 15000 });
      await page.screenshot({ path: path.join(RESULTS, 'workbench-tree.png') });
    }],
    ['opening a case shows the viewer webview: NiiVue canvas with drawn overlays (pixel check)', async (page) => {
      await openWorkbench(page);
      const side = await openContainer(page);
      const newest = fs.readdirSync(runsRoot).sort().reverse()[0];
      const recs = fs.readFileSync(path.join(runsRoot, newest, 'cases.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const best = recs.filter((x) => x.modality === 'CT' && typeof x.dice === 'number').sort((a, b) => b.dice - a.dice)[0];
      log(`  opening ${best.organ} / ${best.subject} ${best.study} CT (Dice ${best.dice.toFixed(3)})`);
      await expand(side.locator('.monaco-list-row[aria-level="1"]').first());
      await expand(side.locator('.monaco-list-row[aria-level="2"]', { hasText: /^\s*CT\s*mean Dice/ }).first());
      const organRow = side.locator('.monaco-list-row[aria-level="3"]', { hasText: new RegExp(`^\\s*${best.organ}\\s*Dice (\\d|—)`) }).first();
      await organRow.scrollIntoViewIfNeeded();
      await expand(organRow);
      const caseRow = side.locator('.monaco-list-row[aria-level="4"]', { hasText: `${best.subject} · ${best.study}` }).first();
      await caseRow.waitFor({ timeout: 15000 });
      await caseRow.click();
      const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
      const status = frame.locator('#status');
      await status.filter({ hasText: /ground truth \d+ voxels/ }).waitFor({ timeout: 120000 });
      log(`  viewer status: "${await status.innerText()}"`);
      await page.waitForTimeout(800);
      await page.screenshot({ path: path.join(RESULTS, 'workbench-viewer.png') });
      const png = await frame.locator('#gl').screenshot({ path: path.join(RESULTS, 'workbench-viewer-canvas.png') });
      const stats = await pixelStats(browser, png);
      log(`  canvas pixels: ${JSON.stringify(stats)}`);
      if (stats.grey < 5000) throw new Error(`image not drawn: ${JSON.stringify(stats)}`);
      if (stats.green + stats.yellow < 100) throw new Error(`ground-truth overlay not drawn: ${JSON.stringify(stats)}`);
      if (stats.red + stats.yellow < 100) throw new Error(`prediction overlay not drawn: ${JSON.stringify(stats)}`);
    }],
    ['gates: the failing gate shows in the Problems panel at its line; the Test Explorer lists the gate items', async (page) => {
      // line 4 holds the failing gate (no organ of the demo model reaches Dice 0.999)
      fs.writeFileSync(path.join(ws, 'umd.gates.json'), '{\n  "gates": [\n    { "organ": "liver", "modality": "CT", "minDice": 0 },\n    { "organ": "spleen", "modality": "CT", "minDice": 0.999 }\n  ]\n}\n');
      await openWorkbench(page);
      const command = async (title) => {
        await page.keyboard.press('F1');
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ timeout: 15000 });
        await input.fill(`>${title}`);
        await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15000 });
        await page.keyboard.press('Enter');
      };
      await command('View: Focus Problems');
      const problems = page.locator('.markers-panel');
      await problems.waitFor({ timeout: 30000 });
      const row = problems.locator('.monaco-list-row', { hasText: /spleen CT: mean Dice 0\.\d{3} < minDice 0\.999 \(n=\d+\)/ }).first();
      await row.waitFor({ timeout: 120000 });
      const text = (await row.innerText()).replace(/\s+/g, ' ');
      if (!/\[Ln 4, Col \d+\]/.test(text)) throw new Error(`not at line 4: ${text}`);
      if (!text.includes('open failure cases')) throw new Error(`no link to the failure cases: ${text}`);
      log(`  problem: "${text}"`);
      await page.screenshot({ path: path.join(RESULTS, 'workbench-problems.png') });
      await command('Testing: Focus on Test Explorer View');
      const explorer = page.locator('.test-explorer');
      await explorer.waitFor({ timeout: 30000 });
      const fileRow = explorer.locator('.monaco-list-row', { hasText: 'umd.gates.json' }).first();
      await fileRow.waitFor({ timeout: 60000 });
      if ((await fileRow.getAttribute('aria-expanded')) === 'false') await fileRow.click();
      for (const label of ['liver · CT · minDice 0', 'spleen · CT · minDice 0.999']) {
        await explorer.locator('.monaco-list-row', { hasText: label }).first().waitFor({ timeout: 30000 });
      }
      await page.screenshot({ path: path.join(RESULTS, 'workbench-test-explorer.png') });
    }],
  ];
  log('phase 2: UI tests');
  for (const [name, fn] of uiTests) {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    try {
      await fn(page);
      passed++; console.log(`  ✔ ${name}`);
    } catch (e) {
      failed++; console.log(`  ✘ ${name}\n    ${String(e.message).split('\n')[0]}`);
      await page.screenshot({ path: path.join(RESULTS, `workbench-failure-${passed + failed}.png`) }).catch(() => {});
    }
    await ctx.close();
  }
} catch (e) {
  failed++;
  console.error('harness error:', e);
} finally {
  await browser?.close().catch(() => {});
  await server?.stop();
}
log('done');
finish();
