/** Finding the JSON key a card problem speaks of (no vscode import: unit-tested on its own). */
import type { Node } from 'jsonc-parser/lib/esm/main.js';

/**
 * The key a problem message names: messages start with a key path ("labels.1 must ...", "unknown key
 * normalization.mr (ignored)") whose keys may hold spaces and dots, so the path is followed through the JSON tree,
 * the longest key that matches at each step. Returns the deepest key node found.
 */
export function keyNodeFor(root: Node | undefined, message: string): Node | undefined {
  let node = root;
  let pos = 0;
  let found: Node | undefined;
  while (node?.type === 'object') {
    let best: Node | undefined;
    for (const prop of node.children ?? []) {
      const key = prop.children?.[0]?.value;
      if (typeof key !== 'string' || !message.startsWith(key, pos)) continue;
      const next = message[pos + key.length];
      if (next !== undefined && !'. :'.includes(next)) continue;
      if (!best || key.length > (best.children![0].value as string).length) best = prop;
    }
    if (!best) break;
    const key = best.children![0].value as string;
    found = best.children![0];
    node = best.children![1];
    if (message[pos + key.length] !== '.') break;
    pos += key.length + 1;
  }
  return found;
}
