/**
 * One organ's surface metrics as a self-contained task: the padded crops, the spacing and the tolerance. The same
 * function runs in a worker thread or inline, so a score does not depend on where it was computed.
 */
import type { SpacingMm } from './edt';
import { scoreSurfaces, surfaceDistances, type MaskPair, type SurfaceScores } from './surface';

export interface SurfaceTask {
  pair: MaskPair;
  spacingMm: SpacingMm;
  toleranceMm: number;
  hdPercentile: number;
}

export function runSurfaceTask(t: SurfaceTask): SurfaceScores {
  return scoreSurfaces(surfaceDistances(t.pair, t.spacingMm), t.toleranceMm, t.hdPercentile);
}
