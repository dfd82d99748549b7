/**
 * The "Failure Cases" view: for one run, the worst cases of each organ on each scan, organ -> scan -> the
 * lowest-Dice cases (missed organs and false positives count as Dice 0). Organs whose worst case is worst come
 * first. A click opens the case viewer on that case and organ. Light: sorts the records the Runs view read.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import type { CaseRecord } from '../../core/runstore/schema';
import { fmtDice, modalityStats, type RunInfo } from '../runs/runReader';
import { OPEN_CASE_COMMAND } from '../runs/runsTree';

export type FailuresNode =
  | { kind: 'header'; run: RunInfo }
  | { kind: 'organ'; run: RunInfo; organ: string; groups: FailureGroup[] }
  | { kind: 'scan'; run: RunInfo; group: FailureGroup }
  | { kind: 'case'; run: RunInfo; record: CaseRecord };

export interface FailureGroup {
  organ: string;
  modality: string;
  /** Scored cases, worst first, at most `perGroup`. */
  worst: CaseRecord[];
  /** Scored cases in the group. */
  n: number;
}

/** Worst cases per organ and scan, worst organ first; cases without a Dice (both empty, errors) are left out. */
export function failureGroups(run: RunInfo, perGroup: number): Map<string, FailureGroup[]> {
  const byOrgan = new Map<string, FailureGroup[]>();
  for (const m of modalityStats(run)) {
    for (const o of m.organs) {
      const scored = o.cases.filter((r) => typeof r.dice === 'number');
      if (!scored.length) continue;
      const group = { organ: o.organ, modality: m.modality, worst: scored.slice(0, perGroup), n: scored.length };
      byOrgan.set(o.organ, [...(byOrgan.get(o.organ) ?? []), group]);
    }
  }
  const lowest = (gs: FailureGroup[]) => Math.min(...gs.map((g) => g.worst[0].dice as number));
  for (const gs of byOrgan.values()) gs.sort((a, b) => (a.worst[0].dice as number) - (b.worst[0].dice as number));
  return new Map([...byOrgan.entries()].sort((a, b) => lowest(a[1]) - lowest(b[1]) || a[0].localeCompare(b[0])));
}

export class FailuresTreeProvider extends Disposable implements vscode.TreeDataProvider<FailuresNode> {
  private readonly changed = this.register(new vscode.EventEmitter<FailuresNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private run: RunInfo | undefined;

  constructor(private readonly perGroup: () => number) { super(); }

  show(run: RunInfo | undefined): void {
    this.run = run;
    this.changed.fire(undefined);
  }

  current(): RunInfo | undefined {
    return this.run;
  }

  getChildren(node?: FailuresNode): FailuresNode[] {
    const run = this.run;
    if (!run) return [];
    if (!node) {
      const organs = [...failureGroups(run, this.perGroup()).entries()].map(([organ, groups]): FailuresNode => ({ kind: 'organ', run, organ, groups }));
      return [{ kind: 'header', run }, ...organs];
    }
    if (node.kind === 'organ') return node.groups.map((group): FailuresNode => ({ kind: 'scan', run, group }));
    if (node.kind === 'scan') return node.group.worst.map((record): FailuresNode => ({ kind: 'case', run, record }));
    return [];
  }

  getTreeItem(node: FailuresNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
      case 'header': {
        const item = new vscode.TreeItem(path.basename(node.run.dir), C.None);
        item.description = `${this.perGroup()} worst per organ and scan`;
        item.tooltip = `run: ${node.run.dir}\nlowest Dice first; a missed organ or a false positive scores 0; both-empty and failed cases are not listed`;
        item.iconPath = new vscode.ThemeIcon('bug');
        return item;
      }
      case 'organ': {
        const item = new vscode.TreeItem(node.organ, C.Collapsed);
        item.description = node.groups.map((g) => `${g.modality} ${fmtDice(g.worst[0].dice)}`).join(' · ');
        const worst = node.groups[0]?.worst[0]?.dice ?? 1;
        item.iconPath = new vscode.ThemeIcon(worst < 0.5 ? 'warning' : 'symbol-misc', worst < 0.5 ? new vscode.ThemeColor('charts.orange') : undefined);
        item.id = `failorgan:${node.organ}`;
        return item;
      }
      case 'scan': {
        const g = node.group;
        const item = new vscode.TreeItem(g.modality, C.Expanded);
        item.description = `worst Dice ${fmtDice(g.worst[0].dice)} (${g.worst.length} of ${g.n})`;
        item.iconPath = new vscode.ThemeIcon(g.modality === 'PET' ? 'pulse' : 'layers');
        item.id = `failscan:${g.organ}:${g.modality}`;
        return item;
      }
      case 'case': {
        const r = node.record;
        const item = new vscode.TreeItem(`${r.subject} · ${r.study}`, C.None);
        item.description = `Dice ${fmtDice(r.dice)}${typeof r.nsd === 'number' ? ` · NSD ${fmtDice(r.nsd)}` : ''}${r.status !== 'ok' ? ` · ${r.status}` : ''}`;
        item.tooltip = `${r.study}/${r.subject} ${r.modality} · ${r.organ}: ${r.status}` +
          (typeof r.hd95 === 'number' ? `\nHD95 ${r.hd95.toFixed(1)} mm, ASSD ${r.assd?.toFixed(2)} mm` : '') +
          (r.volume_gt_ml !== null ? `\nGT ${r.volume_gt_ml.toFixed(1)} ml, predicted ${r.volume_pred_ml?.toFixed(1) ?? '—'} ml` : '');
        item.iconPath = new vscode.ThemeIcon(r.dice !== null && r.dice < 0.5 ? 'warning' : 'circle-outline');
        item.contextValue = 'umdLens.case';
        item.id = `failcase:${r.organ}:${r.modality}:${r.study}:${r.subject}`;
        item.command = { command: OPEN_CASE_COMMAND, title: 'Open Failure Case', arguments: [node.run.dir, r] };
        return item;
      }
    }
  }
}
