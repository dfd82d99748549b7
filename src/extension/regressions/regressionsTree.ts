/**
 * The "Regressions" view: a run against the workspace's baseline run (analysis/compare.ts, computed in the engine
 * process), modality -> organ, regressions first, each with the mean difference, its 95% bootstrap interval,
 * the Wilcoxon p and n, an icon and a colour for its class. The run compared is the one chosen with "Compare with
 * Baseline", else the newest other run.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import type { ChangeClass, CompareCell, Comparison } from '../../core/analysis/compare';
import type { Modality } from '../../core/dataset/organs';

export type RegressionsNode =
  | { kind: 'header'; label: string; description: string; tooltip: string }
  | { kind: 'modality'; modality: Modality; cells: CompareCell[] }
  | { kind: 'cell'; cell: CompareCell }
  | { kind: 'message'; label: string; icon: string };

export interface RegressionsState {
  runDir: string;
  baselineDir: string;
  comparison: Comparison;
  /** Each run's metric protocol (runs/runReader.ts protocolLabel), for the tooltips: NSD at different tolerances does not compare. */
  protocols?: { run?: string; baseline?: string };
}

const CLASS_ORDER: Record<ChangeClass, number> = { regression: 0, improvement: 1, unchanged: 2 };

/** Which cells the view lists, and in which order (the view's filter and sort buttons). */
export type RegressionsFilter = 'all' | 'changed' | 'regressions';
export type RegressionsSort = 'class' | 'organ' | 'p';
const SORTS: Record<RegressionsSort, (a: CompareCell, b: CompareCell) => number> = {
  class: (a, b) => byClass(a, b),
  organ: (a, b) => a.organ.localeCompare(b.organ),
  p: (a, b) => a.p - b.p || byClass(a, b),
};
const FILTERS: Record<RegressionsFilter, (c: CompareCell) => boolean> = {
  all: () => true,
  changed: (c) => c.class !== 'unchanged',
  regressions: (c) => c.class === 'regression',
};
const MODALITY_ORDER: Modality[] = ['PET', 'CT', 'MRI'];

/** Regressions first (largest drop first), then improvements (largest gain first), then the unchanged. */
export function byClass(a: CompareCell, b: CompareCell): number {
  if (a.class !== b.class) return CLASS_ORDER[a.class] - CLASS_ORDER[b.class];
  return a.class === 'improvement' ? b.mean_diff - a.mean_diff : a.mean_diff - b.mean_diff;
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
const pText = (p: number) => (p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`);

export class RegressionsTreeProvider extends Disposable implements vscode.TreeDataProvider<RegressionsNode> {
  private readonly changed = this.register(new vscode.EventEmitter<RegressionsNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private state: RegressionsState | undefined;
  private message: RegressionsNode | undefined;
  private filter: RegressionsFilter = 'all';
  private sort: RegressionsSort = 'class';

  /** Narrows or reorders the cells listed; the header keeps the counts of every cell. */
  view(opts: { filter?: RegressionsFilter; sort?: RegressionsSort }): void {
    this.filter = opts.filter ?? this.filter;
    this.sort = opts.sort ?? this.sort;
    this.changed.fire(undefined);
  }

  viewOptions(): { filter: RegressionsFilter; sort: RegressionsSort } {
    return { filter: this.filter, sort: this.sort };
  }

  show(state: RegressionsState | undefined, message?: { label: string; icon: string }): void {
    this.state = state;
    this.message = message ? { kind: 'message', ...message } : undefined;
    this.changed.fire(undefined);
  }

  current(): RegressionsState | undefined {
    return this.state;
  }

  /** Dice cells only in the tree (NSD in each tooltip), as the Runs view leads with Dice. */
  private cells(modality?: Modality, filtered = true): CompareCell[] {
    const all = (this.state?.comparison.cells ?? []).filter((c) => c.metric === 'dice' && (!filtered || FILTERS[this.filter](c)));
    return (modality ? all.filter((c) => c.modality === modality) : all).sort(SORTS[this.sort]);
  }

  private protocolLine(): string {
    const p = this.state?.protocols;
    if (!p?.run && !p?.baseline) return 'protocol: not recorded';
    return p.run === p.baseline ? `protocol: ${p.run}` : `protocols differ (NSD not comparable): run ${p.run ?? '?'}, baseline ${p.baseline ?? '?'}`;
  }

  getChildren(node?: RegressionsNode): RegressionsNode[] {
    if (!node) {
      if (this.message) return [this.message];
      if (!this.state) return []; // the view's welcome content explains what to do
      const { runDir, baselineDir, comparison } = this.state;
      const every = this.cells(undefined, false);
      const cells = this.cells();
      const count = (k: ChangeClass) => every.filter((c) => c.class === k).length;
      const shown = this.filter === 'all' ? '' : ` · showing ${this.filter === 'changed' ? 'changed' : 'regressions'} only`;
      const header: RegressionsNode = {
        kind: 'header',
        label: `${path.basename(runDir)} vs ${path.basename(baselineDir)}`,
        description: `${count('regression')} regressed · ${count('improvement')} improved · ${count('unchanged')} unchanged${shown}`,
        tooltip: `run: ${runDir}\nbaseline: ${baselineDir}\n${this.protocolLine()}\nregression/improvement: |mean Dice difference| >= ${comparison.options.minEffect} and Wilcoxon p < ${comparison.options.alpha}` +
          (comparison.onlyInRun.length || comparison.onlyInBaseline.length ? `\n${comparison.onlyInRun.length} case(s) only in the run, ${comparison.onlyInBaseline.length} only in the baseline` : ''),
      };
      const modalities = MODALITY_ORDER.filter((m) => cells.some((c) => c.modality === m));
      // the modality holding the worst regression first
      modalities.sort((a, b) => {
        const worst = (m: Modality) => this.cells(m).sort(byClass)[0];
        return byClass(worst(a), worst(b));
      });
      return [header, ...modalities.map((modality): RegressionsNode => ({ kind: 'modality', modality, cells: this.cells(modality) }))];
    }
    if (node.kind === 'modality') return node.cells.map((cell): RegressionsNode => ({ kind: 'cell', cell }));
    return [];
  }

  getTreeItem(node: RegressionsNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
      case 'header': {
        const item = new vscode.TreeItem(node.label, C.None);
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon('git-compare');
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.label, C.None);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        item.id = 'message'; // one stable node while its text changes (comparing… -> failed)
        return item;
      }
      case 'modality': {
        const reg = node.cells.filter((c) => c.class === 'regression').length;
        const imp = node.cells.filter((c) => c.class === 'improvement').length;
        const item = new vscode.TreeItem(node.modality, C.Expanded);
        item.description = `${reg} regressed · ${imp} improved`;
        item.iconPath = reg ? new vscode.ThemeIcon('arrow-down', new vscode.ThemeColor('charts.red')) : new vscode.ThemeIcon(node.modality === 'PET' ? 'pulse' : 'layers');
        item.id = `regmod:${node.modality}`;
        return item;
      }
      case 'cell': {
        const c = node.cell;
        const item = new vscode.TreeItem(c.organ, C.None);
        item.description = `${signed(c.mean_diff)} [${signed(c.ci_low)}, ${signed(c.ci_high)}] ${pText(c.p)} (n=${c.n})`;
        const nsd = this.state?.comparison.cells.find((x) => x.metric === 'nsd' && x.organ === c.organ && x.modality === c.modality);
        const md = new vscode.MarkdownString(
          `**${c.organ}, ${c.modality}: ${c.class}**\n\n` +
          `| | run | baseline | difference (95% CI) | p | n |\n|---|---|---|---|---|---|\n` +
          `| Dice | ${c.mean_run.toFixed(3)} | ${c.mean_baseline.toFixed(3)} | ${signed(c.mean_diff)} (${signed(c.ci_low)} to ${signed(c.ci_high)}) | ${c.p.toPrecision(3)} | ${c.n} |\n` +
          (nsd ? `| NSD | ${nsd.mean_run.toFixed(3)} | ${nsd.mean_baseline.toFixed(3)} | ${signed(nsd.mean_diff)} (${signed(nsd.ci_low)} to ${signed(nsd.ci_high)}) | ${nsd.p.toPrecision(3)} | ${nsd.n} |\n` : '') +
          `\nPaired by subject and study; 95% percentile bootstrap interval of the mean difference, two-sided Wilcoxon signed-rank p` +
          (c.skipped ? `; ${c.skipped} matched case(s) without a score on one side` : '') + `.\n\n${this.protocolLine()}.`);
        item.tooltip = md;
        item.iconPath = c.class === 'regression'
          ? new vscode.ThemeIcon('arrow-down', new vscode.ThemeColor('charts.red'))
          : c.class === 'improvement'
            ? new vscode.ThemeIcon('arrow-up', new vscode.ThemeColor('charts.green'))
            : new vscode.ThemeIcon('dash', new vscode.ThemeColor('disabledForeground'));
        item.contextValue = `umdLens.regression.${c.class}`;
        item.id = `reg:${c.modality}:${c.organ}`;
        return item;
      }
    }
  }
}

/** The view's filter and sort buttons: quick picks that narrow or reorder the listed cells. */
export function registerRegressionsViewCommands(provider: RegressionsTreeProvider): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('umdLens.filterRegressions', async (choice?: RegressionsFilter) => {
      const items: Array<vscode.QuickPickItem & { value: RegressionsFilter }> = [
        { label: 'All organs', description: 'regressions, improvements and the unchanged', value: 'all' },
        { label: 'Changed only', description: 'regressions and improvements', value: 'changed' },
        { label: 'Regressions only', value: 'regressions' },
      ];
      const current = provider.viewOptions().filter;
      const value = choice ?? (await vscode.window.showQuickPick(items.map((i) => ({ ...i, picked: i.value === current })), { title: 'UMD Lens: show in Regressions' }))?.value;
      if (value && value in FILTERS) provider.view({ filter: value });
    }),
    vscode.commands.registerCommand('umdLens.sortRegressions', async (choice?: RegressionsSort) => {
      const items: Array<vscode.QuickPickItem & { value: RegressionsSort }> = [
        { label: 'By class and effect', description: 'largest drop first, then largest gain', value: 'class' },
        { label: 'By p value', description: 'most significant first', value: 'p' },
        { label: 'By organ name', value: 'organ' },
      ];
      const value = choice ?? (await vscode.window.showQuickPick(items, { title: 'UMD Lens: sort Regressions' }))?.value;
      if (value && value in SORTS) provider.view({ sort: value });
    }),
  ];
}
