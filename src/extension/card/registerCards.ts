/** Model card diagnostics (as a card is opened or edited) and the CodeLens on cards that links a card to its runs. */
import * as vscode from 'vscode';
import type { LensHost } from '../host';
import { cardDiagnostics, isCardFile } from './cardDiagnostics';
import { CardLensProvider } from './cardLenses';

const CARD_SELECTOR: vscode.DocumentSelector = [{ scheme: 'file', pattern: '**/*.umd.json' }];

export function registerCards(host: LensHost): { cardProblems: vscode.DiagnosticCollection; cardLenses: CardLensProvider } {
  const cardProblems = vscode.languages.createDiagnosticCollection('umdLens.card');
  const cardLenses = new CardLensProvider({ runsRoot: host.runsRoot });
  const cardCheck = (doc: vscode.TextDocument) => {
    if (!isCardFile(doc.uri)) return;
    try {
      cardProblems.set(doc.uri, cardDiagnostics(doc));
    } catch (e) {
      host.log.error(`card check ${doc.uri.fsPath}: ${(e as Error).message}`);
    }
  };
  host.context.subscriptions.push(
    cardProblems, cardLenses,
    vscode.languages.registerCodeLensProvider(CARD_SELECTOR, cardLenses),
    vscode.workspace.onDidOpenTextDocument(cardCheck),
    vscode.workspace.onDidChangeTextDocument((e) => cardCheck(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => { if (isCardFile(d.uri)) cardProblems.delete(d.uri); }),
  );
  vscode.workspace.textDocuments.forEach(cardCheck);
  return { cardProblems, cardLenses };
}
