/**
 * Where the real medical volumes live (see ../shared/data/real/README.md). Tests that use them FAIL when the
 * directory is missing instead of skipping: CI always has it, and a silently skipped check proves nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The project root: the nearest directory above this (bundled) file that holds package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
}

/** `$UMD_REAL_DATA`, or `<project root>/../shared/data/real`; throws when that directory does not exist. */
export function realDataDir(): string {
  const dir = process.env.UMD_REAL_DATA || path.resolve(repoRoot(), '../shared/data/real');
  if (!fs.existsSync(path.join(dir, 'README.md'))) {
    throw new Error(`real test data not found at ${dir} (set UMD_REAL_DATA to the directory holding README.md, sts-petctmr/, brain-meshnet/)`);
  }
  return dir;
}
