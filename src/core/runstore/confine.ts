/**
 * Every file a run writes lies inside its run directory. Relative names built from dataset folder names, organ
 * names (from umd.json or a card) or settings go through `insideRunDir`, which resolves them and refuses any that
 * would land elsewhere ("..", an absolute path, a drive letter).
 */
import * as path from 'node:path';

/** The absolute path of `rel` under `runDir`; throws naming both when it would escape the run directory. */
export function insideRunDir(runDir: string, rel: string): string {
  const root = path.resolve(runDir);
  const abs = path.resolve(root, rel);
  const back = path.relative(root, abs);
  if (!back || back.startsWith('..') || path.isAbsolute(back)) {
    throw new Error(`refusing to write ${JSON.stringify(rel)}: it resolves to ${abs}, outside the run directory ${root}`);
  }
  return abs;
}
