/**
 * CodeLens above each gate entry of a gates file: the newest run's mean Dice and NSD of the entry's organ per
 * modality (the entry's modality only, when it names one), and "open worst case" in the case viewer.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import { parseTree, type Node } from 'jsonc-parser/lib/esm/main.js';
import { formatCells, newestRun, organScores, runScores } from './latestRuns';

export interface LensDeps {
  runsRoot: () => string;
}

/** One line of lenses for an organ: its scores in a run, and its worst case. */
export function organLenses(range: vscode.Range, runDir: string | undefined, organ: string, modality: string, what: string): vscode.CodeLens[] {
  if (!runDir) return [new vscode.CodeLens(range, { title: `$(beaker) ${what}: no finished run yet`, command: 'umdLens.evaluate', tooltip: 'Evaluate a checkpoint on UMD' })];
  let s;
  try {
    s = organScores(runScores(runDir), organ, modality);
  } catch {
    return [];
  }
  const run = path.basename(runDir);
  if (!s.found) return [new vscode.CodeLens(range, { title: `$(circle-slash) ${organ}: not scored in ${run}`, command: '' })];
  const lenses = [new vscode.CodeLens(range, { title: `$(pulse) ${organ === '*' ? 'all organs' : organ} · ${formatCells(s.cells)}`, command: '', tooltip: `${what}: ${run}` })];
  if (s.worst) {
    const w = s.worst;
    lenses.push(new vscode.CodeLens(range, {
      title: `$(go-to-file) open worst case (${w.subject} ${w.modality}${organ === '*' ? ` ${w.organ}` : ''}, Dice ${w.dice!.toFixed(3)})`,
      command: 'umdLens.openCase', arguments: [runDir, w], tooltip: `Open ${w.study}/${w.subject} ${w.modality} ${w.organ} of ${run} in the case viewer`,
    }));
  }
  return lenses;
}

export const propertyOf = (obj: Node | undefined, key: string): Node | undefined =>
  obj?.children?.find((p) => p.children?.[0]?.value === key);

/** A CodeLens provider whose lenses follow the runs on disk: `refresh()` when a run finishes or is deleted. */
export abstract class RunLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(protected readonly deps: LensDeps) { super(); }

  refresh(): void {
    this.changed.fire();
  }

  abstract provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[];
}

export class GateLensProvider extends RunLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const root = parseTree(doc.getText(), [], { allowTrailingComma: true, disallowComments: false });
    const gates = propertyOf(root, 'gates')?.children?.[1];
    if (gates?.type !== 'array') return [];
    const runDir = newestRun(this.deps.runsRoot());
    const out: vscode.CodeLens[] = [];
    for (const entry of gates.children ?? []) {
      if (entry.type !== 'object') continue;
      const organProp = propertyOf(entry, 'organ');
      const organ = typeof organProp?.children?.[1]?.value === 'string' ? organProp.children[1].value as string : '*';
      const modality = propertyOf(entry, 'modality')?.children?.[1]?.value;
      const at = doc.positionAt((organProp ?? entry).offset);
      out.push(...organLenses(new vscode.Range(at, at), runDir, organ, typeof modality === 'string' ? modality : '*', 'newest run'));
    }
    return out;
  }
}
