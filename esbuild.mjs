// Bundles every entry point of UMD Lens. onnxruntime-node stays external: it loads a native binary.
// `vscode` is provided by the extension host. Tests are bundled too (nifti-reader-js is ESM-only).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const watch = process.argv.includes('--watch');
// WebAssembly text (.wat) modules are compiled with wabt at build time and imported as their binary bytes.
const watPlugin = {
  name: 'wat',
  setup(build) {
    build.onLoad({ filter: /\.wat$/ }, async (args) => {
      const wabt = await (await import('wabt')).default();
      const module = wabt.parseWat(args.path, fs.readFileSync(args.path, 'utf8'), { simd: true, threads: true, bulk_memory: true });
      try {
        return { contents: new Uint8Array(module.toBinary({}).buffer), loader: 'binary' };
      } finally {
        module.destroy();
      }
    });
  },
};
// The surfel areas' marching-cubes geometry (src/core/metrics/surfelGeometry.ts) does not depend on the spacing: it is
// derived here, once, and embedded as the virtual module `surfel-area-vectors` (a fresh process never derives it).
let areaVectors;
const surfelGeometryPlugin = {
  name: 'surfel-area-vectors',
  setup(build) {
    build.onResolve({ filter: /^surfel-area-vectors$/ }, () => ({ path: 'surfel-area-vectors', namespace: 'surfel-geometry' }));
    build.onLoad({ filter: /.*/, namespace: 'surfel-geometry' }, async () => {
      if (!areaVectors) {
        const out = await esbuild.build({ entryPoints: ['src/core/metrics/surfelGeometry.ts'], bundle: true, write: false, platform: 'node', format: 'cjs', logLevel: 'silent' });
        const mod = { exports: {} };
        new Function('module', 'exports', out.outputFiles[0].text)(mod, mod.exports);
        areaVectors = JSON.stringify(mod.exports.deriveAreaVectors());
      }
      return { contents: areaVectors, loader: 'json', watchFiles: [path.resolve('src/core/metrics/surfelGeometry.ts')] };
    });
  },
};
const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'warning',
  plugins: [watPlugin, surfelGeometryPlugin],
};

const testEntries = fs.existsSync('test')
  ? fs.readdirSync('test', { recursive: true }).map(String)
      .filter((f) => f.endsWith('.test.ts') || f.endsWith('/index.ts') && f.startsWith('workbench'))
      .map((f) => path.join('test', f))
  : [];

const builds = [
  { ...node, entryPoints: { cli: 'src/cli/main.ts', engine: 'src/core/engine/main.ts', extension: 'src/extension/extension.ts', surfaceWorker: 'src/core/metrics/surfaceWorker.ts' }, outdir: 'dist' },
  {
    bundle: true, platform: 'browser', format: 'iife', target: 'chrome120', sourcemap: true, logLevel: 'warning',
    entryPoints: { viewer: 'src/webview/viewer.ts' }, outdir: 'dist/webview',
  },
];
const benchEntries = fs.existsSync('bench') ? fs.readdirSync('bench').filter((f) => f.endsWith('.bench.ts')).map((f) => path.join('bench', f)) : [];
if (benchEntries.length) builds.push({ ...node, entryPoints: benchEntries, outdir: 'out', outbase: '.' });
// a test moved between tiers must not leave its old bundle behind for the runner to pick up
if (testEntries.length) fs.rmSync('out/test', { recursive: true, force: true });
if (testEntries.length) builds.push({ ...node, entryPoints: testEntries, outdir: 'out', outbase: '.', external: [...node.external, 'mocha', 'playwright-core'] });

// Entry points not written yet are skipped, so each layer builds on its own.
const existing = builds
  .map((b) => ({
    ...b,
    entryPoints: Array.isArray(b.entryPoints)
      ? b.entryPoints.filter((e) => fs.existsSync(e))
      : Object.fromEntries(Object.entries(b.entryPoints).filter(([, e]) => fs.existsSync(e))),
  }))
  .filter((b) => Object.keys(b.entryPoints).length > 0);
if (watch) {
  for (const b of existing) await (await esbuild.context(b)).watch();
} else {
  // every bundle is attempted, so one broken entry does not hide the others' errors
  const results = await Promise.allSettled(existing.map((b) => esbuild.build(b)));
  if (results.some((r) => r.status === 'rejected')) process.exitCode = 1;
  const cli = 'dist/cli.js';
  if (fs.existsSync(cli)) {
    const src = fs.readFileSync(cli, 'utf8');
    if (!src.startsWith('#!')) fs.writeFileSync(cli, '#!/usr/bin/env node\n' + src);
    fs.chmodSync(cli, 0o755);
  }
}
