/**
 * The platform VSIX (scripts/package.mjs + .vscodeignore, through vsce): packages linux-x64 for real, lists the
 * zip, and loads the packaged onnxruntime-node from the unpacked VSIX to run the packaged demo checkpoint.
 * Only linux-x64 is packaged here (each target takes seconds and the tests run on linux-x64); `npm run package`
 * builds the others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unzipSync } from 'fflate';
import { repoRoot } from '../helpers/realData';

const ROOT = repoRoot();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-package-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;

/** Packages one target into tmp; returns the VSIX bytes and its file names. */
function packageTarget(target: string): { entries: string[]; zip: Uint8Array; log: string } {
  const r = spawnSync(process.execPath, ['scripts/package.mjs', '--target', target, '--out', tmp, '--no-build'], { cwd: ROOT, encoding: 'utf8' });
  const log = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `package.mjs failed:\n${log}`);
  const zip = fs.readFileSync(path.join(tmp, `umd-lens-${target}-${version}.vsix`));
  const entries: string[] = [];
  unzipSync(zip, { filter: (f) => { entries.push(f.name); return false; } });
  return { entries, zip, log };
}

test('linux-x64 VSIX: the bundles, only the linux-x64 onnxruntime binary, no sources or dev dependencies', () => {
  const { entries, zip, log } = packageTarget('linux-x64');
  for (const f of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/engine.js', 'extension/dist/surfaceWorker.js',
    'extension/dist/webview/viewer.js', 'extension/media/viewer.css', 'extension/schemas/umd.gates.schema.json',
    'extension/models/umd-mini-ct-only.onnx', 'extension/models/umd-mini-ct-only.umd.json',
    'extension/node_modules/onnxruntime-node/dist/index.js', 'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
    'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node']) {
    assert.ok(entries.includes(f), `${f} missing from the VSIX`);
  }
  const binaries = entries.filter((e) => e.includes('/onnxruntime-node/bin/'));
  const platforms = new Set(binaries.map((e) => e.split('/').slice(5, 7).join('/')));
  assert.deepEqual([...platforms], ['linux/x64'], `binaries of other platforms: ${binaries.join(', ')}`);
  const leaked = entries.filter((e) => /^extension\/(src|test|bench|out|test-host|scripts)\/|\.map$|\.ts$|^extension\/node_modules\/(?!onnxruntime-(node|common)\/)/.test(e));
  assert.deepEqual(leaked, [], 'sources, maps or other dependencies in the VSIX');
  // for the walkthrough: its markdown travels with it
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const w of manifest.contributes.walkthroughs ?? []) {
    for (const s of w.steps) if (s.media?.markdown) assert.ok(entries.includes(`extension/${s.media.markdown}`), `${s.media.markdown} missing from the VSIX`);
  }
  const vsixManifest = new TextDecoder().decode(unzipSync(zip, { filter: (f) => f.name === 'extension.vsixmanifest' })['extension.vsixmanifest']);
  assert.match(vsixManifest, /TargetPlatform="linux-x64"/);
  assert.match(log, /linux-x64\s+\d+\.\d\s+\d+\.\d/, 'size table printed');
});

test('the packaged onnxruntime-node loads from the unpacked VSIX and runs the packaged demo checkpoint', () => {
  const zip = fs.readFileSync(path.join(tmp, `umd-lens-linux-x64-${version}.vsix`));
  const files = unzipSync(zip, { filter: (f) => f.name.startsWith('extension/') && !f.name.startsWith('extension/dist/webview/') });
  const dir = path.join(tmp, 'unpacked');
  for (const [name, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), data);
  }
  const card = JSON.parse(fs.readFileSync(path.join(dir, 'extension/models/umd-mini-ct-only.umd.json'), 'utf8'));
  // a child process resolving onnxruntime-node the way dist/engine.js does, from extension/dist
  const probe = `
    const ort = require(require.resolve('onnxruntime-node', { paths: [${JSON.stringify(path.join(dir, 'extension/dist'))}] }));
    (async () => {
      const s = await ort.InferenceSession.create(${JSON.stringify(path.join(dir, 'extension/models/umd-mini-ct-only.onnx'))});
      const shape = [1, 1, ...${JSON.stringify(card.patchSize)}];
      const x = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
      const out = await s.run({ [s.inputNames[0]]: x });
      const y = out[s.outputNames[0]];
      console.log(JSON.stringify({ resolved: require.resolve('onnxruntime-node', { paths: [${JSON.stringify(path.join(dir, 'extension/dist'))}] }), dims: y.dims }));
    })().catch((e) => { console.error(e.message); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', probe], { cwd: tmp, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { resolved, dims } = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(resolved.startsWith(dir), `onnxruntime-node resolved outside the VSIX: ${resolved}`);
  // background + every organ of the card, on the card's patch
  assert.deepEqual(dims, [1, Object.keys(card.labels).length + 1, ...card.patchSize]);
});
