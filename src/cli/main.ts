/**
 * umd-lens: the command-line twin of the extension, running the same engine in-process.
 */
import { compareCommand } from './commands/compare';
import { demoCommand } from './commands/demo';
import { evaluateCommand } from './commands/evaluate';
import { gapCommand } from './commands/gap';
import { gateCommand } from './commands/gate';
import { mergeCommand } from './commands/merge';
import { metricsCommand } from './commands/metrics';
import { phantomCommand } from './commands/phantom';
import { predictCommand } from './commands/predict';
import { reportCommand } from './commands/report';
import { splitCommand } from './commands/split';
import { USAGE, UsageError } from './usage';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  evaluate: evaluateCommand,
  predict: predictCommand,
  metrics: metricsCommand,
  phantom: phantomCommand,
  demo: demoCommand,
  gap: gapCommand,
  compare: compareCommand,
  gate: gateCommand,
  merge: mergeCommand,
  report: reportCommand,
  split: splitCommand,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE + '\n');
    return cmd ? 0 : 2;
  }
  const run = COMMANDS[cmd];
  if (!run) throw new UsageError(`unknown command "${cmd}"`);
  return run(rest);
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
