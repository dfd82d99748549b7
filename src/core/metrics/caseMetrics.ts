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
import type { LabelScan } from './labelScan';
import { scoreOverlap, type OverlapScores } from './overlap';
import { toleranceFor, type MetricProtocol } from './protocol';
import { SurfacePool } from './surfacePool';
import { surfelAreaTable } from './surfelAreas';
import type { LabelData } from './surfaceTask';

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

/**
 * Both label maps on one grid (the ground truth's). `labels` may be chosen from the case's own scan (the labels
 * present, for example), so that the maps are not scanned twice.
 */
export async function caseMetrics(
  grid: Grid, gt: LabelData, pred: LabelData, labelsOrChoice: readonly LabelRequest[] | ((scan: LabelScan) => readonly LabelRequest[]),
  protocol: MetricProtocol, pool?: SurfacePool,
): Promise<Map<number, OrganMetrics>> {
  const spacing = spacingMm(grid.affine);
  const ownPool = pool ?? new SurfacePool(1);
  // in the pool's heap (the kernels' memory): copies, given back at the end, where they were not there already
  const g = ownPool.share(gt);
  const p = ownPool.share(pred);
  try {
    const dims = grid.dims;
    const scanning = scanInSlabs(ownPool, g, p, dims);
    // once for all organs, here while the workers scan, so that no worker builds it (see labelSurfaceDistances)
    const areaMm2ByCode = surfelAreaTable(spacing);
    const scan = await scanning;
    const labels = typeof labelsOrChoice === 'function' ? labelsOrChoice(scan) : labelsOrChoice;
    const out = new Map<number, OrganMetrics>();
    // biggest boxes first, so that the last organ to finish is a small one
    const order = [...labels].sort((a, b) => boxVoxels(scan.boxes.get(b.id)) - boxVoxels(scan.boxes.get(a.id)));
    await Promise.all(order.map(async ({ id, organ }) => {
      const overlap = scoreOverlap(scan.counts.get(id), grid.affine);
      const tau = toleranceFor(protocol, organ, id);
      const base: OrganMetrics = { ...overlap, nsd: null, hd95: null, hd: null, assd: null, tau_mm: tau };
      if (overlap.status === 'missed' || overlap.status === 'false-positive') base.nsd = 0;
      if (overlap.status === 'ok') {
        const s = await ownPool.run({
          kind: 'surface', gt: g, pred: p, dims, label: id, box: scan.boxes.get(id)!,
          spacingMm: spacing, toleranceMm: tau, hdPercentile: protocol.hdPercentile, areaMm2ByCode,
        });
        Object.assign(base, { nsd: s.nsd, hd95: s.hd95, hd: s.hd, assd: s.assd });
      }
      out.set(id, base);
    }));
    return new Map(labels.map((l) => [l.id, out.get(l.id)!]));
  } finally {
    ownPool.unshare(gt, g);
    ownPool.unshare(pred, p);
    if (!pool) await ownPool.close();
  }
}

/** The one pass over both maps, cut into one slab of x2-planes per thread; counts add up, boxes unite. */
async function scanInSlabs(pool: SurfacePool, gt: LabelData, pred: LabelData, dims: Grid['dims']): Promise<LabelScan> {
  if (gt.length !== pred.length) throw new Error(`label maps differ in size (${gt.length} vs ${pred.length} voxels)`);
  const slabs = Math.max(1, Math.min(pool.threads, dims[2]));
  const parts = await Promise.all(Array.from({ length: slabs }, (_, s) => pool.run({
    kind: 'scan', gt, pred, dims: [dims[0], dims[1], dims[2]], k0: Math.floor((s * dims[2]) / slabs), k1: Math.floor(((s + 1) * dims[2]) / slabs),
  })));
  const [first, ...rest] = parts;
  for (const part of rest) {
    for (const [l, c] of part.counts) {
      const have = first.counts.get(l);
      if (!have) { first.counts.set(l, c); first.boxes.set(l, part.boxes.get(l)!); continue; }
      have.tp += c.tp; have.fp += c.fp; have.fn += c.fn;
      const a = first.boxes.get(l)!, b = part.boxes.get(l)!;
      for (let x = 0; x < 3; x++) { a.lo[x] = Math.min(a.lo[x], b.lo[x]); a.hi[x] = Math.max(a.hi[x], b.hi[x]); }
    }
  }
  return first;
}

function boxVoxels(b: { lo: number[]; hi: number[] } | undefined): number {
  return b ? (b.hi[0] - b.lo[0] + 1) * (b.hi[1] - b.lo[1] + 1) * (b.hi[2] - b.lo[2] + 1) : 0;
}
