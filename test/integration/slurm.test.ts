/**
 * deploy/slurm/umd-lens-array.sbatch on a real Slurm (Debian's slurm-wlm, brought up by
 * ../shared/recipes/slurm/local-slurm.sh): an array of 3 shards of a 3-subject UMD-mini, 1 CPU each, the merge job the
 * first task submits (afterok), and a requeued task that resumes its interrupted shard. The merged cases.jsonl must
 * equal an unsharded run's byte for byte. Every wait is bounded; a failure prints the job logs and the queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRun } from '../../src/core/runstore/runStore';
import type { RunManifest } from '../../src/core/runstore/schema';
import { repoRoot } from '../helpers/realData';
import { CLI, runCli } from '../helpers/cli';

const ROOT = repoRoot();
const TEMPLATE = path.join(ROOT, 'deploy', 'slurm', 'umd-lens-array.sbatch');
const LOCAL_SLURM = path.resolve(ROOT, '../shared/recipes/slurm/local-slurm.sh');
const MODEL = path.join(ROOT, 'models', 'umd-mini-ct-only.onnx');

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', env, cwd, timeout: 60_000 });
}

/** Everything a reader needs when a job did not end as expected: the queue, every log in `dir`, the daemons' logs. */
function diagnostics(dir: string, slurmDir: string, env: NodeJS.ProcessEnv): string {
  const parts = [`squeue:\n${sh('squeue', ['-o', '%i %j %T %r'], env).stdout}`];
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.log'))) parts.push(`--- ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8')}`);
  for (const f of ['slurmctld.log', 'slurmd.log']) {
    const p = path.join(slurmDir, 'log', f);
    if (fs.existsSync(p)) parts.push(`--- ${f} (last 40 lines)\n${fs.readFileSync(p, 'utf8').split('\n').slice(-40).join('\n')}`);
  }
  return parts.join('\n');
}

/**
 * Polls until `done()` holds, at most `seconds`; fails with the diagnostics then, or at once when a job can never
 * start (a merge whose array failed stays pending as DependencyNeverSatisfied).
 */
async function waitFor(what: string, seconds: number, env: NodeJS.ProcessEnv, done: () => boolean, why: () => string): Promise<void> {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > seconds * 1000) assert.fail(`${what}: not done after ${seconds} s\n${why()}`);
    if (sh('squeue', ['-h', '-o', '%r'], env).stdout.includes('DependencyNeverSatisfied')) assert.fail(`${what}: a job failed\n${why()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`# ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** True once no job of this test is pending or running (squeue -h lists none of the given job ids). */
const queueEmpty = (env: NodeJS.ProcessEnv, jobId: string) => () => {
  const q = sh('squeue', ['-h', '-o', '%i %j'], env).stdout;
  return !q.split('\n').some((l) => l.startsWith(`${jobId}_`) || l.includes('umd-lens-merge'));
};

test('the Slurm array template on a real Slurm: 3 shards + afterok merge == the unsharded run; a requeued task resumes', { timeout: 900_000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-slurm-'));
  const slurmDir = path.join(tmp, 'slurm');
  const start = sh('bash', [LOCAL_SLURM, 'start', slurmDir], process.env);
  assert.equal(start.status, 0, `local Slurm did not start: ${start.stderr}`);
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: path.join(slurmDir, 'slurm.conf') };
  t.after(() => sh('bash', [LOCAL_SLURM, 'stop', slurmDir], process.env));

  const data = path.join(tmp, 'data');
  assert.equal(spawnSync(process.execPath, [CLI, 'phantom', '--out', data, '--subjects', '3', '--seed', '11']).status, 0);
  const whole = path.join(tmp, 'whole');
  const unsharded = await runCli(['evaluate', MODEL, '--data', data, '--threads', '1', '--out', whole]);
  assert.equal(unsharded.code, 0, unsharded.stderr);

  // The form the template's own comment gives: a command with an argument, not one executable.
  const runs = path.join(tmp, 'runs');
  const jobEnv = { ...env, MODEL, DATA: data, RUNS: runs, UMD_LENS: `${process.execPath} ${CLI}` };
  const submit = sh('sbatch', ['--parsable', '--array=1-3', '--cpus-per-task=1', '--mem=2G', '--export=ALL', TEMPLATE], jobEnv, tmp);
  assert.equal(submit.status, 0, submit.stderr);
  const jobId = submit.stdout.trim().split(';')[0];
  assert.match(jobId, /^\d+$/);

  const merged = path.join(runs, 'merged');
  const why = () => diagnostics(tmp, slurmDir, env);
  await waitFor('array + merge', 600, env, () => queueEmpty(env, jobId)() && fs.existsSync(path.join(merged, 'cases.jsonl')), why);
  const wholeCases = fs.readFileSync(path.join(whole, 'cases.jsonl'));
  assert.ok(fs.readFileSync(path.join(merged, 'cases.jsonl')).equals(wholeCases), `merged cases.jsonl differs from the unsharded run\n${why()}`);
  const shards = [1, 2, 3].map((i) => readRun(path.join(runs, `shard-${i}`)));
  shards.forEach((r, k) => assert.deepEqual(r.manifest.shard, { index: k + 1, count: 3 }));
  assert.deepEqual(readRun(merged).manifest.merged?.shards.map((s) => s.index), [1, 2, 3]);
  // exactly one merge job, submitted by the first task
  assert.equal(fs.readdirSync(tmp).filter((f) => f.startsWith('umd-lens-merge-')).length, 1);

  // A task preempted after its first cases: shard 2 keeps only its first case's records. Requeued, the same task
  // finds run.json, continues with --resume and runs only the missing cases.
  const shard2 = path.join(runs, 'shard-2');
  const shard2Cases = fs.readFileSync(path.join(shard2, 'cases.jsonl'), 'utf8');
  const lines = shard2Cases.trimEnd().split('\n');
  const firstCase = (l: string) => { const r = JSON.parse(l); return `${r.study}_${r.subject}_${r.modality}`; };
  const keep = lines.filter((l) => firstCase(l) === firstCase(lines[0]));
  const casesInShard = new Set(lines.map(firstCase)).size;
  fs.writeFileSync(path.join(shard2, 'cases.jsonl'), keep.join('\n') + '\n');
  const requeue = sh('scontrol', ['requeue', `${jobId}_2`], env);
  assert.equal(requeue.status, 0, requeue.stderr + why());
  // slurmctld holds a requeued job back for a while (its begin time moves ahead); a test need not wait for that
  sh('scontrol', ['update', `JobId=${jobId}_2`, 'StartTime=now'], env);
  await waitFor('requeued task 2', 300, env, () => {
    const m = JSON.parse(fs.readFileSync(path.join(shard2, 'run.json'), 'utf8')) as RunManifest;
    return queueEmpty(env, jobId)() && (m.resumed?.length ?? 0) > 0 && !!m.finishedAt;
  }, why);
  const m2 = readRun(shard2).manifest;
  assert.equal(m2.resumed?.length, 1);
  assert.deepEqual({ kept: m2.resumed![0].casesKept, run: m2.resumed![0].casesRun }, { kept: 1, run: casesInShard - 1 });
  assert.equal(fs.readFileSync(path.join(shard2, 'cases.jsonl'), 'utf8'), shard2Cases, 'the resumed shard holds the same records');
  // still one merge job: only the array's first task submits it
  assert.equal(fs.readdirSync(tmp).filter((f) => f.startsWith('umd-lens-merge-')).length, 1);

  const again = await runCli(['merge', ...[1, 2, 3].map((i) => path.join(runs, `shard-${i}`)), '--out', path.join(tmp, 'merged-again')]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(fs.readFileSync(path.join(tmp, 'merged-again', 'cases.jsonl')).equals(wholeCases));
});
