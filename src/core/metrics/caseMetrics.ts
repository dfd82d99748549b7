/**
 * Every metric for every requested organ of one case: one pass over both label maps for counts and boxes, then
 * per organ with both masks present the surface metrics inside the organ's box (in parallel across organs).
 *
 * Empty masks (recorded with each score as `status`):
 *   both-empty      every score null; excluded from means and counted
 *   false-positive  organ absent from the ground truth but predicted: dice 0, iou 0, nsd 0, hd95/hd/assd null
 *   missed          organ present but not predicted: dice 0, iou 0, nsd 0, hd95/hd/assd null
 */
import { spacingMm, type Grid } from '../geometry/affine';
import type { VoxelData } from '../nifti/volume';
import { cropLabel, scanLabels } from './labelScan';
import { scoreOverlap, type OverlapScores } from './overlap';
import { toleranceFor, type MetricProtocol } from './protocol';
import { SurfacePool } from './surfacePool';

export interface OrganMetrics extends OverlapScores {
  nsd: number | null;
  hd95: number | null;
  hd: number | null;
  assd: number | null;
  /** The NSD tolerance this organ was scored with. */
  tau_mm: number;
}

export interface LabelRequest {
  id: number;
  /** Organ name, used to find a per-organ tolerance. */
  organ?: string;
}

/** Both label maps on one grid (the ground truth's). */
export async function caseMetrics(
  grid: Grid, gt: VoxelData, pred: VoxelData, labels: readonly LabelRequest[], protocol: MetricProtocol, pool?: SurfacePool,
): Promise<Map<number, OrganMetrics>> {
  const spacing = spacingMm(grid.affine);
  const scan = scanLabels(gt, pred, grid.dims);
  const ownPool = pool ?? new SurfacePool(1);
  const out = new Map<number, OrganMetrics>();
  // biggest boxes first, so that the last organ to finish is a small one
  const order = [...labels].sort((a, b) => boxVoxels(scan.boxes.get(b.id)) - boxVoxels(scan.boxes.get(a.id)));
  await Promise.all(order.map(async ({ id, organ }) => {
    const overlap = scoreOverlap(scan.counts.get(id), grid.affine);
    const tau = toleranceFor(protocol, organ, id);
    const base: OrganMetrics = { ...overlap, nsd: null, hd95: null, hd: null, assd: null, tau_mm: tau };
    if (overlap.status === 'missed' || overlap.status === 'false-positive') base.nsd = 0;
    if (overlap.status === 'ok') {
      const pair = cropLabel(gt, pred, grid.dims, id, scan.boxes.get(id)!);
      const s = await ownPool.run({ pair, spacingMm: spacing, toleranceMm: tau, hdPercentile: protocol.hdPercentile });
      Object.assign(base, { nsd: s.nsd, hd95: s.hd95, hd: s.hd, assd: s.assd });
    }
    out.set(id, base);
  }));
  if (!pool) await ownPool.close();
  return new Map(labels.map((l) => [l.id, out.get(l.id)!]));
}

function boxVoxels(b: { lo: number[]; hi: number[] } | undefined): number {
  return b ? (b.hi[0] - b.lo[0] + 1) * (b.hi[1] - b.lo[1] + 1) * (b.hi[2] - b.lo[2] + 1) : 0;
}
