/**
 * Problems panel entries on gates files: each failing gate at the line of its threshold, with the value measured
 * and the threshold in the message and a link (the diagnostic's code) that lists the cases of that organ and
 * modality worst first and opens the chosen one in the case viewer. Problems of the file itself show at their key.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GateResult } from '../../core/analysis/gates';
import { organKey } from '../../core/dataset/organs';
import { readRunInfo, worstFirst } from '../runs/runReader';
import type { GateEvaluation } from './gateEvaluator';

export const GATE_SOURCE = 'UMD Lens gates';
export const OPEN_GATE_FAILURES_COMMAND = 'umdLens.openGateFailures';

/** Arguments of umdLens.openGateFailures: the run, the organ ("*": every organ) and the modality of a gate. */
export type GateFailureArgs = [runDir: string, organ: string, modality: string];

export function gateFailuresUri(args: GateFailureArgs): vscode.Uri {
  return vscode.Uri.parse(`command:${OPEN_GATE_FAILURES_COMMAND}?${encodeURIComponent(JSON.stringify(args))}`);
}

/** The range of the JSON key that starts at a 1-based line and column ("minDice" with its quotes). */
export function keyRange(text: string | undefined, line: number, column: number): vscode.Range {
  const l = Math.max(0, line - 1);
  const c = Math.max(0, column - 1);
  const lineText = (text ?? '').split('\n')[l] ?? '';
  const m = /^"(?:[^"\\]|\\.)*"/.exec(lineText.slice(c));
  return new vscode.Range(l, c, l, c + (m ? m[0].length : 1));
}

function failureDiagnostic(text: string | undefined, runDir: string, r: GateResult): vscode.Diagnostic {
  const range = keyRange(text, r.line, r.column);
  const d = new vscode.Diagnostic(range, `${r.message} — run ${path.basename(runDir)}`, vscode.DiagnosticSeverity.Error);
  d.source = GATE_SOURCE;
  // a gap gate's cases are those of its structural modality (CT or MRI), where the gap shows
  d.code = { value: 'open failure cases', target: gateFailuresUri([runDir, r.gate.organ, r.gate.modality]) };
  return d;
}

export function gateDiagnostics(e: GateEvaluation): vscode.Diagnostic[] {
  const doc = e.text;
  const out: vscode.Diagnostic[] = [];
  for (const p of e.problems ?? []) {
    const range = keyRange(doc, p.line, p.column);
    const d = new vscode.Diagnostic(range, p.path ? `${p.path}: ${p.message}` : p.message, vscode.DiagnosticSeverity.Error);
    d.source = GATE_SOURCE;
    out.push(d);
  }
  if (e.runDir) for (const r of e.results ?? []) if (!r.pass) out.push(failureDiagnostic(doc, e.runDir, r));
  for (const g of e.unchecked ?? []) {
    const d = new vscode.Diagnostic(keyRange(doc, g.line, g.column), 'maxRegression needs a baseline run: set one with "Set as Baseline" in the Runs view (not checked)', vscode.DiagnosticSeverity.Information);
    d.source = GATE_SOURCE;
    out.push(d);
  }
  if (e.note) {
    const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), e.note, e.error ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information);
    d.source = GATE_SOURCE;
    out.push(d);
  }
  return out;
}

/** The command behind a failing gate's link: the cell's cases worst first; the chosen one opens in the viewer. */
export async function openGateFailures(runDir: string, organ: string, modality: string): Promise<void> {
  let run;
  try {
    run = readRunInfo(runDir);
  } catch (e) {
    void vscode.window.showErrorMessage(`UMD Lens: ${(e as Error).message}`);
    return;
  }
  const cases = run.records
    .filter((r) => r.organ && (organ === '*' || organKey(r.organ) === organKey(organ)) && (modality === '*' || r.modality === modality))
    .sort(worstFirst);
  if (!cases.length) {
    void vscode.window.showInformationMessage(`UMD Lens: ${path.basename(runDir)} has no ${organ === '*' ? '' : organ + ' '}${modality === '*' ? '' : modality + ' '}cases.`);
    return;
  }
  const f = (x: number | null | undefined) => (typeof x === 'number' ? x.toFixed(3) : '—');
  const pick = await vscode.window.showQuickPick(
    cases.map((r) => ({ label: `${r.subject} · ${r.study} ${r.modality}`, description: `${r.organ} · Dice ${f(r.dice)} · NSD ${f(r.nsd)}`, detail: r.status === 'ok' ? undefined : r.error ?? r.status, record: r })),
    { title: `UMD Lens: ${organ === '*' ? 'all organs' : organ} ${modality === '*' ? '' : modality} in ${path.basename(runDir)}, worst first`, placeHolder: 'Case to open in the viewer' },
  );
  if (pick) await vscode.commands.executeCommand('umdLens.openCase', runDir, pick.record);
}

/** Quick fix on a failing gate: the same action as its link, for keyboard users. */
export class GateFailureActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  provideCodeActions(_doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    return ctx.diagnostics.flatMap((d) => {
      if (d.source !== GATE_SOURCE || typeof d.code !== 'object' || !d.code.target.scheme.startsWith('command')) return [];
      const args = JSON.parse(decodeURIComponent(d.code.target.query)) as GateFailureArgs;
      const a = new vscode.CodeAction(`Open failure cases: ${args[1]} ${args[2]}`, vscode.CodeActionKind.QuickFix);
      a.diagnostics = [d];
      a.command = { command: OPEN_GATE_FAILURES_COMMAND, title: a.title, arguments: args };
      return [a];
    });
  }
}
