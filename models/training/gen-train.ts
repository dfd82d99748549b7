// Stand-in for `umd-lens phantom` until dist/cli.js exists: node <bundled>.js --out DIR --subjects N --seed S
import { generatePhantom } from '../../src/core/phantom';

const arg = (name: string, def?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const t0 = Date.now();
generatePhantom({
  outDir: arg('out', 'umd-mini')!,
  subjects: Number(arg('subjects', '6')),
  seed: Number(arg('seed', '1')),
  onProgress: (m) => console.log(m),
}).then((r) => console.log(`${r.files.length} files in ${((Date.now() - t0) / 1000).toFixed(1)} s`));
