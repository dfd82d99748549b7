/**
 * Where V8 compiles the metrics workers' code. With as many workers as cores, V8's concurrent recompilation (its
 * optimizing compiler on background threads) can only take CPU from them: measured on the 2-core benchmark VM, its
 * threads cost ~0.35 core-seconds per `umd-lens metrics` run, more than the same compiles done in place on each
 * worker's own thread (docs/benchmarks.md). Only a matter of speed: the code run, and every score, are the same.
 */
import * as os from 'node:os';
import * as v8 from 'node:v8';

/**
 * Turns concurrent recompilation off for the isolates started from now on (V8 reads the flag when an isolate is
 * created, so the calling thread's own keeps it) when `threads` workers (default: one per core) take every core.
 * Call before starting the workers.
 */
export function compileOnWorkerThreadsWhenCoresAreFull(threads = os.availableParallelism()): void {
  if (threads >= os.availableParallelism()) v8.setFlagsFromString('--no-concurrent-recompilation');
}
