/**
 * CodeLens above each class of a model card's `labels`: the dataset organ it is scored as, with the mean Dice and
 * NSD per modality from the newest run of that checkpoint (`<name>.onnx` beside `<name>.umd.json`), and its worst
 * case.
 */
import * as vscode from 'vscode';
import { parseTree, getNodeValue } from 'jsonc-parser/lib/esm/main.js';
import { DEFAULT_ORGANS } from '../../core/dataset/organs';
import { mapModelClasses } from '../../core/evaluate/labelMapping';
import type { ModelCard } from '../../core/model/card/modelCard';
import { newestRunOf, runScores } from '../gates/latestRuns';
import { organLenses, propertyOf, RunLensProvider } from '../gates/gateLenses';

export class CardLensProvider extends RunLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const root = parseTree(doc.getText(), [], { allowTrailingComma: true, disallowComments: false });
    const labelsNode = propertyOf(root, 'labels')?.children?.[1];
    if (labelsNode?.type !== 'object') return [];
    const onnx = doc.uri.fsPath.replace(/\.umd\.json$/, '.onnx');
    const runDir = newestRunOf(this.deps.runsRoot(), onnx);
    let byId: Map<number, string> = new Map(DEFAULT_ORGANS.map((o) => [o.id, o.name]));
    if (runDir) {
      try {
        const organs = runScores(runDir).run.manifest.dataset?.organs;
        if (organs) byId = new Map(Object.entries(organs).map(([id, n]) => [Number(id), n]));
      } catch { /* unreadable run: the default organs */ }
    }
    const card = getNodeValue(root!) as Partial<ModelCard>;
    const labels = Object.fromEntries(Object.entries(card.labels ?? {}).filter(([, v]) => typeof v === 'string'));
    const organMap = card.organMap && typeof card.organMap === 'object' ? card.organMap : undefined;
    const mapping = mapModelClasses({ labels, organMap } as ModelCard, { byId });
    const out: vscode.CodeLens[] = [];
    for (const prop of labelsNode.children ?? []) {
      const name = prop.children?.[1]?.value;
      if (typeof name !== 'string') continue;
      const at = doc.positionAt(prop.offset);
      const range = new vscode.Range(at, at);
      const match = mapping.matches.find((m) => m.modelName === name);
      if (match) out.push(...organLenses(range, runDir, match.organ, '*', 'newest run of this model'));
      else if (mapping.excluded.includes(name)) out.push(new vscode.CodeLens(range, { title: `$(circle-slash) ${name}: not scored (organMap null)`, command: '' }));
    }
    return out;
  }
}
