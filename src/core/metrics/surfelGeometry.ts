/**
 * The geometry behind the surfel areas (surfelAreas.ts): for each of the 256 neighbourhood codes, the unit-cube
 * area vectors of the triangles of its marching-cubes iso-surface, derived from first principles (the rules are in
 * surfelAreas.ts). It does not depend on the spacing, so esbuild.mjs runs `deriveAreaVectors` once at build time
 * and embeds its result (the virtual module `surfel-area-vectors`); a fresh process then never derives it (about
 * 15-20 ms of uncompiled JavaScript, on the metrics command's critical path). A test checks the embedded vectors
 * against this derivation.
 */

type Vec3 = readonly [number, number, number];

const weightOf = (a: number, b: number, c: number): number => 1 << (7 - (4 * a + 2 * b + c));

/** The 6 cell faces, each as its 4 corners (a,b,c) in cyclic order. */
const FACES: readonly (readonly Vec3[])[] = (() => {
  const faces: Vec3[][] = [];
  for (let axis = 0; axis < 3; axis++) {
    const [u, w] = [0, 1, 2].filter((k) => k !== axis);
    for (const side of [0, 1]) {
      faces.push(
        [[0, 0], [1, 0], [1, 1], [0, 1]].map(([pu, pw]) => {
          const p = [0, 0, 0];
          p[axis] = side;
          p[u] = pu;
          p[w] = pw;
          return [p[0], p[1], p[2]] as const;
        }),
      );
    }
  }
  return faces;
})();

const edgeKey = (p: Vec3, q: Vec3): string => [p.join(''), q.join('')].sort().join('-');
const midpoint = (p: Vec3, q: Vec3): Vec3 => [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2, (p[2] + q[2]) / 2];

/** Half the cross product of (q-p) and (r-p): the triangle's area vector. */
function areaVector(p: Vec3, q: Vec3, r: Vec3): Vec3 {
  const u = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
  const v = [r[0] - p[0], r[1] - p[1], r[2] - p[2]];
  return [(u[1] * v[2] - u[2] * v[1]) / 2, (u[2] * v[0] - u[0] * v[2]) / 2, (u[0] * v[1] - u[1] * v[0]) / 2];
}

const norm = (n: Vec3): number => Math.sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);

/** Closed iso-polygons of one cell, as lists of edge-midpoint vertices. */
function cellPolygons(code: number): Vec3[][] {
  const isFg = (p: Vec3): boolean => (code & weightOf(p[0], p[1], p[2])) !== 0;
  let count = 0;
  for (let bit = 0; bit < 8; bit++) count += (code >> bit) & 1;
  const minorityIsFg = count <= 4;

  const links = new Map<string, string[]>();
  const where = new Map<string, Vec3>();
  const link = (e: readonly [Vec3, Vec3], f: readonly [Vec3, Vec3]): void => {
    const [ke, kf] = [edgeKey(...e), edgeKey(...f)];
    where.set(ke, midpoint(...e));
    where.set(kf, midpoint(...f));
    links.set(ke, [...(links.get(ke) ?? []), kf]);
    links.set(kf, [...(links.get(kf) ?? []), ke]);
  };
  for (const face of FACES) {
    const edge = (i: number): readonly [Vec3, Vec3] => [face[i % 4], face[(i + 1) % 4]];
    const cuts = [0, 1, 2, 3].filter((i) => isFg(face[i]) !== isFg(face[(i + 1) % 4]));
    if (cuts.length === 2) {
      link(edge(cuts[0]), edge(cuts[1]));
    } else if (cuts.length === 4) {
      // Cutting off corner i joins its two edges (i-1,i) and (i,i+1).
      for (const i of [0, 1, 2, 3].filter((j) => isFg(face[j]) === minorityIsFg)) link(edge(i + 3), edge(i));
    }
  }

  // Every midpoint lies on exactly two faces, one segment each: the links form disjoint cycles.
  const polygons: Vec3[][] = [];
  const seen = new Set<string>();
  for (const start of links.keys()) {
    if (seen.has(start)) continue;
    const ring: Vec3[] = [];
    let [prev, at] = ['', start];
    while (!seen.has(at)) {
      seen.add(at);
      ring.push(where.get(at) as Vec3);
      const next = (links.get(at) as string[]).find((k) => k !== prev && !seen.has(k)) ?? start;
      [prev, at] = [at, next];
    }
    polygons.push(ring);
  }
  return polygons;
}

/**
 * Area vectors of the largest-area triangulation of a (possibly non-planar) polygon, by the classic interval DP.
 * Triangulations tied in unit-cube area also share their facet normals, so which one wins a tie is immaterial.
 */
function maxAreaTriangles(poly: readonly Vec3[]): Vec3[] {
  const n = poly.length;
  const best: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const split: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(-1));
  for (let span = 2; span < n; span++) {
    for (let i = 0; i + span < n; i++) {
      const j = i + span;
      best[i][j] = -1;
      for (let k = i + 1; k < j; k++) {
        const total = best[i][k] + best[k][j] + norm(areaVector(poly[i], poly[k], poly[j]));
        if (total > best[i][j] + 1e-9) [best[i][j], split[i][j]] = [total, k];
      }
    }
  }
  const out: Vec3[] = [];
  const collect = (i: number, j: number): void => {
    const k = split[i][j];
    if (k < 0) return;
    collect(i, k);
    out.push(areaVector(poly[i], poly[k], poly[j]));
    collect(k, j);
  };
  collect(0, n - 1);
  return out;
}

/** Per code, its triangles' unit-cube area vectors, flattened (n0, n1, n2, n0, n1, n2, ...). */
export function deriveAreaVectors(): number[][] {
  return Array.from({ length: 256 }, (_, code) => cellPolygons(code).flatMap(maxAreaTriangles).flat());
}
