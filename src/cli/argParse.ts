/** The argument parsing every command shares: node:util's parseArgs with usage errors, and number options. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with usage errors instead of TypeErrors. */
export function parse<const O extends ParseArgsOptionsConfig>(args: string[], options: O) {
  try {
    return parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function positiveInt(name: string, v: string | undefined, fallback?: number): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
}
