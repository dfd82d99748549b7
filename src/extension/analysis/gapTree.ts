/**
 * The "Modality Gap" view: for one run, each organ's paired gap between the scans of the same subjects
 * (analysis/gap.ts, computed in the engine process: 10,000 bootstrap resamples per cell). Organ -> pair
 * (CT vs PET, MRI vs PET, CT vs MRI) with the mean difference, its 95% interval and Holm-adjusted p -> the
 * subjects that drop most, each opening the paired viewer. Organs with the largest gap to PET come first.
 * When the model card reports scores, a "Reported vs measured" section comes first: per organ the card's score,
 * the measured mean on each scan and the largest gap reported - measured (the generalization illusion,
 * analysis/illusionTable.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import type { GapPair, GapRow, GapSubject } from '../../core/analysis/gap';
import { GAP_PAIRS, type IllusionRow } from '../../core/analysis/gap';
import { illusionTable, scanLabel, type IllusionTableRow, type ScanKey } from '../../core/analysis/illusionTable';
import type { CaseRecord } from '../../core/runstore/schema';
import { OPEN_PAIRED_CASE_COMMAND } from '../runs/runsTree';

export type GapNode =
  | { kind: 'header'; runDir: string }
  | { kind: 'illusion'; organs: number }
  | { kind: 'illusionOrgan'; organ: string; rows: IllusionTableRow[]; scans: ScanKey[] }
  | { kind: 'organ'; organ: string; rows: GapRow[] }
  | { kind: 'pair'; row: GapRow }
  | { kind: 'subject'; row: GapRow; subject: GapSubject }
  | { kind: 'message'; label: string; icon: string };

export interface GapState {
  runDir: string;
  rows: GapRow[];
  /** The card's reported scores vs measured (empty or absent: the card reports none). */
  illusion?: IllusionRow[];
}

/** Largest gap reported - measured of an organ's rows (Dice first), for its icon. */
const worstIllusion = (rows: IllusionTableRow[]) => (rows.find((r) => r.metric === 'dice') ?? rows[0])?.worst ?? null;

/** The organ's reported-vs-measured line: "Dice 0.900 reported · CT 0.850 · PET (PET/CT) 0.300 · gap +0.600 on PET (PET/CT)". */
export function illusionDescription(row: IllusionTableRow, scans: readonly ScanKey[]): string {
  const metric = row.metric === 'dice' ? 'Dice' : 'NSD';
  const measured = scans.filter((k) => row.measured[k] !== null).map((k) => `${scanLabel(k)} ${row.measured[k]!.toFixed(3)}`);
  const gap = row.worst ? ` · gap ${signed(row.worst.gap)} on ${scanLabel(row.worst.scan)}` : '';
  return `${metric} ${row.reported.toFixed(3)} reported · ${measured.join(' · ')}${gap}`;
}

/** The subjects listed under each pair: the largest drops. */
export const SUBJECTS_SHOWN = 5;

const PAIR_LABEL: Record<GapPair, string> = { 'CT-PET': 'CT vs PET', 'MRI-PET': 'MRI vs PET', 'CT-MRI': 'CT vs MRI' };
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
const sides = (pair: GapPair) => pair.split('-') as [string, string];

/** Largest Dice gap of an organ to a PET scan (CT-PET or MRI-PET), for the order of the organs. */
export function worstPetGap(rows: GapRow[]): number {
  const gaps = rows.filter((r) => r.metric === 'dice' && r.pair !== 'CT-MRI').map((r) => r.mean_diff);
  return gaps.length ? Math.max(...gaps) : -Infinity;
}

export class GapTreeProvider extends Disposable implements vscode.TreeDataProvider<GapNode> {
  private readonly changed = this.register(new vscode.EventEmitter<GapNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private state: GapState | undefined;
  private message: GapNode | undefined;

  constructor(
    /** The case record of one side of a pair, for opening it in the viewer. */
    private readonly recordFor: (runDir: string, key: Pick<CaseRecord, 'subject' | 'study' | 'modality' | 'organ'>) => CaseRecord | undefined,
  ) { super(); }

  show(state: GapState | undefined, message?: { label: string; icon: string }): void {
    this.state = state;
    this.message = message ? { kind: 'message', ...message } : undefined;
    this.changed.fire(undefined);
  }

  current(): GapState | undefined {
    return this.state;
  }

  getChildren(node?: GapNode): GapNode[] {
    if (!node) {
      if (this.message) return [this.message];
      if (!this.state) return [];
      const byOrgan = new Map<string, GapRow[]>();
      for (const r of this.state.rows) byOrgan.set(r.organ, [...(byOrgan.get(r.organ) ?? []), r]);
      const organs = [...byOrgan.entries()].map(([organ, rows]): GapNode => ({ kind: 'organ', organ, rows }))
        .sort((a, b) => worstPetGap((b as { rows: GapRow[] }).rows) - worstPetGap((a as { rows: GapRow[] }).rows));
      const illusion = this.illusionOrgans();
      return [{ kind: 'header', runDir: this.state.runDir }, ...(illusion.length ? [{ kind: 'illusion', organs: illusion.length } as GapNode] : []), ...organs];
    }
    if (node.kind === 'illusion') return this.illusionOrgans();
    if (node.kind === 'organ') {
      return GAP_PAIRS.map((p) => node.rows.find((r) => r.metric === 'dice' && r.pair === p.pair))
        .filter((r): r is GapRow => !!r).map((row): GapNode => ({ kind: 'pair', row }));
    }
    if (node.kind === 'pair') return node.row.subjects.slice(0, SUBJECTS_SHOWN).map((subject): GapNode => ({ kind: 'subject', row: node.row, subject }));
    return [];
  }

  /** One node per organ the card reports, in the run's organ order. */
  private illusionOrgans(): GapNode[] {
    const table = illusionTable(this.state?.illusion ?? []);
    const byOrgan = new Map<string, IllusionTableRow[]>();
    for (const r of table.rows) byOrgan.set(r.organ, [...(byOrgan.get(r.organ) ?? []), r]);
    return [...byOrgan.entries()].map(([organ, rows]): GapNode => ({ kind: 'illusionOrgan', organ, rows, scans: table.scans }));
  }

  getTreeItem(node: GapNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
      case 'header': {
        const item = new vscode.TreeItem(path.basename(node.runDir), C.None);
        item.description = 'Dice, same subjects, paired';
        item.tooltip = `run: ${node.runDir}\nmean difference a − b over the subjects with both scans scored (positive: the second scan is worse), 95% percentile bootstrap interval (10,000 resamples, seed 0), two-sided Wilcoxon signed-rank p, Holm-adjusted across organs`;
        item.iconPath = new vscode.ThemeIcon('graph');
        return item;
      }
      case 'illusion': {
        const item = new vscode.TreeItem('Reported vs measured', C.Expanded);
        item.description = `the card's scores vs this data, ${node.organs} organ${node.organs === 1 ? '' : 's'}`;
        item.tooltip = 'The generalization illusion: per organ the score the model card reports (its `reported` field), the mean measured here on each scan, and the largest gap reported − measured (positive: the reported number is higher than this data shows)';
        item.iconPath = new vscode.ThemeIcon('eye');
        item.id = 'illusion';
        return item;
      }
      case 'illusionOrgan': {
        const main = node.rows.find((r) => r.metric === 'dice') ?? node.rows[0];
        const item = new vscode.TreeItem(node.organ, C.None);
        item.description = illusionDescription(main, node.scans);
        const cell = (r: IllusionTableRow, k: ScanKey) => (r.measured[k] === null ? '–' : `${r.measured[k]!.toFixed(3)} (${signed(r.gap[k]!)})`);
        const source = node.rows.map((r) => r.source).find(Boolean);
        item.tooltip = new vscode.MarkdownString(
          `**${node.organ}: reported vs measured**\n\n| | reported | ${node.scans.map(scanLabel).join(' | ')} |\n|---|---|${node.scans.map(() => '---').join('|')}|\n` +
          node.rows.map((r) => `| ${r.metric === 'dice' ? 'Dice' : 'NSD'} | ${r.reported.toFixed(3)} | ${node.scans.map((k) => cell(r, k)).join(' | ')} |\n`).join('') +
          `\nIn brackets: reported − measured.${source ? ` Reported: ${source}.` : ''}`);
        const worst = worstIllusion(node.rows);
        item.iconPath = worst && worst.gap > 0.1 ? new vscode.ThemeIcon('arrow-down', new vscode.ThemeColor('charts.red')) : new vscode.ThemeIcon('symbol-misc');
        item.id = `illusion:${node.organ}`;
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.label, C.None);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        item.id = 'message';
        return item;
      }
      case 'organ': {
        const item = new vscode.TreeItem(node.organ, C.Collapsed);
        item.description = GAP_PAIRS.map((p) => node.rows.find((r) => r.metric === 'dice' && r.pair === p.pair))
          .filter((r): r is GapRow => !!r).map((r) => `${r.pair} ${signed(r.mean_diff)}`).join(' · ');
        const gap = worstPetGap(node.rows);
        item.iconPath = gap > 0.1 ? new vscode.ThemeIcon('arrow-down', new vscode.ThemeColor('charts.red')) : new vscode.ThemeIcon('symbol-misc');
        item.id = `gaporgan:${node.organ}`;
        return item;
      }
      case 'pair': {
        const r = node.row;
        const [a, b] = sides(r.pair);
        const item = new vscode.TreeItem(PAIR_LABEL[r.pair], r.subjects.length ? C.Collapsed : C.None);
        item.description = `${a} ${r.mean_a.toFixed(3)} → ${b} ${r.mean_b.toFixed(3)} · Δ ${signed(r.mean_diff)} [${signed(r.ci_low)}, ${signed(r.ci_high)}] · p(Holm) ${r.p_holm < 0.001 ? '<0.001' : r.p_holm.toFixed(3)} (n=${r.n})`;
        const nsd = this.state?.rows.find((x) => x.metric === 'nsd' && x.organ === r.organ && x.pair === r.pair);
        const line = (x: GapRow, m: string) =>
          `| ${m} | ${x.mean_a.toFixed(3)} | ${x.mean_b.toFixed(3)} | ${signed(x.mean_diff)} (${signed(x.ci_low)} to ${signed(x.ci_high)}) | ${x.p.toPrecision(3)} | ${x.p_holm.toPrecision(3)} | ${Math.round(100 * x.drop_share)}% | ${x.n} |\n`;
        item.tooltip = new vscode.MarkdownString(
          `**${r.organ}: ${a} vs ${b}**\n\n| | ${a} | ${b} | ${a} − ${b} (95% CI) | p | p (Holm) | drop > ${r.drop_threshold} | n |\n|---|---|---|---|---|---|---|---|\n` +
          line(r, 'Dice') + (nsd ? line(nsd, 'NSD') : ''));
        item.iconPath = r.ci_low > 0 ? new vscode.ThemeIcon('arrow-down', new vscode.ThemeColor('charts.red')) : new vscode.ThemeIcon('dash');
        item.id = `gappair:${r.organ}:${r.pair}`;
        return item;
      }
      case 'subject': {
        const { row, subject: s } = node;
        const [a, b] = sides(row.pair);
        const item = new vscode.TreeItem(s.subject, C.None);
        item.description = `${a} ${s.a.toFixed(3)} → ${b} ${s.b.toFixed(3)} (${signed(-s.diff)})`;
        item.iconPath = new vscode.ThemeIcon(s.diff > row.drop_threshold ? 'warning' : 'circle-outline');
        const pair = GAP_PAIRS.find((p) => p.pair === row.pair)!;
        const runDir = this.state?.runDir;
        const record = runDir ? this.recordFor(runDir, { subject: s.subject, study: pair.b[0], modality: pair.b[1], organ: row.organ }) : undefined;
        // the paired view: the subject's two scans of the study side by side, crosshairs linked
        if (runDir && record) item.command = { command: OPEN_PAIRED_CASE_COMMAND, title: 'Open Paired View', arguments: [runDir, record] };
        item.tooltip = `${s.subject}, ${row.organ}: Dice ${s.a.toFixed(3)} on ${a}, ${s.b.toFixed(3)} on ${b}; click to open the ${b} scan beside its study's other scan`;
        item.contextValue = 'umdLens.gapSubject';
        item.id = `gapsubj:${row.organ}:${row.pair}:${s.subject}`;
        return item;
      }
    }
  }
}
