/**
 * The phantom's anatomy: one continuous description of a person in a body frame (millimetres; +x towards
 * the patient's right, +y anterior, +z superior; z = 0 at the bottom of the pelvis), sampled at any world
 * point. Organs are deformed ellipsoids ("blobs": scaled, sheared, tapered and bent by small per-subject
 * coefficients) or tubes (aorta, pancreas: chains of capsules). Only arithmetic is used, so the same subject
 * rasterizes to the same voxels on any machine.
 */
import { Rng } from '../random/rng';

/** Tissue codes. 1..13 are the organ label ids of DEFAULT_ORGANS; the rest image as tissue but are unlabelled. */
export const TISSUE = {
  AIR: 0,
  LIVER: 1,
  SPLEEN: 2,
  LEFT_KIDNEY: 3,
  RIGHT_KIDNEY: 4,
  HEART: 5, // myocardium
  AORTA: 6,
  LEFT_LUNG: 7,
  RIGHT_LUNG: 8,
  BRAIN: 9,
  BLADDER: 10,
  STOMACH: 11,
  PANCREAS: 12,
  GALLBLADDER: 13,
  HEART_BLOOD: 14, // cardiac blood pool, labelled heart
  FAT: 15,
  MUSCLE: 16,
  CORTICAL_BONE: 17,
  MARROW: 18,
  GAS: 19,
  BOWEL: 20,
  CSF: 21,
} as const;
export const TISSUE_COUNT = 22;

/** Organ label of each tissue code (0 = background). */
export const LABEL_OF_TISSUE: Uint8Array = (() => {
  const t = new Uint8Array(TISSUE_COUNT);
  for (let c = 1; c <= 13; c++) t[c] = c;
  t[TISSUE.HEART_BLOOD] = TISSUE.HEART;
  return t;
})();

/** A deformed ellipsoid. q = (p - c) / r, then u = deform(q); inside when |u|^2 < 1. */
export interface Blob {
  cx: number; cy: number; cz: number;
  /** inverse radii */
  ix: number; iy: number; iz: number;
  /** ux = qx (1 + tx qz) + bx qz^2 + sx qz;  uy = qy (1 + ty qz + tyx qx) + by qz^2 + sy qz;  uz = qz (1 + tz qx) + bz qx^2 */
  tx: number; ty: number; tyx: number; tz: number;
  bx: number; by: number; bz: number;
  sx: number; sy: number;
  /** conservative bounding box (body frame) */
  lo: [number, number, number];
  hi: [number, number, number];
}

/** A chain of capsules with radius interpolated along each segment. */
export interface Tube {
  pts: number[][]; // [x, y, z, r]
  lo: [number, number, number];
  hi: [number, number, number];
}

export interface Anatomy {
  /** torso outline: knots along z with half-widths (x) and half-depths (y) */
  torsoZ: number[]; torsoRx: number[]; torsoRy: number[];
  torsoBottom: number; shoulderZ: number; torsoTop: number;
  /** subcutaneous fat: torso is fat where normalized radius^2 exceeds this */
  fatE: number;
  neck: { y: number; r: number; z0: number; z1: number };
  skull: Blob; // outer table of the skull; scalp is 7% larger
  spine: { y: number; r: number; z0: number; z1: number; period: number; disc: number };
  ribs: { z0: number; z1: number; period: number; width: number; eIn: number; eOut: number };
  pelvis: Blob[]; // iliac wings and sacrum
  bowel: { z0: number; z1: number; e: number };
  gas: Blob[];
  organs: { [id: number]: Blob };
  aorta: Tube;
  pancreas: Tube;
}

interface BlobSpec {
  c: [number, number, number];
  r: [number, number, number];
  tx?: number; ty?: number; tyx?: number; tz?: number;
  bx?: number; by?: number; bz?: number;
  sx?: number; sy?: number;
}

/** Template (average) organs in the body frame before per-subject scaling. */
const TEMPLATE: { [id: number]: BlobSpec } = {
  1: { c: [50, 5, 405], r: [85, 78, 68], tyx: -0.35, tz: -0.3 }, // liver: bulky right lobe, thin left lobe
  2: { c: [-88, -38, 425], r: [28, 45, 52], sy: 0.15 }, // spleen
  3: { c: [-72, -45, 332], r: [27, 25, 52], sx: 0.15 }, // left kidney (upper pole medial)
  4: { c: [72, -45, 317], r: [27, 25, 52], sx: -0.15 }, // right kidney, a little lower
  5: { c: [-18, 22, 530], r: [58, 48, 55], sx: 0.25, sy: -0.15 }, // heart, apex left-anterior-inferior
  7: { c: [-80, -8, 555], r: [57, 82, 125], tx: 0.15, ty: 0.1 }, // left lung, wider base
  8: { c: [80, -8, 560], r: [57, 82, 125], tx: 0.15, ty: 0.1 }, // right lung
  9: { c: [0, 8, 838], r: [64, 80, 60] }, // brain
  10: { c: [0, 30, 95], r: [42, 36, 32] }, // bladder
  11: { c: [-48, 30, 415], r: [45, 32, 60], bz: 0.3, sx: 0.2 }, // stomach, J-shaped
  13: { c: [55, 48, 365], r: [14, 15, 33], sy: -0.2 }, // gallbladder under the liver
};
const SKULL: BlobSpec = { c: [0, 5, 830], r: [76, 94, 86] };
const AORTA: number[][] = [
  [-20, -30, 250, 10], [-22, -32, 470, 11], [-18, -28, 580, 12], [-2, 0, 612, 13], [8, 18, 590, 14], [5, 22, 545, 14],
];
const PANCREAS: number[][] = [[40, -5, 360, 15], [0, -12, 370, 11], [-45, -18, 385, 10], [-78, -28, 395, 8]];
/** z, half-width x, half-depth y of the torso */
const TORSO: number[][] = [
  [0, 150, 100], [120, 156, 104], [250, 143, 98], [380, 146, 104], [500, 156, 110], [620, 166, 106], [700, 166, 100],
];

/** Per-subject scaling of the template: x, y about the midline, z about the mid-torso. */
interface Body { sx: number; sy: number; sz: number }
const Z_MID = 450;

function place(b: Body, p: readonly number[]): [number, number, number] {
  return [p[0] * b.sx, p[1] * b.sy, Z_MID + (p[2] - Z_MID) * b.sz];
}

function makeBlob(spec: BlobSpec, body: Body, rng: Rng, vary: { pos: number; size: number; shape: number }): Blob {
  const c = place(body, spec.c);
  c[0] += rng.jitter(vary.pos);
  c[1] += rng.jitter(vary.pos);
  c[2] += rng.jitter(vary.pos * 1.25);
  const r = [spec.r[0] * body.sx, spec.r[1] * body.sy, spec.r[2] * body.sz].map((v) => v * (1 + rng.jitter(vary.size)));
  const d = () => rng.jitter(vary.shape);
  const blob: Blob = {
    cx: c[0], cy: c[1], cz: c[2], ix: 1 / r[0], iy: 1 / r[1], iz: 1 / r[2],
    tx: (spec.tx ?? 0) + d(), ty: (spec.ty ?? 0) + d(), tyx: (spec.tyx ?? 0) + d(), tz: (spec.tz ?? 0) + d(),
    bx: (spec.bx ?? 0) + d(), by: (spec.by ?? 0) + d(), bz: (spec.bz ?? 0) + d(),
    sx: (spec.sx ?? 0) + d(), sy: (spec.sy ?? 0) + d(),
    lo: [0, 0, 0], hi: [0, 0, 0],
  };
  // deformations are bounded (|coefficients| < ~0.6): 1.8 radii bounds every point with |u| < 1
  for (let a = 0; a < 3; a++) {
    blob.lo[a] = c[a] - 1.8 * r[a];
    blob.hi[a] = c[a] + 1.8 * r[a];
  }
  return blob;
}

function makeTube(pts: number[][], body: Body, rng: Rng, pos: number, size: number): Tube {
  const shift = [rng.jitter(pos), rng.jitter(pos), rng.jitter(pos)];
  const scale = 1 + rng.jitter(size);
  const out = pts.map((p) => {
    const q = place(body, p);
    // each point wobbles a little on top of the common shift: the tube's course varies
    return [q[0] + shift[0] + rng.jitter(pos / 2), q[1] + shift[1] + rng.jitter(pos / 2), q[2] + shift[2] + rng.jitter(pos / 2), p[3] * scale];
  });
  const lo: [number, number, number] = [Infinity, Infinity, Infinity];
  const hi: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (const p of out) {
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], p[a] - p[3]);
      hi[a] = Math.max(hi[a], p[a] + p[3]);
    }
  }
  return { pts: out, lo, hi };
}

/** Draws one subject's anatomy. */
export function makeAnatomy(rng: Rng): Anatomy {
  const body: Body = { sx: rng.uniform(0.92, 1.06), sy: rng.uniform(0.9, 1.08), sz: rng.uniform(0.96, 1.04) };
  const vary = { pos: 7, size: 0.12, shape: 0.12 };
  const organs: { [id: number]: Blob } = {};
  for (const id of [1, 2, 3, 4, 5, 7, 8, 10, 11, 13]) organs[id] = makeBlob(TEMPLATE[id], body, rng, vary);
  const skull = makeBlob(SKULL, body, rng, { pos: 3, size: 0.05, shape: 0.04 });
  // the brain follows the skull closely
  const brain = makeBlob(TEMPLATE[9], body, rng, { pos: 2, size: 0.04, shape: 0.04 });
  const skullAt = place(body, SKULL.c);
  const shift = [skull.cx - skullAt[0], skull.cy - skullAt[1], skull.cz - skullAt[2]];
  brain.cx += shift[0];
  brain.cy += shift[1];
  brain.cz += shift[2];
  for (let a = 0; a < 3; a++) {
    brain.lo[a] += shift[a];
    brain.hi[a] += shift[a];
  }
  organs[9] = brain;
  const gas: Blob[] = [];
  const nGas = 4 + (rng.nextUint32() % 4);
  for (let n = 0; n < nGas; n++) {
    const rr = rng.uniform(7, 18);
    gas.push(makeBlob({ c: [rng.uniform(-90, 90), rng.uniform(-30, 50), rng.uniform(130, 320)], r: [rr, rr * rng.uniform(0.7, 1.3), rr * rng.uniform(0.7, 1.5)] }, body, rng, { pos: 0, size: 0, shape: 0.2 }));
  }
  const pelvis = [
    makeBlob({ c: [95, -30, 170], r: [18, 50, 60], sx: 0.3 }, body, rng, { pos: 3, size: 0.06, shape: 0.05 }),
    makeBlob({ c: [-95, -30, 170], r: [18, 50, 60], sx: -0.3 }, body, rng, { pos: 3, size: 0.06, shape: 0.05 }),
    makeBlob({ c: [0, -70, 150], r: [35, 18, 45], sy: -0.3 }, body, rng, { pos: 2, size: 0.06, shape: 0.05 }),
  ];
  return {
    torsoZ: TORSO.map((t) => Z_MID + (t[0] - Z_MID) * body.sz),
    torsoRx: TORSO.map((t) => t[1] * body.sx * (1 + rng.jitter(0.03))),
    torsoRy: TORSO.map((t) => t[2] * body.sy * (1 + rng.jitter(0.03))),
    torsoBottom: Z_MID + (15 - Z_MID) * body.sz,
    shoulderZ: Z_MID + (650 - Z_MID) * body.sz,
    torsoTop: Z_MID + (700 - Z_MID) * body.sz,
    fatE: (() => { const f = rng.uniform(0.86, 0.94); return f * f; })(),
    neck: { y: -10 * body.sy, r: 52 * body.sx, z0: Z_MID + (660 - Z_MID) * body.sz, z1: Z_MID + (790 - Z_MID) * body.sz },
    skull,
    spine: { y: -62 * body.sy, r: 16, z0: Z_MID + (195 - Z_MID) * body.sz, z1: Z_MID + (765 - Z_MID) * body.sz, period: 30 * body.sz, disc: 6 },
    ribs: { z0: Z_MID + (395 - Z_MID) * body.sz, z1: Z_MID + (640 - Z_MID) * body.sz, period: 26 * body.sz, width: 9, eIn: 0.74, eOut: 0.82 },
    pelvis,
    bowel: { z0: Z_MID + (140 - Z_MID) * body.sz, z1: Z_MID + (330 - Z_MID) * body.sz, e: 0.55 },
    gas,
    organs,
    aorta: makeTube(AORTA, body, rng, 5, 0.1),
    pancreas: makeTube(PANCREAS, body, rng, 6, 0.12),
  };
}

/** |u|^2 of a blob at p, or Infinity outside its bounding box. */
export function blobQ2(b: Blob, x: number, y: number, z: number): number {
  if (x < b.lo[0] || x > b.hi[0] || y < b.lo[1] || y > b.hi[1] || z < b.lo[2] || z > b.hi[2]) return Infinity;
  const qx = (x - b.cx) * b.ix;
  const qy = (y - b.cy) * b.iy;
  const qz = (z - b.cz) * b.iz;
  const ux = qx * (1 + b.tx * qz) + b.bx * qz * qz + b.sx * qz;
  const uy = qy * (1 + b.ty * qz + b.tyx * qx) + b.by * qz * qz + b.sy * qz;
  const uz = qz * (1 + b.tz * qx) + b.bz * qx * qx;
  return ux * ux + uy * uy + uz * uz;
}

function inTube(t: Tube, x: number, y: number, z: number): boolean {
  if (x < t.lo[0] || x > t.hi[0] || y < t.lo[1] || y > t.hi[1] || z < t.lo[2] || z > t.hi[2]) return false;
  const p = t.pts;
  for (let s = 0; s + 1 < p.length; s++) {
    const a = p[s];
    const b = p[s + 1];
    const dx = b[0] - a[0], dy = b[1] - a[1], dz = b[2] - a[2];
    const len2 = dx * dx + dy * dy + dz * dz;
    let u = ((x - a[0]) * dx + (y - a[1]) * dy + (z - a[2]) * dz) / len2;
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    const ex = x - a[0] - u * dx, ey = y - a[1] - u * dy, ez = z - a[2] - u * dz;
    const r = a[3] + u * (b[3] - a[3]);
    if (ex * ex + ey * ey + ez * ez < r * r) return true;
  }
  return false;
}

function interp(zs: number[], vs: number[], z: number): number {
  if (z <= zs[0]) return vs[0];
  for (let n = 1; n < zs.length; n++) {
    if (z <= zs[n]) return vs[n - 1] + ((z - zs[n - 1]) / (zs[n] - zs[n - 1])) * (vs[n] - vs[n - 1]);
  }
  return vs[vs.length - 1];
}

/** Order in which organs claim a point (first wins): small and enhancing structures over the big parenchyma. */
const ORGAN_ORDER = [10, 13, 3, 4, 2, 11, 1, 7, 8];

/** The tissue at body-frame point (x, y, z) mm. */
export function classify(a: Anatomy, x: number, y: number, z: number): number {
  // head: scalp, skull, brain, CSF
  const q = blobQ2(a.skull, x, y, z);
  if (q < 1) {
    if (q > 0.8) return TISSUE.CORTICAL_BONE;
    return blobQ2(a.organs[9], x, y, z) < 1 ? TISSUE.BRAIN : TISSUE.CSF;
  }
  if (q < 1.145) return TISSUE.MUSCLE; // scalp
  // neck (above the shoulders)
  if (z > a.shoulderZ && z <= a.neck.z1) {
    const dy = y - a.neck.y;
    const r2 = x * x + dy * dy;
    if (r2 < a.neck.r * a.neck.r) {
      const sp = a.spine;
      if (x * x + (y - sp.y) * (y - sp.y) < sp.r * sp.r && z < sp.z1) return TISSUE.MARROW;
      if (x * x + (dy - 22) * (dy - 22) < 64) return TISSUE.GAS; // trachea
      const ri = a.neck.r - 7;
      return r2 > ri * ri ? TISSUE.FAT : TISSUE.MUSCLE;
    }
  }
  if (z < a.torsoBottom || z > a.torsoTop) return TISSUE.AIR;
  let rx = interp(a.torsoZ, a.torsoRx, z);
  let ry = interp(a.torsoZ, a.torsoRy, z);
  if (z > a.shoulderZ) {
    const t = (z - a.shoulderZ) / (a.torsoTop - a.shoulderZ);
    const f = Math.sqrt(1 - t * t);
    rx *= f;
    ry *= 0.6 + 0.4 * f;
  }
  const e = (x * x) / (rx * rx) + (y * y) / (ry * ry);
  if (e >= 1) return TISSUE.AIR;
  if (e > a.fatE) return TISSUE.FAT;
  // bones
  const sp = a.spine;
  if (z > sp.z0 && z < sp.z1) {
    const d2 = x * x + (y - sp.y) * (y - sp.y);
    if (d2 < sp.r * sp.r) {
      const m = (z - sp.z0) % sp.period;
      if (m < sp.disc) return TISSUE.MUSCLE; // intervertebral disc
      return d2 > 0.6 * sp.r * sp.r ? TISSUE.CORTICAL_BONE : TISSUE.MARROW;
    }
  }
  const rb = a.ribs;
  if (z > rb.z0 && z < rb.z1 && e > rb.eIn && e < rb.eOut && y > -0.75 * ry && (z - rb.z0) % rb.period < rb.width) {
    return TISSUE.CORTICAL_BONE;
  }
  if (z < 260) {
    for (const b of a.pelvis) {
      const q = blobQ2(b, x, y, z);
      if (q < 1) return q > 0.55 ? TISSUE.CORTICAL_BONE : TISSUE.MARROW;
    }
  }
  // organs
  if (inTube(a.aorta, x, y, z)) return TISSUE.AORTA;
  const h = blobQ2(a.organs[5], x, y, z);
  if (h < 1) return h < 0.42 ? TISSUE.HEART_BLOOD : TISSUE.HEART;
  if (inTube(a.pancreas, x, y, z)) return TISSUE.PANCREAS;
  for (const id of ORGAN_ORDER) if (blobQ2(a.organs[id], x, y, z) < 1) return id;
  // perirenal and perivesical fat
  if (blobQ2(a.organs[3], x, y, z) < 1.7 || blobQ2(a.organs[4], x, y, z) < 1.7 || blobQ2(a.organs[10], x, y, z) < 1.6) return TISSUE.FAT;
  if (z > a.bowel.z0 && z < a.bowel.z1) {
    for (const g of a.gas) if (blobQ2(g, x, y, z) < 1) return TISSUE.GAS;
    if (e < a.bowel.e) return TISSUE.BOWEL;
  }
  return TISSUE.MUSCLE;
}
