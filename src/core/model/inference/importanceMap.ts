/** How much each voxel of a window weighs in the blending (step 4 of slidingWindow.ts). */
import type { Shape3 } from './types';

/** MONAI `compute_importance_map(mode="gaussian", sigma_scale)` for a 3D patch, computed in float32. */
export function gaussianImportanceMap(patch: Shape3, sigmaScale = 0.125): Float32Array {
  const axes = patch.map((p) => {
    const sigma = p * sigmaScale;
    const g = new Float32Array(p);
    for (let n = 0; n < p; n++) {
      const x = n - (p - 1) / 2;
      g[n] = Math.exp((x * x) / (-2 * sigma * sigma));
    }
    return g;
  });
  const [p0, p1, p2] = patch;
  const map = new Float32Array(p0 * p1 * p2);
  let o = 0;
  let min = Infinity;
  for (let a = 0; a < p0; a++) {
    for (let b = 0; b < p1; b++) {
      // float32 products in the same order as MONAI's unsqueeze-multiply
      const ab = Math.fround(axes[0][a] * axes[1][b]);
      for (let c = 0; c < p2; c++, o++) {
        map[o] = ab * axes[2][c];
        if (map[o] < min) min = map[o];
      }
    }
  }
  const floor = Math.max(min, 1e-3);
  for (let v = 0; v < map.length; v++) if (map[v] < floor) map[v] = floor;
  return map;
}
