import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './realData';

/** A minimal valid model card (tests patch the keys they exercise). */
export const baseCard = (): Record<string, unknown> => ({
  kind: 'semantic',
  inputs: { image: 'image' },
  outputs: { logits: 'logits' },
  patchSize: null,
  spatialOrder: 'kji',
  spacing: null,
  normalization: { '*': { method: 'none' } },
  labels: { '1': 'liver', '2': 'spleen' },
});

let modelDirs: string | undefined;
let modelCount = 0;
/** A model fixture (test/fixtures/models/<fixture>) symlinked into a fresh temp dir with the given card beside it. */
export function withCard(fixture: string, card: Record<string, unknown>): string {
  if (!modelDirs) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-card-'));
    process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
    modelDirs = root;
  }
  const dir = path.join(modelDirs, `m${modelCount++}`);
  fs.mkdirSync(dir);
  const onnx = path.join(dir, 'model.onnx');
  fs.symlinkSync(path.join(repoRoot(), 'test', 'fixtures', 'models', fixture), onnx);
  fs.writeFileSync(path.join(dir, 'model.umd.json'), JSON.stringify(card));
  return onnx;
}
