// Loaded by the extension host as extensionTestsPath (bench/activation.mjs): activates UMD Lens once, in a host
// where nothing has activated it yet, and writes what that cost to $UMD_BENCH_RESULT. Plain CommonJS, not bundled,
// so that the probe itself adds nothing to the modules it counts.
//
// VS Code's own activation time (Developer: Show Running Extensions) is code loading + the activate() call. The
// probe measures both the same way: it loads dist/extension.js itself (fresh host: nothing cached) and puts a
// timing wrapper around activate in the module cache, which the host's loader then returns. The time of
// extension.activate() through the API is reported too: it adds the host's own preparation of the extension
// context (storage, secrets, RPC to the window), which no extension code controls.
const fs = require('fs');
const path = require('path');
const { performance } = require('perf_hooks');
const vscode = require('vscode');

exports.run = async function run() {
  // users activate UMD Lens after start-up (a view, a command); the built-in extensions that activate at start-up
  // share the host's thread and the CPU, so the measure waits for them to settle (UMD_BENCH_SETTLE_MS, 0: no wait)
  await new Promise((r) => setTimeout(r, Number(process.env.UMD_BENCH_SETTLE_MS ?? 5000)));
  const ext = vscode.extensions.getExtension('umd-lens.umd-lens');
  if (!ext) throw new Error('umd-lens.umd-lens is not installed in this host');
  const wasActive = ext.isActive;
  const main = require.resolve(path.join(ext.extensionPath, ext.packageJSON.main));
  const before = new Set(Object.keys(require.cache));

  let t = performance.now();
  const mod = require(main);
  const codeLoadingMs = performance.now() - t;
  const loaded = Object.keys(require.cache).filter((f) => !before.has(f))
    .map((f) => ({ file: f, bytes: fs.existsSync(f) ? fs.statSync(f).size : 0 }));

  let activateCallMs;
  require.cache[main].exports = {
    ...mod,
    activate(context) {
      const t0 = performance.now();
      try { return mod.activate(context); } finally { activateCallMs = performance.now() - t0; }
    },
  };
  t = performance.now();
  await ext.activate();
  const apiActivateMs = performance.now() - t;
  const after = new Set(Object.keys(require.cache));
  // modules of other extensions activating meanwhile are theirs; ours live under extensionPath (onnxruntime anywhere)
  const loadedLater = [...after].filter((f) => !before.has(f) && !loaded.some((m) => m.file === f))
    .filter((f) => f.startsWith(ext.extensionPath) || /onnxruntime/.test(f));
  fs.writeFileSync(process.env.UMD_BENCH_RESULT, JSON.stringify({
    wasActive, codeLoadingMs, activateCallMs, apiActivateMs, loaded, loadedLater,
    extensionPath: ext.extensionPath, vscode: vscode.version, node: process.version,
  }));
};
