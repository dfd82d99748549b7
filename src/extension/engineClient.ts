/**
 * Runs one request in the engine process (dist/engine.js, forked): model inference never runs on the
 * extension host's thread, and this module imports nothing heavy (no onnxruntime-node, no engine code).
 * EngineClient is the one owner of the engine's path and of the processes it starts (stopped on dispose).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { CancellationToken } from 'vscode';
import type { EngineEvent, EngineRequest, RequestResult, RequestType } from '../core/engine/protocol';

/**
 * How a request ended: its result, or cancelled (the caller asked, or the run stopped early), when the result
 * may be missing (the engine was stopped before sending it).
 */
export type EngineOutcome<T extends RequestType> =
  | { cancelled: false; result: RequestResult<T> }
  | { cancelled: true; result?: RequestResult<T> };

export interface EngineCallOptions {
  onEvent?: (e: EngineEvent) => void;
  /** Engine stdout/stderr lines. */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Cancellation: sends {type:'cancel'}, then kills the process after `graceMs`. */
  signal?: AbortSignal;
  graceMs?: number;
  /**
   * After its final event ('result' or 'failed') the engine should exit by itself; past this delay it is killed.
   * Node can deadlock while shutting down (a concurrent compile job waits for a GC the exiting main thread never
   * runs: nodejs/node#54918), and a finished result must not wait on that.
   */
  exitGraceMs?: number;
  /** Called with the forked process, before the request is sent (EngineClient keeps it to stop on dispose). */
  onStart?: (child: ChildProcess) => void;
}

export interface EngineRunOptions<R extends EngineRequest = EngineRequest> extends EngineCallOptions {
  enginePath: string;
  request: R;
}

export class EngineError extends Error {
  /** The run directory the engine had started, when it died mid-run: it holds the finished cases. */
  constructor(message: string, readonly runDir?: string) {
    super(message);
  }
}

export function runEngine<R extends EngineRequest>(o: EngineRunOptions<R>): Promise<EngineOutcome<R['type']>> {
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
    let result: RequestResult<R['type']> | undefined;
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
    let finished = false;
    let exitTimer: NodeJS.Timeout | undefined;
    const expectExit = () => {
      exitTimer ??= setTimeout(() => {
        o.onOutput?.(`the engine finished but did not exit within ${o.exitGraceMs ?? 5000} ms: stopped`, 'stderr');
        child.kill('SIGKILL');
      }, o.exitGraceMs ?? 5000);
    };
    child.on('message', (e: EngineEvent) => {
      // the engine answers the request it was sent: its result is that request's type
      if (e.type === 'result') { result = e.result as RequestResult<R['type']>; expectExit(); }
      if (e.type === 'failed') { failed = e.message; expectExit(); }
      if (e.type === 'started') runDir = e.runDir;
      if (e.type === 'progress' || e.type === 'window-progress') running = e.message;
      if (e.type === 'finished') finished = true;
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
      const stoppedEarly = !!result && 'cancelled' in result && result.cancelled;
      if (result && !cancelled && !stoppedEarly) resolve({ cancelled: false, result });
      else if (result) resolve({ cancelled: true, result });
      else if (failed) reject(new EngineError(failed));
      else if (cancelled) resolve({ cancelled: true });
      else {
        const where = running && !finished ? ` while evaluating ${running}` : '';
        const kept = runDir ? `; the finished cases are kept in ${runDir} (Resume Run continues it)` : '';
        reject(new EngineError(`engine exited unexpectedly (${sig ?? `code ${code}`})${where}${kept}`, runDir));
      }
    });
    o.onStart?.(child);
    child.send(o.request);
  });
}

/** The extension's one way to the engine: it knows where the bundle lies and stops what still runs on dispose. */
export class EngineClient {
  private readonly live = new Set<ChildProcess>();

  constructor(readonly enginePath: string) {}

  /** Runs `request`; `token` (or `signal`) cancels it: the engine stops between or within cases. */
  run<R extends EngineRequest>(
    request: R,
    o: Omit<EngineCallOptions, 'onStart'> & { token?: CancellationToken } = {},
  ): Promise<EngineOutcome<R['type']>> {
    const { token, ...call } = o;
    let sub: { dispose(): void } | undefined;
    if (token) {
      const ac = new AbortController();
      if (token.isCancellationRequested) ac.abort();
      sub = token.onCancellationRequested(() => ac.abort());
      o.signal?.addEventListener('abort', () => ac.abort(), { once: true });
      if (o.signal?.aborted) ac.abort();
      call.signal = ac.signal;
    }
    let child: ChildProcess | undefined;
    return runEngine({
      ...call, enginePath: this.enginePath, request,
      onStart: (c) => { child = c; this.live.add(c); },
    }).finally(() => {
      sub?.dispose();
      if (child) this.live.delete(child);
    });
  }

  /** On deactivate: an engine still running (a model run, an analysis) does not outlive the extension. */
  dispose(): void {
    for (const c of this.live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    this.live.clear();
  }
}
