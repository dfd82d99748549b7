/**
 * Encoder-decoder promptable models (docs/foundation-models.md, section 1): what a 5-click organ costs against a
 * 1-click one when the crop is encoded once and only the decoder runs per click (issue 14's target: 5 clicks at
 * most 1.3x one click). One organ of a UMD-mini CT (generated, seed 1), the engine's own path (promptOrgan: crop,
 * encode, decode, resize the 32^3 logits to 128^3, paste back), clicks as evaluate's clicks:N makes them.
 *   npm run build && node out/bench/promptable.bench.js [--repeat 3] [--clicks 5] [--threads 2] [--organ liver]
 *     [--models DIR] [--no-vitb]
 * Two model pairs, both with SAM-Med3D's tensor signatures:
 * - models/sam-med3d-style (committed, tiny: a few thousand weights): its network costs next to nothing, so
 *   its figures are the engine's own per-click work;
 * - sam-med3d-vitb: a SAM-Med3D-sized pair with seeded random weights (ViT-B 3D encoder, 93M parameters, and a
 *   prompt encoder + two-way mask decoder, 9M), exported by bench/reference/sam_med3d_bench_models.py into a
 *   temp directory (or --models DIR, reused when it already holds them; ~400 MB); --no-vitb skips it.
 * Prints, per pair, min and median over --repeat of: the 1-click organ, the 5-click organ (model calls only, and
 * with the next-click search between them), each later click, the ratios, and the 5-click organ over its own
 * first click (the ratio least disturbed by other load on the machine). Asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ORGANS } from '../src/core/dataset/organs';
import { readImage, readLabels } from '../src/core/nifti/read';
import { generatePhantom } from '../src/core/phantom';
import { loadModel } from '../src/core/model/predict';
import { promptOrgan } from '../src/core/model/promptable/promptOrgan';
import { newOrganPromptState } from '../src/core/model/promptable/promptState';
import { centerPoint, runClicks } from '../src/core/prompts';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' }, clicks: { type: 'string', default: '5' }, threads: { type: 'string', default: '2' },
    organ: { type: 'string', default: 'liver' }, models: { type: 'string' }, 'no-vitb': { type: 'boolean', default: false },
  },
});
const root = path.resolve(__dirname, '../..');
const repeat = Number(values.repeat);
const nClicks = Number(values.clicks);
const now = () => Number(process.hrtime.bigint()) / 1e9;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)] };
};
const ms = (x: number) => `${(x * 1000).toFixed(0)} ms`;

async function main(): Promise<void> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'promptable-bench-'));
  await generatePhantom({ outDir: data, subjects: 1, seed: 1 });
  const dir = path.join(data, 'PETCT', 'sub-001');
  const image = readImage(path.join(dir, 'CT.nii.gz'));
  const labels = readLabels(path.join(dir, 'labels.nii.gz'));
  const id = DEFAULT_ORGANS.find((o) => o.name === values.organ)?.id;
  if (!id) throw new Error(`--organ: one of ${DEFAULT_ORGANS.map((o) => o.name).join(', ')}`);
  const gt = new Uint8Array(labels.data.length);
  for (let v = 0; v < gt.length; v++) gt[v] = labels.data[v] === id ? 1 : 0;
  const first = centerPoint(gt, labels, values.organ!)!;

  const pairs: Array<{ name: string; file: string }> = [{ name: 'sam-med3d-style (committed, tiny network)', file: path.join(root, 'models', 'sam-med3d-style.onnx') }];
  if (!values['no-vitb']) {
    const out = values.models ?? path.join(data, 'vitb');
    const file = path.join(out, 'sam-med3d-vitb.onnx');
    if (!fs.existsSync(file) || !fs.existsSync(path.join(out, 'sam-med3d-vitb.decoder.onnx'))) {
      const t = now();
      const r = spawnSync('/usr/bin/python3', [path.join(root, 'bench', 'reference', 'sam_med3d_bench_models.py'), out], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`sam_med3d_bench_models.py failed:\n${r.stderr}`);
      console.log(`exported the ViT-B pair in ${(now() - t).toFixed(0)} s: ${r.stdout.trim().split('\n').at(-1)}`);
    }
    pairs.push({ name: 'sam-med3d-vitb (SAM-Med3D-sized, random weights)', file });
  }
  console.log(`organ ${values.organ} of UMD-mini sub-001 CT (${labels.dims.join(' x ')} voxels), ${nClicks} clicks, ${values.threads} ORT threads, ${repeat} repeats, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);

  for (const pair of pairs) {
    const model = await loadModel(pair.file, { threads: Number(values.threads) });
    const one: number[] = [];
    const five: number[] = [];
    const fiveAll: number[] = [];
    const later: number[] = [];
    const within: number[] = [];
    let runs = { encoder: 0, decoder: 0 };
    try {
      // warm-up: ORT's first run of each graph allocates its arena
      await promptOrgan(model, image, 'CT', { points: [first] }, newOrganPromptState(), labels);
      for (let r = 0; r < repeat; r++) {
        let t = now();
        await promptOrgan(model, image, 'CT', { points: [first] }, newOrganPromptState(), labels);
        one.push(now() - t);
        const state = newOrganPromptState();
        const calls: number[] = [];
        t = now();
        const res = await runClicks(gt, labels, values.organ!, first, nClicks, async (clicks) => {
          const c = now();
          const m = await promptOrgan(model, image, 'CT', { points: clicks }, state, labels);
          calls.push(now() - c);
          return m;
        }, () => ({ dice: 0, nsd: null }));
        fiveAll.push(now() - t);
        if (res.clicks.length !== nClicks) throw new Error(`only ${res.clicks.length} clicks: the prediction became exact`);
        five.push(calls.reduce((a, b) => a + b, 0));
        within.push(five[five.length - 1] / calls[0]);
        later.push(...calls.slice(1));
        runs = state.runs;
      }
    } finally {
      await model.close();
    }
    const s1 = stats(one), s5 = stats(five), sa = stats(fiveAll), sl = stats(later), sw = stats(within);
    console.log(`\n${pair.name}: graph runs for ${nClicks} clicks: encoder ${runs.encoder}, decoder ${runs.decoder}`);
    console.log(`  1 click              min ${ms(s1.min)}  median ${ms(s1.median)}`);
    console.log(`  ${nClicks} clicks (model)     min ${ms(s5.min)}  median ${ms(s5.median)}   ratio to 1 click: ${(s5.min / s1.min).toFixed(2)}x (min/min), ${(s5.median / s1.median).toFixed(2)}x (median/median)`);
    console.log(`  ${nClicks} clicks (+ next-click search) min ${ms(sa.min)}  median ${ms(sa.median)}   ratio ${(sa.median / s1.median).toFixed(2)}x (median)`);
    console.log(`  each later click     min ${ms(sl.min)}  median ${ms(sl.median)}`);
    // the first click of a 5-click run is a 1-click organ's work: within one run the ratio is immune to load
    // changing between runs, which the ratios above are not on a shared machine
    console.log(`  ${nClicks} clicks / their own first click (same run): min ${sw.min.toFixed(2)}x  median ${sw.median.toFixed(2)}x`);
  }
  fs.rmSync(data, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
