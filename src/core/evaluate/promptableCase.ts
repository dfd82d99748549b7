/**
 * One case with a promptable model: every organ present in the ground truth is prompted on its own (prompt made
 * from that organ's ground truth), and scored from its own binary mask against its own ground truth, so organs
 * never compete for a voxel; masks may overlap, and overlap_voxels records by how much.
 */
import type { Grid } from '../geometry/affine';
import { caseMetrics, type OrganMetrics } from '../metrics/caseMetrics';
import type { MetricProtocol } from '../metrics/protocol';
import type { SurfacePool } from '../metrics/surfacePool';
import type { Modality } from '../dataset/organs';
import type { LoadedModel } from '../model/predict';
import { promptOrgan } from '../model/promptable/promptOrgan';
import { cropGrid } from '../model/promptable/predictPromptedOrgan';
import type { WorldMm } from '../geometry/affine';
import type { ImageVolume } from '../geometry/volume';
import { boxPrompt } from '../prompts/boxPrompt';
import { centerPoint } from '../prompts/centerPoint';
import { runClicks } from '../prompts/clicks';
import type { PromptRecord } from '../prompts/promptRecord';
import type { PromptSpec } from '../prompts/promptSpec';
import { randomPoint } from '../prompts/randomPoint';
import { newOrganPromptState } from '../model/promptable/promptState';
import { missingRowMessage, textRowFor } from '../model/card/textEmbeddings';
import { officialCropCentre, organInsideCrop } from './officialCrop';

export interface PromptOptions {
  spec: PromptSpec;
  seed: number;
  boxJitterMm: number;
  /** Where each organ's crop is centred (card `crop`, recorded in run.json): default "prompt"; "official" = officialCrop.ts. */
  crop?: 'prompt' | 'official';
  /** Cancel: checked before each organ's prompt and each click, so a cancel waits for one model run at most. */
  signal?: AbortSignal;
  /** An organ that cannot be prompted (no text embedding row): it is left out of the case's records, the rest go on. */
  onOrganError?: (message: string) => void;
}

export interface PromptedOrgan {
  id: number;
  scores: OrganMetrics;
  prompt?: PromptRecord;
  clicks?: Array<{ dice: number; nsd: number | null }>;
  dice_auc?: number;
  nsd_auc?: number | null;
  overlap_voxels: number;
  /** Encoder-decoder cards only: graph runs for this organ (the encoder once, the decoder once per click). */
  model_runs?: { encoder: number; decoder: number };
}

/**
 * Scores every requested organ of one case. Organs absent from the ground truth get no prompt and an empty
 * prediction (status from caseMetrics: "absent"). Returns the per-organ results and a label map of the
 * predictions for pred/ (where masks overlap, the organ prompted later wins: only the picture, not the scores).
 */
export async function promptableCase(
  model: LoadedModel, image: ImageVolume, modality: Modality, labels: Grid & { data: ArrayLike<number> }, subject: string,
  organs: ReadonlyArray<{ id: number; organ: string }>, protocol: MetricProtocol, opts: PromptOptions, pool?: SurfacePool,
): Promise<{ organs: PromptedOrgan[]; labelMap: Uint8Array }> {
  const n = labels.data.length;
  const labelMap = new Uint8Array(n);
  const count = new Uint8Array(n);
  const masks = new Map<number, Uint8Array>();
  const results: PromptedOrgan[] = [];
  const score = async (gt: Uint8Array, pred: Uint8Array, organ: string) => (await caseMetrics(labels, gt, pred, [{ id: 1, organ }], protocol, pool)).get(1)!;
  for (const { id, organ } of organs) {
    opts.signal?.throwIfAborted();
    // one state per organ, carried across its clicks: the crop, the previous output, the graph runs
    const state = newOrganPromptState();
    const text = model.text ? textRowFor(model.text, organ, modality) : undefined;
    const gt = new Uint8Array(n);
    for (let v = 0; v < n; v++) if (labels.data[v] === id) gt[v] = 1;
    const { spec, seed } = opts;
    let pred: Uint8Array = new Uint8Array(n);
    const out: Partial<PromptedOrgan> = {};
    const centreMm: WorldMm | undefined = opts.crop === 'official' ? officialCropCentre(gt, labels, organ) ?? undefined : undefined;
    const run = (pts: PromptRecord['points'], box?: PromptRecord['box']) => promptOrgan(model, image, modality, { points: pts ?? [], box, text, centreMm }, state, labels);
    // under the official crop the random click is drawn from the organ inside that crop, as SAM-Med3D draws it
    const inCrop = centreMm && spec.kind === 'random' ? organInsideCrop(gt, labels, cropGrid(image, model.card, centreMm)) : gt;
    const first = spec.kind === 'random' ? randomPoint(inCrop, labels, organ, seed, subject) ?? randomPoint(gt, labels, organ, seed, subject) : centerPoint(gt, labels, organ);
    if (first && model.text && !text) {
      opts.onOrganError?.(missingRowMessage(model.text, organ, modality));
      continue;
    }
    if (first) {
      if (spec.kind === 'box') {
        const box = boxPrompt(gt, labels, organ, opts.boxJitterMm, seed, subject)!;
        out.prompt = { kind: 'box', seed, box, jitter_mm: opts.boxJitterMm };
        pred = await run([], box);
      } else if (spec.kind === 'clicks') {
        const r = await runClicks(gt, labels, organ, first, spec.n, (pts) => { opts.signal?.throwIfAborted(); return run([...pts]); }, async (m) => {
          const s = await score(gt, m, organ);
          return { dice: s.dice ?? 0, nsd: s.nsd };
        });
        pred = r.prediction;
        out.prompt = { kind: 'clicks', seed, points: r.clicks.map((c) => c.click) };
        out.clicks = r.clicks.map((c) => ({ dice: c.dice, nsd: c.nsd }));
        out.dice_auc = r.diceAuc;
        out.nsd_auc = r.nsdAuc;
      } else {
        out.prompt = { kind: spec.kind, seed, points: [first] };
        pred = await run([first]);
      }
      if (model.decoder) out.model_runs = { ...state.runs };
    }
    if (out.prompt && centreMm) out.prompt.crop_centre_mm = centreMm;
    masks.set(id, pred);
    for (let v = 0; v < n; v++) if (pred[v]) { count[v]++; labelMap[v] = id; }
    results.push({ id, scores: await score(gt, pred, organ), overlap_voxels: 0, ...out });
  }
  for (const r of results) {
    const m = masks.get(r.id)!;
    let o = 0;
    for (let v = 0; v < n; v++) if (m[v] && count[v] > 1) o++;
    r.overlap_voxels = o;
  }
  return { organs: results, labelMap };
}
