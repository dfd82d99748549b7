/**
 * Marching-cubes surface area inside one 2x2x2 cell, per neighbourhood code, as defined by the surface-distance
 * metrics of Nikolov et al. 2018 (DeepMind's `surface-distance` library). Derived here from first principles; no
 * table is copied.
 *
 * Code: corner (a,b,c) ∈ {0,1}^3 of the cell (a along x0, b along x1, c along x2) contributes bit 7-(4a+2b+c) when
 * it is foreground. `surfelAreaTable(s)[code]` is the area in mm² of the cell's iso-surface for spacing s = (s0,s1,s2)
 * mm, where the iso-surface is built like this:
 * - vertices at the midpoints of the cell edges whose two corners differ;
 * - on each cell face, segments join those midpoints around the face's corners; on an ambiguous face (two diagonal
 *   corners foreground, two background) the segments cut off the two corners carrying the cell's minority label
 *   (foreground if at most 4 of 8 corners are foreground, else background; with 4 and 4 either choice gives the
 *   same areas). This is classic marching cubes' complement symmetry: a code and its complement get one surface;
 * - the segments close into polygons of 3 to 6 vertices; each polygon is triangulated with the triangulation of
 *   largest total area in the unit cube. Only the non-planar pentagons and hexagons care: a pentagon becomes its
 *   planar quad plus a triangle, as in the classic (Lorensen & Cline / Bourke) case tables;
 * - the area is the sum over triangles of |(n0 s1 s2, n1 s0 s2, n2 s0 s1)|, n being the triangle's unit-cube area
 *   vector (half the cross product of two edges), i.e. the exact area of the triangle scaled by the spacing.
 * These rules reproduce the reference's per-code areas for all 256 codes at any spacing, to rounding (a few ulps:
 * the triangles are summed in another order), so NSD and robust Hausdorff weights match.
 */

import byCode from 'surfel-area-vectors';

/**
 * Surface area (mm²) inside a 2x2x2 cell for each of the 256 neighbourhood codes, for voxel spacing
 * (s0, s1, s2) mm along (x0, x1, x2). Codes 0 and 255 have no surface. The triangles' unit-cube area vectors are
 * derived at build time (surfelGeometry.ts).
 */
export function surfelAreaTable(spacingMm: readonly [number, number, number]): Float64Array {
  const [s0, s1, s2] = spacingMm;
  const table = new Float64Array(256);
  for (let code = 0; code < 256; code++) {
    const v = byCode[code];
    let sum = 0;
    // Scaling the triangle's axes by the spacing scales its area vector's components by the other two spacings.
    for (let t = 0; t < v.length; t += 3) {
      const a = v[t] * s1 * s2, b = v[t + 1] * s0 * s2, c = v[t + 2] * s0 * s1;
      sum += Math.sqrt(a * a + b * b + c * c);
    }
    table[code] = sum;
  }
  return table;
}
