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
import type { LabelScan, VoxelBox } from './labelScan';
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
 * Both label maps on one grid (the ground truth's). `labels` may be chosen from the labels present in either map
 * (a function of them), so that the maps are not scanned twice.
 *
 * Maps the pool's workers scanned as they inflated them (readLabelsOnPool) are not scanned again: their labels and
 * boxes come from those scans, and each organ's overlap is counted inside its box by its surface task.
 */
export async function caseMetrics(
  grid: Grid, gt: LabelData, pred: LabelData, labelsOrChoice: readonly LabelRequest[] | ((present: readonly number[]) => readonly LabelRequest[]),
  protocol: MetricProtocol, pool?: SurfacePool,
): Promise<Map<number, OrganMetrics>> {
  const spacing = spacingMm(grid.affine);
  const ownPool = pool ?? new SurfacePool(1);
  // in the pool's heap (the kernels' memory): copies, given back at the end, where they were not there already
  const g = ownPool.share(gt);
  const p = ownPool.share(pred);
  try {
    const dims = grid.dims;
    if (g.length !== p.length) throw new Error(`label maps differ in size (${g.length} vs ${p.length} voxels)`);
    const byMap = mapScans(ownPool, g, p);
    const scanning = byMap ? Promise.resolve(byMap) : scanInSlabs(ownPool, g, p, dims);
    // once for all organs, here while the workers scan, so that no worker builds it (see labelSurfaceDistances)
    const areaMm2ByCode = surfelAreaTable(spacing);
    const scan = await scanning;
    const labels = typeof labelsOrChoice === 'function' ? labelsOrChoice([...scan.boxes.keys()].sort((x, y) => x - y)) : labelsOrChoice;
    const out = new Map<number, OrganMetrics>();
    // biggest boxes first, so that the last organ to finish is a small one
    const order = [...labels].sort((a, b) => boxVoxels(scan.boxes.get(b.id)) - boxVoxels(scan.boxes.get(a.id)));
    await Promise.all(order.map(async ({ id, organ }) => {
      const tau = toleranceFor(protocol, organ, id);
      // counts known (a joint scan), or the voxels of each map with the overlap still to count
      const known = 'counts' in scan ? scan.counts.get(id) : undefined;
      const inGt = 'counts' in scan ? (known ? known.tp + known.fn : 0) : scan.voxels.gt.get(id) ?? 0;
      const inPred = 'counts' in scan ? (known ? known.tp + known.fp : 0) : scan.voxels.pred.get(id) ?? 0;
      let counts = 'counts' in scan ? known : inGt + inPred > 0 ? { tp: 0, fp: inPred, fn: inGt } : undefined;
      let surface: { nsd: number; hd95: number; hd: number; assd: number } | undefined;
      if (inGt > 0 && inPred > 0) {
        const s = await ownPool.run({
          kind: 'surface', gt: g, pred: p, dims, label: id, box: scan.boxes.get(id)!,
          spacingMm: spacing, toleranceMm: tau, hdPercentile: protocol.hdPercentile, areaMm2ByCode, countOverlap: !('counts' in scan),
        });
        if (s.overlap !== undefined) counts = { tp: s.overlap, fp: inPred - s.overlap, fn: inGt - s.overlap };
        surface = { nsd: s.nsd, hd95: s.hd95, hd: s.hd, assd: s.assd };
      }
      const overlap = scoreOverlap(counts, grid.affine);
      const base: OrganMetrics = { ...overlap, nsd: null, hd95: null, hd: null, assd: null, tau_mm: tau };
      if (overlap.status === 'missed' || overlap.status === 'false-positive') base.nsd = 0;
      if (overlap.status === 'ok' && surface) Object.assign(base, surface);
      out.set(id, base);
    }));
    return new Map(labels.map((l) => [l.id, out.get(l.id)!]));
  } finally {
    ownPool.unshare(gt, g);
    ownPool.unshare(pred, p);
    if (!pool) await ownPool.close();
  }
}

/** A case known from its maps' own scans: per map the voxels of each label, and the boxes of their union. */
interface ScansByMap {
  voxels: { gt: Map<number, number>; pred: Map<number, number> };
  boxes: Map<number, VoxelBox>;
}

/** The maps' own scans (made as they were inflated), when the pool has both; both maps of one kind. */
function mapScans(pool: SurfacePool, gt: LabelData, pred: LabelData): ScansByMap | undefined {
  const a = pool.scanOf(gt), b = pool.scanOf(pred);
  if (!a || !b || (gt instanceof Uint16Array) !== (pred instanceof Uint16Array)) return undefined;
  const boxes = new Map<number, VoxelBox>();
  for (const scan of [a, b]) {
    for (const [l, box] of scan.boxes) {
      const have = boxes.get(l);
      if (!have) { boxes.set(l, { lo: [...box.lo], hi: [...box.hi] }); continue; }
      for (let x = 0; x < 3; x++) { have.lo[x] = Math.min(have.lo[x], box.lo[x]); have.hi[x] = Math.max(have.hi[x], box.hi[x]); }
    }
  }
  return { voxels: { gt: a.voxels, pred: b.voxels }, boxes };
}

/** The one pass over both maps, cut into one slab of x2-planes per thread; counts add up, boxes unite. */
async function scanInSlabs(pool: SurfacePool, gt: LabelData, pred: LabelData, dims: Grid['dims']): Promise<LabelScan> {
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
