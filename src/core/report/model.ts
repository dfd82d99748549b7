import { compareRuns, type Comparison } from '../analysis/compare';
import { illusion, modalityGap, type GapRow, type IllusionRow } from '../analysis/gap';
import type { StoredRun } from '../runstore/runStore';
import type { Modality, Study } from '../dataset/organs';
import type { CaseRecord, RunPrompting } from '../runstore/schema';

export const REPORT_FORMAT = 1;

/**
 * Mean of one score over the organ's scored cases of one scan (study x modality). `n` counts records with a
 * non-null value of that score; `skipped` counts the organ's records of the scan where Dice is null (both masks
 * empty, or an error). A mean over no values is null.
 */
export interface SummaryCell {
  organ: string;
  study: Study;
  modality: Modality;
  n: number;
  skipped: number;
  dice: number | null;
  nsd: number | null;
  hd95: number | null;
}

export interface Report {
  format: number;
  run: {
    dir: string;
    model: { name: string; path: string; sha256: string };
    cardSource: unknown;
    protocol: { name: string; custom: boolean; toleranceByOrganMm: Record<string, number> };
    /** How each organ was asked for (run.json prompting); null for runs written before it was recorded. */
    prompting: RunPrompting | null;
    startedAt: string;
    finishedAt: string | null;
    versions: { umdLens: string; onnxruntime: string; node: string };
  };
  summary: SummaryCell[];
  gap: GapRow[];
  illusion: IllusionRow[];
  comparison: (Comparison & { baselineDir: string }) | null;
  errors: Array<{ subject: string; study: Study; modality: Modality; organ: string | null; error: string }>;
}

/** One line on how the organs were asked for: "prompt random (card pointRule), seed 0, crop official", "classes: class-id". */
export function promptingLabel(p: RunPrompting | null): string | null {
  if (!p) return null;
  if (p.model === 'semantic') return `classes: ${p.classes === 'all' ? 'all in one pass' : p.classes}`;
  const kind = p.prompt.kind === 'clicks' ? `clicks:${p.prompt.n}` : p.prompt.kind;
  const rule = p.pointRule ? ` (${p.pointRule.source === 'card' ? "the card's pointRule" : 'default rule'})` : '';
  return `prompt ${kind}${rule}, seed ${p.seed}${p.prompt.kind === 'box' ? `, jitter ${p.boxJitterMm} mm` : ''}, crop ${p.crop}`;
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
}

/** Per organ x scan means, in the order organs and scans first appear in cases.jsonl. */
export function summarize(cases: readonly CaseRecord[]): SummaryCell[] {
  const groups = new Map<string, CaseRecord[]>();
  for (const r of cases) {
    if (r.organ === null) continue;
    const k = JSON.stringify([r.organ, r.study, r.modality]);
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  return [...groups.entries()].map(([k, rs]) => {
    const [organ, study, modality] = JSON.parse(k) as [string, Study, Modality];
    const vals = (f: 'dice' | 'nsd' | 'hd95') => rs.map((r) => r[f]).filter((v): v is number => typeof v === 'number');
    const dice = vals('dice');
    return { organ, study, modality, n: dice.length, skipped: rs.length - dice.length, dice: mean(dice), nsd: mean(vals('nsd')), hd95: mean(vals('hd95')) };
  });
}

/** The whole report of a run (and its comparison with a baseline run, when given). Deterministic for a run. */
export function buildReport(run: StoredRun, baseline?: StoredRun): Report {
  const m = run.manifest;
  return {
    format: REPORT_FORMAT,
    run: {
      dir: run.dir,
      model: { name: m.model.name, path: m.model.path, sha256: m.model.sha256 },
      cardSource: m.cardSource ?? null,
      protocol: { name: String(m.protocol?.name ?? ''), custom: !!m.protocol?.custom, toleranceByOrganMm: m.protocol?.toleranceByOrganMm ?? {} },
      prompting: m.prompting ?? null,
      startedAt: m.startedAt,
      finishedAt: m.finishedAt ?? null,
      versions: m.versions,
    },
    summary: summarize(run.cases),
    gap: modalityGap(run),
    illusion: illusion(run),
    comparison: baseline ? { ...compareRuns(run, baseline), baselineDir: baseline.dir } : null,
    errors: run.cases.filter((r) => r.status === 'error').map((r) => ({ subject: r.subject, study: r.study, modality: r.modality, organ: r.organ, error: r.error ?? '' })),
  };
}
