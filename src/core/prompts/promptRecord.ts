/** The prompt as recorded in a case record (CaseRecord.prompt), so that a run can be replayed and audited. */
import type { PromptBox } from './boxPrompt';
import type { WorldMm } from '../geometry/affine';
import type { PromptPoint } from './promptPoint';

export interface PromptRecord {
  /** center | random | box | clicks (clicks: points are every click given, in order; the first is the center). */
  kind: 'center' | 'random' | 'box' | 'clicks';
  /** --prompt-seed (random point, box jitter); recorded for every kind. */
  seed: number;
  points?: PromptPoint[];
  box?: PromptBox;
  /** box only: the jitter (mm) the box was drawn with. */
  jitter_mm?: number;
  /** Card `crop: "official"` only: the crop's centre (world mm), the centre of the organ's ground truth box. */
  crop_centre_mm?: WorldMm;
}
