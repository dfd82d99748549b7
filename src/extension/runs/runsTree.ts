/**
 * The "Runs" tree of the UMD Lens container: run -> modality (mean Dice over organs) -> organ (mean Dice, n)
 * -> cases, worst first. Each case opens the failure-case viewer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import { isCaseError, type CaseRecord } from '../../core/runstore/schema';
import { fmtDice, protocolLabel, listRunDirs, modalityStats, readRunInfo, type ModalityStats, type OrganStats, type RunInfo } from './runReader';

export type RunsNode =
  | { kind: 'run'; run: RunInfo }
  | { kind: 'modality'; run: RunInfo; stats: ModalityStats }
  | { kind: 'organ'; run: RunInfo; modality: ModalityStats; stats: OrganStats }
  | { kind: 'case'; run: RunInfo; record: CaseRecord }
  /** The cases that failed as a whole (unreadable file, missing scan, model error), each with its message. */
  | { kind: 'failures'; run: RunInfo; records: CaseRecord[] }
  | { kind: 'failure'; run: RunInfo; record: CaseRecord }
  | { kind: 'error'; dir: string; message: string };

export const OPEN_CASE_COMMAND = 'umdLens.openCase';
/** Contributed to case items' context menu (package.json), not set on the items. */
export const OPEN_PAIRED_CASE_COMMAND = 'umdLens.openPairedCase';

export class RunsTreeProvider extends Disposable implements vscode.TreeDataProvider<RunsNode> {
  private readonly changed = this.register(new vscode.EventEmitter<RunsNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private cache = new Map<string, { mtime: number; run: RunInfo }>();

  constructor(
    private readonly runsRoot: () => string | undefined,
    private readonly log?: vscode.LogOutputChannel,
    /** The workspace's baseline run directory, marked in the tree. */
    private readonly baseline: () => string | undefined = () => undefined,
  ) { super(); }

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** Runs under the runs root, newest first (re-read when their files change). */
  runs(): (RunInfo | { dir: string; error: string })[] {
    const root = this.runsRoot();
    if (!root) return [];
    return listRunDirs(root).map((dir) => {
      try {
        const stamp = ['run.json', 'cases.jsonl'].map((f) => { try { return fs.statSync(path.join(dir, f)).mtimeMs; } catch { return 0; } });
        const mtime = Math.max(...stamp) + stamp[0];
        const hit = this.cache.get(dir);
        if (hit && hit.mtime === mtime) return hit.run;
        const run = readRunInfo(dir);
        this.cache.set(dir, { mtime, run });
        return run;
      } catch (e) {
        this.log?.warn(`cannot read run ${dir}: ${(e as Error).message}`);
        return { dir, error: (e as Error).message };
      }
    });
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) {
      return this.runs().map((r) => ('error' in r ? { kind: 'error', dir: r.dir, message: r.error } : { kind: 'run', run: r }));
    }
    switch (node.kind) {
      case 'run': {
        const failed = node.run.records.filter(isCaseError);
        const mods: RunsNode[] = modalityStats(node.run).map((stats) => ({ kind: 'modality', run: node.run, stats }));
        return failed.length ? [{ kind: 'failures', run: node.run, records: failed }, ...mods] : mods;
      }
      case 'failures': return node.records.map((record) => ({ kind: 'failure', run: node.run, record }));
      case 'modality': return node.stats.organs.map((stats) => ({ kind: 'organ', run: node.run, modality: node.stats, stats }));
      case 'organ': return node.stats.cases.map((record) => ({ kind: 'case', run: node.run, record }));
      default: return [];
    }
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
      case 'run': {
        const m = node.run.manifest;
        const item = new vscode.TreeItem(m.model?.name ?? path.basename(node.run.dir), C.Collapsed);
        const date = new Date(m.startedAt);
        // headline: mean Dice over organs per scan, so runs compare at a glance
        const headline = modalityStats(node.run).map((s) => `${s.modality} ${fmtDice(s.meanDice)}`).join(' · ');
        const protocol = m.protocol ? `${m.protocol.name}${m.protocol.custom ? ' (custom)' : ''}` : undefined;
        item.description = [`${isNaN(+date) ? m.startedAt : date.toLocaleString()}${m.finishedAt ? '' : ' (running or interrupted)'}`, protocol, headline && `Dice ${headline}`]
          .filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(
          `**${m.model?.name}**\n\n- model: \`${m.model?.path}\`\n- dataset: \`${m.dataset?.root}\`\n- run: \`${node.run.dir}\`\n- cases: ${m.counts?.cases ?? '?'}, errors: ${m.counts?.errors ?? '?'}` +
          (m.protocol ? `\n- protocol: ${protocolLabel(m)}` : '') +
          (headline ? `\n- mean Dice over organs: ${headline}` : ''));
        const isBaseline = this.baseline() === node.run.dir;
        if (isBaseline) item.description = `baseline · ${item.description}`;
        item.iconPath = new vscode.ThemeIcon(isBaseline ? 'pinned' : m.finishedAt ? 'beaker' : 'loading~spin');
        // "comparable" in the item, not a global context key in the menus' when clauses: a context key those use
        // changing makes every tree view re-render its rows, and a row of a view in mid-refresh (Regressions, just
        // before the baseline is cleared) is by then a stale element: "TreeError ... Data tree node not found"
        item.contextValue = isBaseline ? 'umdLens.run.baseline' : !m.finishedAt ? 'umdLens.run.unfinished' : this.baseline() ? 'umdLens.run.comparable' : 'umdLens.run';
        item.id = `run:${node.run.dir}`;
        item.resourceUri = vscode.Uri.file(node.run.dir);
        return item;
      }
      case 'modality': {
        const item = new vscode.TreeItem(node.stats.modality, C.Collapsed);
        item.description = `mean Dice ${fmtDice(node.stats.meanDice)}${node.stats.meanNsd !== null ? ` · NSD ${fmtDice(node.stats.meanNsd)}` : ''} · ${node.stats.organs.length} organs`;
        item.iconPath = new vscode.ThemeIcon(node.stats.modality === 'PET' ? 'pulse' : 'layers');
        item.contextValue = 'umdLens.modality';
        item.id = `mod:${node.run.dir}:${node.stats.modality}`;
        return item;
      }
      case 'organ': {
        const s = node.stats;
        const item = new vscode.TreeItem(s.organ, C.Collapsed);
        item.description = `Dice ${fmtDice(s.meanDice)}${s.meanNsd !== null ? ` · NSD ${fmtDice(s.meanNsd)}` : ''} (n=${s.n}${s.skipped ? `, ${s.skipped} unscored` : ''})`;
        item.iconPath = new vscode.ThemeIcon('symbol-misc');
        item.contextValue = 'umdLens.organ';
        item.id = `organ:${node.run.dir}:${node.modality.modality}:${s.organ}`;
        return item;
      }
      case 'case': {
        const r = node.record;
        const item = new vscode.TreeItem(`${r.subject} · ${r.study}`, C.None);
        item.description = r.dice !== null ? `Dice ${fmtDice(r.dice)}${typeof r.nsd === 'number' ? ` · NSD ${fmtDice(r.nsd)}` : ''}` : r.status;
        item.tooltip = `${r.study}/${r.subject} ${r.modality} · ${r.organ}: ${r.status}` +
          (typeof r.hd95 === 'number' ? `\nNSD ${fmtDice(r.nsd)} at ${r.tau_mm} mm, HD95 ${r.hd95.toFixed(1)} mm, ASSD ${r.assd?.toFixed(2)} mm` : '') +
          (r.volume_gt_ml !== null ? `\nGT ${r.volume_gt_ml.toFixed(1)} ml, predicted ${r.volume_pred_ml?.toFixed(1) ?? '—'} ml` : '') +
          (r.error ? `\n${r.error}` : '');
        item.iconPath = new vscode.ThemeIcon(r.status === 'error' ? 'error' : r.dice !== null && r.dice < 0.5 ? 'warning' : 'circle-outline');
        item.contextValue = 'umdLens.case';
        item.id = `case:${node.run.dir}:${r.study}:${r.subject}:${r.modality}:${r.organ}`;
        item.command = { command: OPEN_CASE_COMMAND, title: 'Open Failure Case', arguments: [node.run.dir, r] };
        return item;
      }
      case 'failures': {
        const item = new vscode.TreeItem('Failed cases', C.Collapsed);
        item.description = `${node.records.length}`;
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        item.id = `failures:${node.run.dir}`;
        return item;
      }
      case 'failure': {
        const r = node.record;
        const item = new vscode.TreeItem(`${r.subject} · ${r.study} ${r.modality}`, C.None);
        // the message names the file and the problem; the stack, if any, stays in the log
        item.description = r.error ?? 'error';
        item.tooltip = r.error;
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        item.contextValue = 'umdLens.failure';
        item.id = `failure:${node.run.dir}:${r.study}:${r.subject}:${r.modality}`;
        return item;
      }
      case 'error': {
        const item = new vscode.TreeItem(path.basename(node.dir), C.None);
        item.description = 'unreadable run';
        item.tooltip = node.message;
        item.iconPath = new vscode.ThemeIcon('error');
        return item;
      }
    }
  }
}
