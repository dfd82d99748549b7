import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root: the nearest folder above this (bundled) file holding package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/**
 * The shared real-data folder: $UMD_REAL_DATA, else ../shared/data/real beside the repository. Tests fail,
 * never skip, when it is missing: CI always has it.
 */
export function realDataDir(): string {
  const dir = process.env.UMD_REAL_DATA ?? path.resolve(repoRoot(), '../shared/data/real');
  if (!fs.existsSync(path.join(dir, 'README.md'))) {
    throw new Error(`real test data not found at ${dir} (set UMD_REAL_DATA)`);
  }
  return dir;
}
