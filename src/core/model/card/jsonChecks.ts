/**
 * Shared by every card source: reading a JSON file into a CardError that names it, and the small checks that
 * let each problem be reported with its key path ("configurations.3d_fullres.patch_size").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export class CardError extends Error {
  /** Warnings found along with the errors (unknown keys): an editor shows both at once. */
  warnings: string[] = [];

  constructor(readonly file: string, readonly problems: string[]) {
    super(problems.length === 1 ? `${file}: ${problems[0]}` : `${file}: invalid model card:\n${problems.map((p) => `  ${path.basename(file)}: ${p}`).join('\n')}`);
    this.name = 'CardError';
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const show = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(v));

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CardError(file, [`cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`]);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CardError(file, [`not valid JSON (${(e as Error).message})`]);
  }
}

/**
 * Warns about keys outside `known` ("$" keys such as $schema and $comment are always accepted): a newer
 * writer may add fields, so an unknown key is worth a look, never a failure.
 */
export function warnUnknownKeys(obj: Record<string, unknown>, known: readonly string[], prefix: string, label: string, warnings: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k) && !k.startsWith('$')) warnings.push(`${label}: unknown key ${prefix}${k} (ignored)`);
  }
}

/** Three positive integers (a patch in voxels) or three positive numbers (a spacing in mm). */
export function isTriple(v: unknown, integers: boolean): v is [number, number, number] {
  return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0 && (!integers || Number.isInteger(x)));
}

export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
