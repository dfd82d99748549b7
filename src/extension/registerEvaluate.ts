/** "Evaluate on UMD" and "Resume Run": both run a model in the engine process, so both need a trusted workspace. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readRun } from '../core/runstore/runStore';
import { Evaluator, pickModel } from './evaluate';
import { ensureTrusted, type LensHost } from './host';
import type { RunsNode } from './runs/runsTree';

export function registerEvaluate(host: LensHost, onRunFinished: (runDir: string) => void): Evaluator {
  const { context, log } = host;
  const evaluator = new Evaluator({ context, log, engine: host.engine, onRunFinished });
  context.subscriptions.push(
    vscode.commands.registerCommand('umdLens.resumeRun', async (node?: RunsNode | string) => {
      const dir = typeof node === 'string' ? node : node?.kind === 'run' ? node.run.dir : undefined;
      if (!dir) return undefined;
      if (!ensureTrusted()) return undefined;
      try {
        const { manifest } = readRun(dir);
        log.info(`resume ${dir} (${manifest.model.path} on ${manifest.dataset.root})`);
        return await evaluator.evaluate(manifest.model.path, manifest.dataset.root, dir);
      } catch (e) {
        if (e instanceof vscode.CancellationError) return undefined;
        log.error(`resume failed: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`UMD Lens: cannot resume ${path.basename(dir)}: ${(e as Error).message}`, 'Show Log').then((a) => a && log.show());
        return undefined;
      }
    }),
    vscode.commands.registerCommand('umdLens.evaluate', async (arg?: unknown) => {
      if (!ensureTrusted({ offerManage: true })) return undefined;
      const model = await pickModel(arg);
      if (!model) return undefined;
      try {
        const runDir = await evaluator.evaluate(model);
        if (runDir) {
          void vscode.window.showInformationMessage(`UMD Lens: ${path.basename(model)} evaluated.`, 'Show Runs')
            .then((a) => a && vscode.commands.executeCommand('umdLens.runs.focus'));
        }
        return runDir;
      } catch (e) {
        const msg = (e as Error).message;
        if (e instanceof vscode.CancellationError) return undefined;
        log.error(`evaluation failed: ${msg}`);
        void vscode.window.showErrorMessage(`UMD Lens: evaluation failed: ${msg}`, 'Show Log').then((a) => a && log.show());
        return undefined;
      }
    }),
  );
  return evaluator;
}
