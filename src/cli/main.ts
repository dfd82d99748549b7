/**
 * umd-lens: the command-line twin of the extension, running the same engine in-process.
 */
import { USAGE, UsageError } from './usage';

type Command = (argv: string[]) => Promise<number>;

/**
 * Each command's module is loaded when it runs, not at start: most commands never touch a model, and loading
 * onnxruntime-node with the evaluation pipeline took ~30 ms of every `umd-lens metrics` (esbuild keeps the bundle
 * one file and runs each module's top level on its first import()).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  evaluate: async () => (await import('./commands/evaluate')).evaluateCommand,
  predict: async () => (await import('./commands/predict')).predictCommand,
  metrics: async () => (await import('./commands/metrics')).metricsCommand,
  phantom: async () => (await import('./commands/phantom')).phantomCommand,
  demo: async () => (await import('./commands/demo')).demoCommand,
  gap: async () => (await import('./commands/gap')).gapCommand,
  compare: async () => (await import('./commands/compare')).compareCommand,
  gate: async () => (await import('./commands/gate')).gateCommand,
  merge: async () => (await import('./commands/merge')).mergeCommand,
  report: async () => (await import('./commands/report')).reportCommand,
  split: async () => (await import('./commands/split')).splitCommand,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE + '\n');
    return cmd ? 0 : 2;
  }
  const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!load) throw new UsageError(`unknown command "${cmd}"`);
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: Error) => {
    if (e instanceof UsageError) {
      process.stderr.write(`umd-lens: ${e.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      // the message names the file and the problem; the stack only with UMD_LENS_DEBUG
      process.stderr.write(`umd-lens: ${e.message}\n`);
      if (process.env.UMD_LENS_DEBUG) process.stderr.write(`${e.stack}\n`);
      process.exitCode = 1;
    }
  },
);
