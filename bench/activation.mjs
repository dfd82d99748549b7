#!/usr/bin/env node
// Activation time of UMD Lens in a real VS Code workbench (code-server + headless Chromium, as the workbench tests):
// each run opens a fresh window, hence a fresh extension host, whose probe (bench/activation-probe.cjs) measures
// activation as VS Code counts it (loading dist/extension.js + the activate() call), the whole
// `extension.activate()` through the API, and lists the modules activation loaded. Prints figures; asserts nothing
// (target: under 50 ms).
//
//   node esbuild.mjs && node bench/activation.mjs [--runs 5] [--settle-ms 5000] [--vsix out/vsix/umd-lens-linux-x64-0.1.0.vsix]
//
// --settle-ms: how long each host runs before the measure (start-up activations of built-in extensions settle;
// 0 measures in the middle of start-up).
// --vsix measures the packaged extension (unzipped, loaded as the development extension) instead of the worktree.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { ROOT, startCodeServer, launchBrowser, runExtensionTests } from '../test/workbench/lib/code-server-host.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const runs = Number(opt('--runs', '5'));
const vsix = opt('--vsix');
const settleMs = opt('--settle-ms', '5000');
const PROBE = path.join(ROOT, 'bench/activation-probe.cjs');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-activation-'));
let extPath = ROOT;
if (vsix) {
  for (const [name, data] of Object.entries(unzipSync(fs.readFileSync(vsix)))) {
    if (!name.startsWith('extension/') || name.endsWith('/')) continue;
    fs.mkdirSync(path.dirname(path.join(tmp, name)), { recursive: true });
    fs.writeFileSync(path.join(tmp, name), data);
  }
  extPath = path.join(tmp, 'extension');
} else if (!fs.existsSync(path.join(ROOT, 'dist/extension.js'))) {
  console.error('dist/extension.js missing: run "node esbuild.mjs" first');
  process.exit(1);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const results = [];
const load0 = os.loadavg()[0];
let server;
let browser;
try {
  server = await startCodeServer({ logFile: path.join(tmp, 'code-server.log') });
  browser = await launchBrowser();
  for (let i = 1; i <= runs; i++) {
    const out = path.join(tmp, `run-${i}.json`);
    const code = await runExtensionTests({
      browser, server, folder: server.dirs.ws,
      extensionDevelopmentPaths: [extPath], extensionTestsPath: PROBE,
      extensionEnv: { UMD_BENCH_RESULT: out, UMD_BENCH_SETTLE_MS: settleMs }, timeoutMs: 180000,
    });
    if (code !== 0 || !fs.existsSync(out)) throw new Error(`run ${i}: the probe failed (exit ${code}); see ${path.join(tmp, 'code-server.log')}`);
    const r = JSON.parse(fs.readFileSync(out, 'utf8'));
    results.push(r);
    if (r.activateCallMs === undefined) throw new Error(`run ${i}: the host did not call the probe's activate wrapper`);
    r.ms = r.codeLoadingMs + r.activateCallMs;
    console.log(`run ${i}: activation ${r.ms.toFixed(1)} ms (code loading ${r.codeLoadingMs.toFixed(1)} + activate() ${r.activateCallMs.toFixed(1)}); `
      + `extension.activate() through the API ${r.apiActivateMs.toFixed(1)} ms${r.wasActive ? ' (ALREADY ACTIVE before the probe: not valid)' : ''}; `
      + `${r.loaded.length + r.loadedLater.length} module(s) loaded`);
  }
} finally {
  await browser?.close().catch(() => {});
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}

const valid = results.filter((r) => !r.wasActive);
const sorted = (k) => valid.map((r) => r[k]).sort((a, b) => a - b);
const median = (v) => (v[(v.length - 1) >> 1] + v[v.length >> 1]) / 2;
const stat = (k) => { const v = sorted(k); return `median ${median(v).toFixed(1)} ms (min ${v[0].toFixed(1)}, max ${v.at(-1).toFixed(1)})`; };
const ms = sorted('ms');
const first = results[0];
const rel = (f) => path.relative(first.extensionPath, f);
const all = [...first.loaded.map((m) => m.file), ...first.loadedLater];
const heavy = all.filter((m) => /onnxruntime|[\\/]engine\.js$|surfaceWorker/.test(m.file));
console.log(`
UMD Lens activation, ${vsix ? `packaged ${path.basename(vsix)}` : 'worktree dist/'}: VS Code ${first.vscode} (code-server), extension host Node ${first.node}, ${os.cpus().length} cores, load average ${load0.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end
  ${valid.length} fresh extension hosts, each measured ${settleMs} ms after it started running the probe
  activation (code loading + activate() call, as VS Code counts it): ${stat('ms')}; target < 50 ms: ${median(ms) < 50 ? 'met' : 'NOT met'}
    code loading (require dist/extension.js): ${stat('codeLoadingMs')}
    activate() call: ${stat('activateCallMs')}
  extension.activate() through the API once the code is loaded (the host's extension-context setup + activate()): ${stat('apiActivateMs')}
  loaded by activation: ${first.loaded.map((m) => `${rel(m.file)} (${kb(m.bytes)})`).join(', ')}; total ${kb(first.loaded.reduce((a, m) => a + m.bytes, 0))}${first.loadedLater.length ? `; then by activate(): ${first.loadedLater.map(rel).join(', ')}` : ''}
  onnxruntime-node or the engine loaded by activation: ${heavy.length ? heavy.map(rel).join(', ') : 'no'}`);
