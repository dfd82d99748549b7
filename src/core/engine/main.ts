/**
 * The engine process (dist/engine.js). The extension forks it so that model runs never block the extension
 * host's thread; it receives one EngineRequest over IPC, streams EngineEvents back, and exits.
 * A {type:'cancel'} message aborts between (and within) cases; finished cases are already on disk.
 */
import { parsePromptArg } from '../prompts/promptSpec';
import { compareRuns } from '../analysis/compare';
import { illusion, modalityGap } from '../analysis/gap';
import { evaluateGates, parseGates, readGates } from '../analysis/gates';
import { evaluateRun } from '../evaluate/evaluateRun';
import { readRun } from '../runstore/runStore';
import { generatePhantom } from '../phantom';
import type { CancelMessage, EngineEvent, EngineRequest } from './protocol';

const abort = new AbortController();

function send(e: EngineEvent): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      process.stdout.write(JSON.stringify(e) + '\n');
      resolve();
    } else {
      process.send(e, undefined, {}, () => resolve());
    }
  });
}

async function handle(req: EngineRequest): Promise<void> {
  if (req.type === 'phantom') {
    await generatePhantom({
      outDir: req.outDir, subjects: req.subjects, seed: req.seed,
      onProgress: (message) => void send({ type: 'log', level: 'info', message }),
    });
    await send({ type: 'result', request: 'phantom', result: { outDir: req.outDir } });
    return;
  }
  if (req.type === 'compare') {
    const comparison = compareRuns(readRun(req.runDir), readRun(req.baselineDir), req.options);
    await send({ type: 'result', request: 'compare', result: { comparison } });
    return;
  }
  if (req.type === 'gap') {
    const run = readRun(req.runDir);
    await send({ type: 'result', request: 'gap', result: { gap: modalityGap(run, req.options), illusion: illusion(run) } });
    return;
  }
  if (req.type === 'gates') {
    const gates = req.gatesText !== undefined ? parseGates(req.gatesText, req.gatesFile) : readGates(req.gatesFile);
    const results = evaluateGates(readRun(req.runDir), gates, req.baselineDir ? readRun(req.baselineDir) : undefined);
    await send({ type: 'result', request: 'gates', result: { gates: results } });
    return;
  }
  const result = await evaluateRun({
    modelPath: req.modelPath, datasetRoot: req.datasetRoot, runDir: req.runDir, runsRoot: req.runsRoot,
    subjects: req.subjects, signal: abort.signal,
    device: req.device, threads: req.threads, overlap: req.overlap, batchSize: req.batchSize, tta: req.tta,
    probabilities: req.probabilities, maxVolumeMB: req.maxVolumeMB, maxMemoryGB: req.maxMemoryGB, bandDtype: req.bandDtype, resume: req.resume,
    prompt: req.prompt ? parsePromptArg(req.prompt) : undefined, promptSeed: req.promptSeed, boxJitterMm: req.boxJitterMm,
    protocol: req.protocol, toleranceOverrides: [['settings', req.toleranceMm]],
    onEvent: (e) => void send(e),
  });
  await send({ type: 'result', request: 'evaluate', result: { runDir: result.runDir, summary: result.summary, cancelled: result.cancelled } });
}

/**
 * Ends the process the natural way: the IPC channel closes and the event loop drains. process.exit() skips the
 * isolate's teardown and can deadlock with a concurrent compile job waiting for a GC (nodejs/node#54918, seen
 * here on Node 24 after a finished run); the extension also stops an engine that lingers after its last event.
 */
function finish(code: number): void {
  process.exitCode = code;
  if (process.connected) process.disconnect();
  // a handle still open (it should not be) must not keep a finished engine alive
  setTimeout(() => process.exit(code), 10000).unref();
}

let started = false;
process.on('message', (msg: EngineRequest | CancelMessage) => {
  if (msg.type === 'cancel') {
    abort.abort();
    return;
  }
  if (started) return;
  started = true;
  handle(msg).then(
    () => finish(0),
    async (e: Error) => {
      // the user sees the message (it names the file and the problem); the log keeps the stack
      if (e.stack) await send({ type: 'log', level: 'error', message: e.stack });
      await send({ type: 'failed', message: e.message });
      finish(1);
    },
  );
});
process.on('disconnect', () => abort.abort());
