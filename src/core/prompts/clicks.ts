/**
 * Iterative refinement clicks as the CVPR 2025 "Foundation Models for Interactive 3D Biomedical Image
 * Segmentation" challenge simulates them: after each prediction, the next click goes to the centre of the largest
 * connected error region; positive where the organ was missed (false negative), negative where the model
 * segmented background (false positive).
 */
import { spacingMm, type Grid } from '../geometry/affine';
import { farthestInteriorOffset } from './centerPoint';
import { largestComponent } from './components';
import { checkMask, pointAt, type PromptPoint } from './promptPoint';

/**
 * The next click for a prediction `pred` of ground truth `gt` (both 0/1 on `grid`): error = (pred != gt); its
 * largest 26-connected component; the voxel of that component farthest from the component's boundary (exact EDT
 * in mm, see farthestInteriorOffset); label 1 when gt is set there (a miss), 0 otherwise (a false positive).
 * Null when the prediction is exact.
 */
export function nextClick(gt: Uint8Array, pred: Uint8Array, grid: Grid, organ: string): PromptPoint | null {
  checkMask(gt, grid, organ);
  checkMask(pred, grid, `${organ} (prediction)`);
  const error = new Uint8Array(gt.length);
  for (let v = 0; v < gt.length; v++) error[v] = (gt[v] ? 1 : 0) ^ (pred[v] ? 1 : 0);
  const region = largestComponent(error, grid.dims);
  if (!region) return null;
  const at = farthestInteriorOffset(region.mask, grid.dims, spacingMm(grid.affine));
  return pointAt(grid, at, gt[at] ? 1 : 0);
}

/** Dice and NSD of the prediction after one click (the first entry is after the first click). */
export interface ClickScore {
  click: PromptPoint;
  dice: number;
  /** Null where NSD is undefined (caseMetrics: both masks empty). */
  nsd: number | null;
}

/**
 * Area under a score-per-click curve, normalized to [0, 1]: the trapezoid rule over click index 1..N
 * (sum_{n=1}^{N-1} (s_n + s_{n+1}) / 2) divided by N - 1, i.e. the mean height of the piecewise-linear curve.
 * A curve at 1 after every click has AUC 1. With a single click the AUC is that click's score. NaN scores
 * (an undefined metric) make the AUC NaN. Throws on an empty curve.
 */
export function clickAuc(scores: readonly number[]): number {
  if (scores.length === 0) throw new Error('click AUC: no clicks');
  if (scores.length === 1) return scores[0];
  let area = 0;
  for (let n = 0; n + 1 < scores.length; n++) area += (scores[n] + scores[n + 1]) / 2;
  return area / (scores.length - 1);
}

/**
 * Runs `maxClicks` rounds: the first click is `first` (the center click), each later one is nextClick on the
 * previous prediction; `predict` gets every click so far and returns the organ's 0/1 mask on `grid`; `score`
 * returns Dice and NSD of a mask (NSD AUC is null when any NSD is). Stops early when a prediction is exact (no error region is left), as the
 * challenge does; the record then holds fewer than maxClicks entries.
 */
export async function runClicks(
  gt: Uint8Array,
  grid: Grid,
  organ: string,
  first: PromptPoint,
  maxClicks: number,
  predict: (clicks: readonly PromptPoint[]) => Promise<Uint8Array>,
  score: (pred: Uint8Array) => { dice: number; nsd: number | null } | Promise<{ dice: number; nsd: number | null }>,
): Promise<{ clicks: ClickScore[]; prediction: Uint8Array; diceAuc: number; nsdAuc: number | null }> {
  if (!(Number.isInteger(maxClicks) && maxClicks >= 1)) throw new Error(`clicks for ${organ}: the number of clicks must be a positive integer (got ${maxClicks})`);
  const given: PromptPoint[] = [first];
  const record: ClickScore[] = [];
  let prediction = await predict(given);
  for (;;) {
    const s = await score(prediction);
    record.push({ click: given[given.length - 1], dice: s.dice, nsd: s.nsd });
    if (given.length >= maxClicks) break;
    const next = nextClick(gt, prediction, grid, organ);
    if (!next) break;
    given.push(next);
    prediction = await predict(given);
  }
  return {
    clicks: record,
    prediction,
    diceAuc: clickAuc(record.map((r) => r.dice)),
    nsdAuc: record.some((r) => r.nsd === null) ? null : clickAuc(record.map((r) => r.nsd as number)),
  };
}
