/** Connected components of a binary mask, as the click simulator needs them. */

/**
 * Labels the 26-connected components of `mask` (the connectivity cc3d.connected_components uses by default, which
 * the CVPR 2025 interactive challenge calls) and returns the voxels of the largest one as a 0/1 mask, with its
 * size. Ties between equally large components go to the one whose first voxel comes first in flat order (i
 * fastest). Null when the mask is empty.
 */
export function largestComponent(mask: Uint8Array, dims: readonly [number, number, number]): { mask: Uint8Array; size: number } | null {
  const [n0, n1, n2] = dims;
  const label = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  let next = 0;
  let bestLabel = 0;
  let bestSize = 0;
  for (let seed = 0; seed < mask.length; seed++) {
    if (!mask[seed] || label[seed]) continue;
    const id = ++next;
    label[seed] = id;
    let top = 0;
    stack[top++] = seed;
    let size = 0;
    while (top > 0) {
      const v = stack[--top];
      size++;
      const i = v % n0;
      const j = ((v - i) / n0) % n1;
      const k = (v - i - n0 * j) / (n0 * n1);
      for (let dk = -1; dk <= 1; dk++) {
        const kk = k + dk;
        if (kk < 0 || kk >= n2) continue;
        for (let dj = -1; dj <= 1; dj++) {
          const jj = j + dj;
          if (jj < 0 || jj >= n1) continue;
          for (let di = -1; di <= 1; di++) {
            const ii = i + di;
            if (ii < 0 || ii >= n0) continue;
            const u = ii + n0 * (jj + n1 * kk);
            if (mask[u] && !label[u]) {
              label[u] = id;
              stack[top++] = u;
            }
          }
        }
      }
    }
    if (size > bestSize) {
      bestSize = size;
      bestLabel = id;
    }
  }
  if (bestLabel === 0) return null;
  const out = new Uint8Array(mask.length);
  for (let v = 0; v < mask.length; v++) if (label[v] === bestLabel) out[v] = 1;
  return { mask: out, size: bestSize };
}
