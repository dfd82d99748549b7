/**
 * `umd-lens predict` for a promptable model: every non-zero label of --labels is prompted on its own (prompt made
 * from that label's voxels, as evaluate does), the masks are written as one label map (the label's own id; where
 * masks overlap the higher id wins) on the labels' grid, and the prompts with per-click Dice to <out>.prompts.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Modality } from '../../core/dataset/organs';
import type { LoadedModel } from '../../core/model/predict';
import { cropGrid, predictPromptedOrgan } from '../../core/model/promptable/predictPromptedOrgan';
import { officialCropCentre, organInsideCrop } from '../../core/evaluate/officialCrop';
import { readImage, readLabels } from '../../core/nifti/read';
import { writeNifti } from '../../core/nifti/write';
import { boxPrompt, centerPoint, randomPoint, runClicks } from '../../core/prompts';
import type { PromptRecord } from '../../core/prompts/promptRecord';
import type { PromptSpec } from '../../core/prompts/promptSpec';

export async function predictPrompted(model: LoadedModel, imageFile: string, labelsFile: string, modality: Modality | null, out: string,
  opts: { spec: PromptSpec; seed: number; boxJitterMm: number }): Promise<void> {
  const image = readImage(imageFile);
  const labels = readLabels(labelsFile);
  const n = labels.data.length;
  const ids = [...new Set(labels.data)].filter((v) => v !== 0).sort((a, b) => a - b);
  const map = new Uint16Array(n);
  const records: Array<{ label: number; prompt: PromptRecord; dice: number[] }> = [];
  const subject = path.basename(imageFile);
  const dice = (gt: Uint8Array, p: Uint8Array) => {
    let a = 0, b = 0, ab = 0;
    for (let v = 0; v < n; v++) { a += gt[v]; b += p[v]; ab += gt[v] & p[v]; }
    return a + b === 0 ? 1 : (2 * ab) / (a + b);
  };
  for (const id of ids) {
    const gt = new Uint8Array(n);
    for (let v = 0; v < n; v++) if (labels.data[v] === id) gt[v] = 1;
    const name = `label ${id}`;
    // the card's crop rule as evaluate applies it (core/evaluate/officialCrop.ts)
    const centreMm = model.card.crop === 'official' ? officialCropCentre(gt, labels, name) ?? undefined : undefined;
    const run = (points: PromptRecord['points'], box?: PromptRecord['box']) => predictPromptedOrgan(model.session, model.card, model.path, image, modality, { points: points ?? [], box, centreMm }, labels);
    const { spec, seed } = opts;
    let pred: Uint8Array;
    let prompt: PromptRecord;
    let scores: number[];
    if (spec.kind === 'box') {
      const box = boxPrompt(gt, labels, name, opts.boxJitterMm, seed, subject)!;
      prompt = { kind: 'box', seed, box, jitter_mm: opts.boxJitterMm };
      pred = await run([], box);
      scores = [dice(gt, pred)];
    } else if (spec.kind === 'clicks') {
      const r = await runClicks(gt, labels, name, centerPoint(gt, labels, name)!, spec.n, (pts) => run([...pts]), (p) => ({ dice: dice(gt, p), nsd: null }));
      pred = r.prediction;
      prompt = { kind: 'clicks', seed, points: r.clicks.map((c) => c.click) };
      scores = r.clicks.map((c) => c.dice);
    } else {
      const inCrop = centreMm && spec.kind === 'random' ? organInsideCrop(gt, labels, cropGrid(image, model.card, centreMm)) : gt;
      const p = spec.kind === 'random' ? (randomPoint(inCrop, labels, name, seed, subject) ?? randomPoint(gt, labels, name, seed, subject))! : centerPoint(gt, labels, name)!;
      prompt = { kind: spec.kind, seed, points: [p] };
      pred = await run([p]);
      scores = [dice(gt, pred)];
    }
    if (centreMm) prompt.crop_centre_mm = centreMm;
    for (let v = 0; v < n; v++) if (pred[v]) map[v] = id;
    records.push({ label: id, prompt, dice: scores });
    process.stderr.write(`label ${id}: Dice ${scores.map((d) => d.toFixed(3)).join(' -> ')}\n`);
  }
  writeNifti(out, { dims: labels.dims, affine: labels.affine, data: map }, `umd-lens predict ${path.basename(model.path)} --prompt ${opts.spec.kind}`);
  fs.writeFileSync(`${out}.prompts.json`, JSON.stringify(records, null, 2) + '\n');
}
