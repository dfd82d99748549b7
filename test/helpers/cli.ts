/** The built CLI (dist/cli.js) as a child process, for tests that run it concurrently or kill it. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './realData';

export const CLI = path.join(repoRoot(), 'dist', 'cli.js');

/** Runs `umd-lens <args>` asynchronously; resolves with its exit code and stderr (stdout is discarded). */
export function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}
