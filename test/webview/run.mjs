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
import { readNiftiLabels, writeShiftedPrediction } from './lib/nifti-pred.mjs';
import { pixelStats } from './lib/pixels.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'test-results');
const REAL = path.resolve(ROOT, process.env.UMD_REAL_DATA || '../shared/data/real');
const CT = path.join(REAL, 'ct-abdomen/example_ct.nii.gz');
const SEG = path.join(REAL, 'ct-abdomen/example_seg_fast_force_split.nii.gz');
const BUNDLE = path.join(ROOT, 'dist/webview/viewer.js');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const LIVER = 5; // TotalSegmentator "total" label of the liver in the real segmentation
// the only real paired scans: CT and PET of one patient, each on its own grid with its own manual mask (label 1)
const STS = path.join(REAL, 'sts-petctmr/STS_002');
const GTV = 1;
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
const STS_PRED = { CT: path.join(tmp, 'sts_ct_pred.nii.gz'), PET: path.join(tmp, 'sts_pet_pred.nii.gz') };
writeShiftedPrediction(path.join(STS, 'CT_mask.nii.gz'), STS_PRED.CT, { organId: GTV, shift: 6 });
writeShiftedPrediction(path.join(STS, 'PET_mask.nii.gz'), STS_PRED.PET, { organId: GTV, shift: 2 });

const files = {
  '/data/ct.nii.gz': CT, '/data/labels.nii.gz': SEG, '/data/pred.nii.gz': PRED, '/dist/webview/viewer.js': BUNDLE, '/media/viewer.css': path.join(ROOT, 'media/viewer.css'),
  '/sts/ct.nii.gz': path.join(STS, 'CT_image.nii.gz'), '/sts/ct_mask.nii.gz': path.join(STS, 'CT_mask.nii.gz'), '/sts/ct_pred.nii.gz': STS_PRED.CT,
  '/sts/pet.nii.gz': path.join(STS, 'PET_image.nii.gz'), '/sts/pet_mask.nii.gz': path.join(STS, 'PET_mask.nii.gz'), '/sts/pet_pred.nii.gz': STS_PRED.PET,
};

function labelValues(file) {
  const n = readNiftiLabels(file);
  const count = n.dims[0] * n.dims[1] * n.dims[2];
  const out = new Float64Array(count);
  for (let idx = 0; idx < count; idx++) out[idx] = n.dv[n.get](n.voxOffset + idx * n.bytes, true);
  return { dims: n.dims, values: out };
}

/** Whether voxel axis k is the axial one: the sform's z row, or a qform without rotation out of the axial plane. */
function kIsAxial(file) {
  const { dv } = readNiftiLabels(file);
  if (dv.getInt16(254, true) > 0) {
    const z = [312, 316, 320].map((o) => Math.abs(dv.getFloat32(o, true)));
    return z[2] > z[0] && z[2] > z[1];
  }
  return [256, 260].every((o) => Math.abs(dv.getFloat32(o, true)) < 1e-6);
}

/**
 * What the viewer must find for one label, computed here from the NIfTI data: TP / FP / FN voxels, Dice, the axial
 * (k) slice with the most FP + FN and their centroid in it, the ground truth's centroid.
 */
function sliceErrors(segFile, predFile, label) {
  if (!kIsAxial(segFile)) throw new Error(`${segFile}: voxel axis k is not axial`);
  const gt = labelValues(segFile);
  const pred = labelValues(predFile);
  const [nx, ny, nz] = gt.dims;
  const perK = new Array(nz).fill(0);
  const sumI = new Array(nz).fill(0), sumJ = new Array(nz).fill(0);
  const counts = { tp: 0, fp: 0, fn: 0 };
  const gtSum = [0, 0, 0];
  for (let idx = 0; idx < gt.values.length; idx++) {
    const g = gt.values[idx] === label, p = pred.values[idx] === label;
    if (!g && !p) continue;
    const i = idx % nx, j = Math.floor(idx / nx) % ny, k = Math.floor(idx / (nx * ny));
    if (g) { gtSum[0] += i; gtSum[1] += j; gtSum[2] += k; }
    if (g && p) { counts.tp++; continue; }
    if (g) counts.fn++; else counts.fp++;
    perK[k]++; sumI[k] += i; sumJ[k] += j;
  }
  const k = perK.indexOf(Math.max(...perK));
  return {
    counts, dice: (2 * counts.tp) / (2 * counts.tp + counts.fp + counts.fn),
    k, errors: perK[k], voxel: [Math.round(sumI[k] / perK[k]), Math.round(sumJ[k] / perK[k]), k],
    centroid: gtSum.map((x) => Math.round(x / (counts.tp + counts.fn))),
  };
}
const liver = sliceErrors(SEG, PRED, LIVER);
const expected = { counts: liver.counts, worstK: liver.k, worstErrors: liver.errors, worst: liver.voxel, centroid: liver.centroid };
const stsErrors = {
  CT: sliceErrors(path.join(STS, 'CT_mask.nii.gz'), STS_PRED.CT, GTV),
  PET: sliceErrors(path.join(STS, 'PET_mask.nii.gz'), STS_PRED.PET, GTV),
};
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
page.on('console', (m) => { if (process.env.DEBUG_STACK) console.log('console:', m.text()); });
page.on('pageerror', (e) => { pageErrors.push(e.message); if (process.env.DEBUG_STACK) console.log(e.stack); });
await page.addInitScript(() => {
  // Host shim: VS Code injects acquireVsCodeApi into webviews; record what the viewer posts.
  window.__posted = [];
  window.__csp = [];
  // like VS Code, the webview's state outlives the page (kept by the host while the webview is re-created)
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => JSON.parse(sessionStorage.getItem('vscode-state') ?? 'null') ?? undefined,
    setState: (s) => sessionStorage.setItem('vscode-state', JSON.stringify(s)),
  });
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI}`));
  // main-thread tasks over 50 ms: in code-server the webview shares this thread with the workbench (printed, not asserted)
  window.__longTasks = [];
  try { new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true }); } catch { /* no Long Tasks API */ }
});
/** Long main-thread tasks since the last call, as a line for the log. */
const longTasks = async () => {
  const d = await page.evaluate(() => window.__longTasks.splice(0));
  return `${d.length} main-thread tasks over 50 ms, longest ${Math.round(Math.max(0, ...d))} ms, together ${Math.round(d.reduce((a, b) => a + b, 0))} ms`;
};
const posted = (type) => page.evaluate((t) => window.__posted.filter((m) => m.type === t), type);
const waitPosted = async (type, count = 1, timeout = 60000) => {
  await page.waitForFunction(([t, c]) => window.__posted.filter((m) => m.type === t || m.type === 'error').length >= c, [type, count], { timeout });
  const errs = await posted('error');
  if (errs.length) throw new Error(`viewer posted error: ${errs.map((e) => e.message).join('; ')}`);
  return (await posted(type)).at(-1);
};
const shot = async (name, canvas = '#gl') => {
  const file = path.join(RESULTS, name);
  const png = await page.locator(canvas).screenshot({ path: file });
  return { file, stats: await pixelStats(browser, png) };
};
/** Sets a vscode-single-select the way a user's pick does: value, then a change event. */
const choose = (id, value) => page.evaluate(([i, v]) => { const s = document.getElementById(i); s.value = v; s.dispatchEvent(new Event('change')); }, [id, value]);
const crosshair = async (canvas = '#gl') => {
  const d = await page.locator(canvas).evaluate((c) => ({ vox: c.dataset.vox, mm: c.dataset.mm }));
  return { vox: d.vox?.split(',').map(Number), mm: d.mm?.split(',').map(Number) };
};
const sameVox = (a, b) => !!a && !!b && a.length === 3 && a.every((x, i) => x === b[i]);
const waitRendered = (caseId, n = 1) => page.waitForFunction(([c, k]) => window.__posted.filter((m) => (m.type === 'rendered' && m.caseId === c) || m.type === 'error').length >= k, [caseId, n], { timeout: 90000 })
  .then(async () => {
    const errs = await posted('error');
    if (errs.length) throw new Error(`viewer posted error: ${errs.map((e) => e.message).join('; ')}`);
    return (await posted('rendered')).filter((m) => m.caseId === caseId).at(-1);
  });
const stsMsg = (over = {}) => ({
  type: 'load', caseId: 'PETCT_STS_002_CT', title: 'GTV mass · STS_002 · PETCT paired', subtitle: 'CT: prediction = mask shifted 6 voxels', modality: 'CT',
  image: { url: `${origin}/sts/ct.nii.gz`, name: 'CT_image.nii.gz' },
  labels: { url: `${origin}/sts/ct_mask.nii.gz`, name: 'CT_mask.nii.gz' },
  pred: { url: `${origin}/sts/ct_pred.nii.gz`, name: 'ct_pred.nii.gz' },
  organs: [{ id: GTV, name: 'GTV mass' }], organId: GTV,
  paired: {
    caseId: 'PETCT_STS_002_PET', modality: 'PET', subtitle: 'PET: prediction = mask shifted 2 voxels',
    image: { url: `${origin}/sts/pet.nii.gz`, name: 'PET_image.nii.gz' },
    labels: { url: `${origin}/sts/pet_mask.nii.gz`, name: 'PET_mask.nii.gz' },
    pred: { url: `${origin}/sts/pet_pred.nii.gz`, name: 'pet_pred.nii.gz' },
  },
  ...over,
});

const tests = [
  ['page under the nonce CSP runs the bundle; viewer posts "ready"', async () => {
    await page.goto(`${origin}/`);
    await waitPosted('ready', 1, 20000);
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    if (!/script-src 'nonce-[A-Za-z0-9]{32}'/.test(csp) || /unsafe-eval|unsafe-inline/.test(csp)) throw new Error(`unexpected CSP: ${csp}`);
  }],
  ['"load" message -> CT, ground truth and prediction fetched by URL, "rendered" posted', async () => {
    await longTasks();
    await page.evaluate((m) => window.postMessage(m, '*'), loadMsg());
    const r = await waitPosted('rendered', 1, 90000);
    console.log(`    loading the real CT (512 x 512 slices): ${await longTasks()}`);
    // image, ground truth, prediction, error map
    if (r.volumes !== 4) throw new Error(`volumes ${r.volumes}`);
    if (r.panes !== 1) throw new Error(`panes ${r.panes}`);
    if (!(r.voxels.gt > 1000 && r.voxels.pred > 1000)) throw new Error(`organ voxels ${JSON.stringify(r.voxels)}`);
    if (!(r.canvas.width > 200 && r.canvas.height > 200)) throw new Error(`canvas ${JSON.stringify(r.canvas)}`);
    console.log(`    rendered: ${JSON.stringify(r)} (prediction: ${moved} liver voxels shifted)`);
  }],
  ['error map (default): TP / FP / FN counts match the NIfTI data; FP orange right of FN blue for a +i shift (pixel check)', async () => {
    const status = await page.locator('#status').innerText();
    const { tp, fp, fn } = expected.counts;
    if (!status.includes(`TP ${tp}, FP ${fp}, FN ${fn}`)) throw new Error(`status "${status}", expected TP ${tp}, FP ${fp}, FN ${fn}`);
    const legend = await page.locator('#legendError').innerText();
    if (!/TP/.test(legend) || !/FP/.test(legend) || !/FN/.test(legend)) throw new Error(`legend "${legend}"`);
    await choose('sliceType', 'axial');
    await page.waitForTimeout(500);
    const { file, stats } = await shot('webview-error-map.png');
    console.log(`    ${path.relative(ROOT, file)}: ${JSON.stringify(stats)}`);
    if (stats.grey < 20000) throw new Error(`too little greyscale CT: ${stats.grey}`);
    if (stats.green < 300) throw new Error(`TP (green) missing: ${stats.green}`);
    if (stats.red < 300) throw new Error(`FP (orange) missing: ${stats.red}`);
    if (stats.blue < 300) throw new Error(`FN (blue) missing: ${stats.blue}`);
    // the prediction is the liver moved towards +i (patient right, RAS); NiiVue draws patient right on the right
    if (!(stats.redX > stats.blueX + 20)) throw new Error(`FP not right of FN: FP x ${stats.redX}, FN x ${stats.blueX}`);
    await choose('sliceType', 'multiplanar');
  }],
  ['canvas shows greyscale CT with green ground truth and red prediction (overlay mode, pixel check)', async () => {
    await choose('mode', 'overlay');
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
  ['"Worst slice" moves the crosshair to the axial slice with the most FP + FN, at their centroid (voxel from the NIfTI data)', async () => {
    await choose('organ', String(LIVER));
    await choose('mode', 'error');
    await page.locator('#worst').click();
    await page.waitForFunction((v) => document.getElementById('gl').dataset.vox === v, expected.worst.join(','), { timeout: 10000 })
      .catch(async () => { throw new Error(`crosshair ${JSON.stringify(await crosshair())}, expected voxel ${expected.worst}`); });
    const status = await page.locator('#status').innerText();
    if (!status.includes(`worst axial slice ${expected.worstK} `) || !status.includes(`${expected.worstErrors} FP + FN`)) throw new Error(`status "${status}"`);
    await page.waitForTimeout(300);
    const { stats } = await shot('webview-worst-slice.png');
    if (stats.red + stats.blue < 300) throw new Error(`no FP / FN drawn on the worst slice: ${JSON.stringify(stats)}`);
    console.log(`    worst slice k=${expected.worstK} (${expected.worstErrors} FP + FN), crosshair voxel ${expected.worst}`);
  }],
  ['"Centroid" moves the crosshair to the ground truth\'s centroid voxel', async () => {
    await page.locator('#centroid').click();
    await page.waitForFunction((v) => document.getElementById('gl').dataset.vox === v, expected.centroid.join(','), { timeout: 10000 })
      .catch(async () => { throw new Error(`crosshair ${JSON.stringify(await crosshair())}, expected voxel ${expected.centroid}`); });
  }],
  ['state survives the webview being re-created (setState): organ, look and crosshair come back, a re-sent "load" keeps them', async () => {
    await page.locator('#worst').click();
    await choose('colormap', 'hot');
    await choose('opacity', '70');
    const before = await crosshair();
    if (!sameVox(before.vox, expected.worst)) throw new Error(`crosshair ${before.vox} before reload`);
    await page.reload();
    const r = await waitRendered('real_ct-abdomen_CT');
    if (r.organId !== LIVER || r.volumes !== 4) throw new Error(`restored render ${JSON.stringify(r)}`);
    const after = await crosshair();
    if (!sameVox(after.vox, expected.worst)) throw new Error(`crosshair ${after.vox} after reload, expected ${expected.worst}`);
    const state = await page.evaluate(() => JSON.parse(sessionStorage.getItem('vscode-state')).ui);
    if (state.colormap !== 'hot' || state.opacity !== 70 || state.mode !== 'error' || state.organId !== LIVER) throw new Error(`state ${JSON.stringify(state)}`);
    const shown = await page.evaluate(() => ['organ', 'colormap', 'opacity', 'mode'].map((id) => document.getElementById(id).value));
    if (shown.join() !== `${LIVER},hot,70,error`) throw new Error(`controls show ${shown}`);
    // the panel answers the new "ready" with the same case: the restored view stays
    await page.evaluate((m) => window.postMessage(m, '*'), loadMsg());
    await page.waitForTimeout(1500);
    const kept = await crosshair();
    if (!sameVox(kept.vox, expected.worst)) throw new Error(`re-sent load moved the crosshair to ${kept.vox}`);
    if ((await posted('rendered')).length !== 1) throw new Error('re-sent load reloaded the volumes');
  }],
  ['paired view (CT | PET of one patient, real): two canvases, each with its own overlays (pixel check)', async () => {
    await choose('colormap', 'gray');
    await longTasks();
    await page.evaluate((m) => window.postMessage(m, '*'), stsMsg());
    const r = await waitRendered('PETCT_STS_002_CT');
    console.log(`    loading the pair: ${await longTasks()}`);
    if (r.panes !== 2) throw new Error(`panes ${r.panes}`);
    await choose('sliceType', 'axial');
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(RESULTS, 'webview-paired.png') });
    for (const [canvas, name] of [['#gl', 'CT'], ['#gl2', 'PET']]) {
      const { stats } = await shot(`webview-paired-${name}.png`, canvas);
      console.log(`    ${name}: ${JSON.stringify(stats)}`);
      if (stats.width < 200 || stats.grey + stats.red + stats.blue + stats.green < 5000) throw new Error(`${name} image not drawn: ${JSON.stringify(stats)}`);
      if (stats.green < 30) throw new Error(`${name}: TP (green) missing: ${JSON.stringify(stats)}`);
      if (stats.red + stats.blue < 30) throw new Error(`${name}: FP / FN missing: ${JSON.stringify(stats)}`);
    }
    const titles = await page.evaluate(() => [document.getElementById('paneATitle').textContent, document.getElementById('paneBTitle').textContent]);
    if (!/^CT/.test(titles[0]) || !/^PET/.test(titles[1])) throw new Error(`pane titles ${titles}`);
  }],
  ['paired view: a click in one canvas moves the other\'s crosshair to the same world position (mm), both ways', async () => {
    const close = (a, b) => a && b && a.every((x, i) => Math.abs(x - b[i]) < 0.05);
    for (const [from, to, fx, fy] of [['#gl', '#gl2', 0.42, 0.4], ['#gl2', '#gl', 0.58, 0.6]]) {
      const start = await crosshair(from);
      const box = await page.locator(from).boundingBox();
      await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
      await page.waitForFunction((c) => document.querySelector(c).dataset.mm !== undefined, from);
      await page.waitForTimeout(300);
      const a = await crosshair(from);
      const b = await crosshair(to);
      if (close(a.mm, start.mm)) throw new Error(`the click did not move ${from}'s crosshair (${a.mm})`);
      if (!close(a.mm, b.mm)) throw new Error(`not linked: ${from} at ${a.mm} mm, ${to} at ${b.mm} mm`);
      if (sameVox(a.vox, b.vox)) throw new Error(`CT and PET grids differ, yet both crosshairs are at voxel ${a.vox}`);
      console.log(`    ${from} click -> both at ${a.mm} mm (voxels ${a.vox} | ${b.vox})`);
    }
  }],
  ['paired view: "Worst slice" goes to the worst axial slice of the scan with the lower Dice; the other scan follows in mm', async () => {
    const [failing, other] = stsErrors.CT.dice < stsErrors.PET.dice ? ['CT', 'PET'] : ['PET', 'CT'];
    const e = stsErrors[failing];
    const canvas = failing === 'CT' ? '#gl' : '#gl2';
    const follower = failing === 'CT' ? '#gl2' : '#gl';
    console.log(`    Dice CT ${stsErrors.CT.dice.toFixed(3)}, PET ${stsErrors.PET.dice.toFixed(3)}: ${failing} worst slice k=${e.k} (${e.errors} FP + FN) at voxel ${e.voxel}`);
    await page.locator('#worst').click();
    await page.waitForFunction(([c, v]) => document.querySelector(c).dataset.vox === v, [canvas, e.voxel.join(',')], { timeout: 10000 })
      .catch(async () => { throw new Error(`${failing} crosshair ${JSON.stringify(await crosshair(canvas))}, expected voxel ${e.voxel}`); });
    await page.waitForTimeout(300);
    const a = await crosshair(canvas), b = await crosshair(follower);
    if (!a.mm || !b.mm || !a.mm.every((x, i) => Math.abs(x - b.mm[i]) < 0.05)) throw new Error(`not linked: ${canvas} ${a.mm} mm, ${follower} ${b.mm} mm`);
    const status = await page.locator('#status').innerText();
    const dice = (m) => stsErrors[m].dice.toFixed(3);
    if (!status.includes(`worst axial slice ${e.k} of ${failing} (Dice ${dice(failing)} vs ${other} ${dice(other)})`) || !status.includes(`${e.errors} FP + FN`)) {
      throw new Error(`status "${status}"`);
    }
  }],
  ['paired view with the other scan missing says so in the view, no error', async () => {
    await page.evaluate((m) => window.postMessage(m, '*'), stsMsg({ caseId: 'PETCT_STS_002_CT_alone', paired: { missing: 'No PET scan of STS_002 (PETCT) in this run.' } }));
    const r = await waitRendered('PETCT_STS_002_CT_alone');
    if (r.panes !== 1) throw new Error(`panes ${r.panes}`);
    const text = await page.locator('#pairMissing').innerText();
    if (!(await page.locator('#pairMissing').isVisible()) || !/No PET scan of STS_002/.test(text)) throw new Error(`missing note "${text}"`);
    if (!(await page.evaluate(() => document.getElementById('paired').checked))) throw new Error('paired toggle not checked');
    await page.locator('#paired').click();
    const asked = (await posted('paired')).at(-1);
    if (!asked || asked.paired !== false || asked.caseId !== 'PETCT_STS_002_CT_alone') throw new Error(`paired toggle posted ${JSON.stringify(asked)}`);
  }],
  ['theme: the canvas background follows the VS Code theme variables (light, then high contrast)', async () => {
    for (const [cls, bg, rgb] of [['vscode-light', '#f3f3f3', [243, 243, 243]], ['vscode-high-contrast', 'rgb(0, 0, 48)', [0, 0, 48]]]) {
      // what VS Code does on a theme change: new variables on <html>, a new theme class on <body>
      await page.evaluate(([c, b]) => {
        document.documentElement.style.setProperty('--vscode-editor-background', b);
        document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
        document.body.classList.add(c);
      }, [cls, bg]);
      await page.waitForFunction((v) => document.body.dataset.backColor === v, rgb.join(','), { timeout: 5000 });
      await page.waitForTimeout(300);
      const png = await page.locator('#gl').screenshot({ path: path.join(RESULTS, `webview-theme-${cls}.png`) });
      const stats = await pixelStats(browser, png, { back: rgb });
      if (stats.back < 0.05 * stats.width * stats.height) throw new Error(`${cls}: background ${rgb} not drawn: ${JSON.stringify(stats)}`);
      if (stats.grey < 5000) throw new Error(`${cls}: image lost: ${JSON.stringify(stats)}`);
    }
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
