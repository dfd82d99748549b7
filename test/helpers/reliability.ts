/**
 * Figures for the reliability summary that `npm test` prints at the end (scripts/test.mjs): each test file that
 * measures something writes its figures here, as JSON under test-results/reliability/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './realData';

export function recordReliability(section: string, figures: Record<string, number | string | boolean>): void {
  const dir = path.join(repoRoot(), 'test-results', 'reliability');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${section}.json`), JSON.stringify(figures, null, 2) + '\n');
}
