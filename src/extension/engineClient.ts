/**
 * Runs one request in the engine process (dist/engine.js, forked): model inference never runs on the
 * extension host's thread, and this module imports nothing heavy (no onnxruntime-node, no engine code).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { EngineEvent, EngineRequest } from '../core/engine/protocol';

export interface EngineRunOptions {
  enginePath: string;
  request: EngineRequest;
  onEvent?: (e: EngineEvent) => void;
  /** Engine stdout/stderr lines. */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Cancellation: sends {type:'cancel'}, then kills the process after `graceMs`. */
  signal?: AbortSignal;
  graceMs?: number;
  /**
   * After its final event ('done' or 'failed') the engine should exit by itself; past this delay it is killed.
   * Node can deadlock while shutting down (a concurrent compile job waits for a GC the exiting main thread never
   * runs: nodejs/node#54918), and a finished result must not wait on that.
   */
  exitGraceMs?: number;
}

export type EngineDone = Extract<EngineEvent, { type: 'done' }> & { cancelled?: boolean };

export class EngineError extends Error {
  /** The run directory the engine had started, when it died mid-run: it holds the finished cases. */
  constructor(message: string, readonly runDir?: string) {
    super(message);
  }
}

export function runEngine(o: EngineRunOptions): Promise<EngineDone> {
  if (!fs.existsSync(o.enginePath)) {
    return Promise.reject(new EngineError(`engine not found: ${o.enginePath} (build with "node esbuild.mjs")`));
  }
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = fork(o.enginePath, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    } catch (e) {
      reject(new EngineError(`could not start the engine: ${(e as Error).message}`));
      return;
    }
    let done: EngineDone | undefined;
    let failed: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const lines = (stream: 'stdout' | 'stderr') => {
      let buf = '';
      return (d: Buffer) => {
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const l of parts) if (l.trim()) o.onOutput?.(l, stream);
      };
    };
    child.stdout?.on('data', lines('stdout'));
    child.stderr?.on('data', lines('stderr'));
    // what was running, for the message if the process dies: the finished cases are on disk already
    let runDir: string | undefined;
    let running: string | undefined;
    let exitTimer: NodeJS.Timeout | undefined;
    const expectExit = () => {
      exitTimer ??= setTimeout(() => {
        o.onOutput?.(`the engine finished but did not exit within ${o.exitGraceMs ?? 5000} ms: stopped`, 'stderr');
        child.kill('SIGKILL');
      }, o.exitGraceMs ?? 5000);
    };
    child.on('message', (e: EngineEvent) => {
      if (e.type === 'done') { done = e as EngineDone; expectExit(); }
      if (e.type === 'failed') { failed = e.message; expectExit(); }
      if (e.type === 'started') runDir = e.runDir;
      if (e.type === 'progress' || e.type === 'window-progress') running = e.message;
      o.onEvent?.(e);
    });
    const onAbort = () => {
      cancelled = true;
      if (child.connected) child.send({ type: 'cancel' });
      killTimer = setTimeout(() => child.kill('SIGKILL'), o.graceMs ?? 5000);
    };
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(new EngineError(`engine process error: ${e.message}`)));
    child.on('exit', (code, sig) => {
      if (killTimer) clearTimeout(killTimer);
      if (exitTimer) clearTimeout(exitTimer);
      o.signal?.removeEventListener('abort', onAbort);
      if (done) resolve({ ...done, cancelled: done.cancelled || cancelled });
      else if (failed) reject(new EngineError(failed));
      else if (cancelled) resolve({ type: 'done', cancelled: true });
      else {
        const where = running && running !== 'done' ? ` while evaluating ${running}` : '';
        const kept = runDir ? `; the finished cases are kept in ${runDir} (Resume Run continues it)` : '';
        reject(new EngineError(`engine exited unexpectedly (${sig ?? `code ${code}`})${where}${kept}`, runDir));
      }
    });
    child.send(o.request);
  });
}
