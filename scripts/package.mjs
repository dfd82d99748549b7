#!/usr/bin/env node
// `npm run package`: one VSIX per platform onnxruntime-node ships a CPU binary for, each carrying only that
// platform's binary (a universal VSIX would carry all of them, ~290 MB). Prints a size table.
//   node scripts/package.mjs [--target linux-x64 ...] [--out <dir>] [--no-build]
// vsce runs offline: it reads the production dependency tree with `npm list` (local) and zips what
// .vscodeignore lets through; this script adds the one binary folder of the target to that allow-list.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const BIN = path.join(ROOT, 'node_modules/onnxruntime-node/bin');

/** vsce target -> the binary folder under onnxruntime-node/bin, for every platform the package ships. */
function availableTargets() {
  const targets = {};
  for (const napi of fs.readdirSync(BIN)) {
    for (const platform of fs.readdirSync(path.join(BIN, napi))) {
      for (const arch of fs.readdirSync(path.join(BIN, napi, platform))) {
        targets[`${platform}-${arch}`] = `node_modules/onnxruntime-node/bin/${napi}/${platform}/${arch}`;
      }
    }
  }
  return targets;
}

function parseArgs(argv) {
  const opts = { targets: [], out: path.join(ROOT, 'out/vsix'), build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') opts.targets.push(argv[++i]);
    else if (a === '--out') opts.out = path.resolve(argv[++i]);
    else if (a === '--no-build') opts.build = false;
    else throw new Error(`unknown argument ${a} (use --target <platform-arch>, --out <dir>, --no-build)`);
  }
  return opts;
}

const mb = (n) => (n / 1024 / 1024).toFixed(1);
const dirSize = (d) => fs.readdirSync(d, { recursive: true }).map((f) => fs.statSync(path.join(d, String(f))))
  .filter((s) => s.isFile()).reduce((a, s) => a + s.size, 0);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const all = availableTargets();
  const targets = opts.targets.length ? opts.targets : Object.keys(all).sort();
  const unknown = targets.filter((t) => !all[t]);
  if (unknown.length) {
    console.error(`no onnxruntime-node binary for ${unknown.join(', ')} (this version ships: ${Object.keys(all).sort().join(', ')})`);
    process.exit(1);
  }
  if (opts.build && spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) process.exit(1);
  for (const f of ['dist/extension.js', 'dist/engine.js', 'dist/webview/viewer.js']) {
    if (!fs.existsSync(path.join(ROOT, f))) { console.error(`${f} missing: run "node esbuild.mjs" first`); process.exit(1); }
  }
  const { createVSIX } = require('@vscode/vsce');
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  const base = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-lens-package-'));
  fs.mkdirSync(opts.out, { recursive: true });
  const rows = [];
  try {
    for (const target of targets) {
      const ignoreFile = path.join(tmp, `${target}.vscodeignore`);
      fs.writeFileSync(ignoreFile, `${base}\n!${all[target]}/**\n`);
      const packagePath = path.join(opts.out, `umd-lens-${target}-${version}.vsix`);
      await createVSIX({
        cwd: ROOT, packagePath, target, ignoreFile,
        useYarn: false, dependencies: true,
        // no repository yet: README links stay relative instead of being rewritten to one
        allowMissingRepository: true, rewriteRelativeLinks: false,
      });
      rows.push([target, mb(fs.statSync(packagePath).size), mb(dirSize(path.join(ROOT, all[target]))), path.relative(process.cwd(), packagePath)]);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const head = ['target', 'VSIX MB', 'onnxruntime binary MB (unpacked)', 'file'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);
}

main().catch((e) => {
  console.error(`package: ${e.message}`);
  process.exit(1);
});
