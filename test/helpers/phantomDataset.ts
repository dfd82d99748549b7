/** A small phantom dataset (src/core/phantom) in a fresh temp directory, for tests that evaluate a whole dataset. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generatePhantom } from '../../src/core/phantom';

/** Generates `subjects` phantom subjects under a new `<tmpdir>/<prefix>XXXXXX` and returns that root. */
export async function phantomDataset(prefix: string, subjects: number, seed: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  await generatePhantom({ outDir: dir, subjects, seed });
  return dir;
}
