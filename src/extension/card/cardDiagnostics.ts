/**
 * Problems panel entries on model cards (`*.umd.json`): the card checks of the engine (loadCard.ts: wrong types,
 * missing keys as errors, unknown keys as warnings) and organs that map to no UMD organ, each at its key. The
 * checks are the engine's own: a card that shows no problem here is the card the engine accepts.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseTree, getNodeValue, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { DEFAULT_ORGANS } from '../../core/dataset/organs';
import { mapModelClasses } from '../../core/evaluate/labelMapping';
import type { ModelCard } from '../../core/model/card/modelCard';
import { CardError } from '../../core/model/card/jsonChecks';
import { validateCard } from '../../core/model/card/loadCard';
import { keyNodeFor } from './cardKeyPath';

export const CARD_SOURCE = 'UMD Lens card';

export const isCardFile = (uri: vscode.Uri): boolean => uri.scheme === 'file' && uri.fsPath.endsWith('.umd.json');

export function cardDiagnostics(doc: vscode.TextDocument): vscode.Diagnostic[] {
  const text = doc.getText();
  const out: vscode.Diagnostic[] = [];
  const at = (node: Node | undefined, message: string, severity: vscode.DiagnosticSeverity) => {
    const range = node ? new vscode.Range(doc.positionAt(node.offset), doc.positionAt(node.offset + node.length)) : new vscode.Range(0, 0, 0, 1);
    const d = new vscode.Diagnostic(range, message, severity);
    d.source = CARD_SOURCE;
    out.push(d);
  };
  const syntax: ParseError[] = [];
  const root = parseTree(text, syntax, { allowTrailingComma: false, disallowComments: true });
  if (syntax.length) {
    for (const e of syntax) at({ offset: e.offset, length: Math.max(1, e.length) } as Node, `JSON syntax error: ${printParseErrorCode(e.error)}`, vscode.DiagnosticSeverity.Error);
    return out;
  }
  const raw = root ? getNodeValue(root) : undefined;
  const name = path.basename(doc.uri.fsPath);
  // warnings start with the card's name: "model.umd.json: unknown key foo (ignored)"
  const located = (msg: string) => {
    const body = msg.startsWith(`${name}: `) ? msg.slice(name.length + 2) : msg;
    const keyPath = body.startsWith('unknown key ') ? body.slice('unknown key '.length) : body;
    return { body, node: keyNodeFor(root, keyPath) };
  };
  try {
    const { warnings } = validateCard(raw, doc.uri.fsPath, name);
    for (const w of warnings) {
      const { body, node } = located(w);
      at(node, body, vscode.DiagnosticSeverity.Warning);
    }
  } catch (e) {
    if (!(e instanceof CardError)) throw e;
    for (const p of e.problems) {
      const { body, node } = located(p);
      at(node, body, vscode.DiagnosticSeverity.Error);
    }
    for (const w of e.warnings) {
      const { body, node } = located(w);
      at(node, body, vscode.DiagnosticSeverity.Warning);
    }
  }
  unmappedOrgans(root, raw, at);
  return out;
}

/** Label names (or their organMap targets) that reach none of the 13 UMD organs: those classes are never scored. */
function unmappedOrgans(root: Node | undefined, raw: unknown, at: (n: Node | undefined, m: string, s: vscode.DiagnosticSeverity) => void): void {
  if (typeof raw !== 'object' || raw === null) return;
  const r = raw as Record<string, unknown>;
  if (typeof r.labels !== 'object' || r.labels === null) return;
  const labels = Object.fromEntries(Object.entries(r.labels as object).filter(([id, v]) => /^\d+$/.test(id) && typeof v === 'string' && v.trim()));
  const organMap = typeof r.organMap === 'object' && r.organMap !== null && !Array.isArray(r.organMap)
    ? Object.fromEntries(Object.entries(r.organMap as object).filter(([, v]) => v === null || typeof v === 'string'))
    : undefined;
  const byId = new Map(DEFAULT_ORGANS.map((o) => [o.id, o.name]));
  const mapping = mapModelClasses({ labels, organMap } as unknown as ModelCard, { byId });
  const labelsNode = root?.children?.find((p) => p.children?.[0]?.value === 'labels')?.children?.[1];
  const mapNode = root?.children?.find((p) => p.children?.[0]?.value === 'organMap')?.children?.[1];
  for (const u of mapping.unmatched) {
    const via = /^(.*) \(organMap: "(.*)"\)$/.exec(u);
    if (via) {
      const prop = mapNode?.children?.find((p) => p.children?.[0]?.value === via[1]);
      at(prop?.children?.[1] ?? prop?.children?.[0], `organMap.${via[1]}: "${via[2]}" is none of the UMD organs (${DEFAULT_ORGANS.map((o) => o.name).join(', ')}): class "${via[1]}" is not scored`, vscode.DiagnosticSeverity.Warning);
      continue;
    }
    const prop = labelsNode?.children?.find((p) => p.children?.[1]?.value === u);
    const id = prop?.children?.[0]?.value as string | undefined;
    at(prop?.children?.[1], `labels.${id ?? '?'}: "${u}" maps to no UMD organ (no organ of that name, no synonym, no organMap entry): this class is not scored; add it to organMap, or map it to null`, vscode.DiagnosticSeverity.Warning);
  }
}
