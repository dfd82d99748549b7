/**
 * NIfTI-1 writing (nifti-reader-js reads only). Output is byte-for-byte deterministic: fixed header fields,
 * gzip with mtime 0, so a phantom generated twice from one seed has the same sha256 on any machine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'fflate';
import { spacingMm, type Affine } from '../geometry/affine';
import type { Volume } from '../geometry/volume';

const DATATYPE: Record<string, [code: number, bitpix: number]> = {
  Uint8Array: [2, 8],
  Int16Array: [4, 16],
  Int32Array: [8, 32],
  Float32Array: [16, 32],
  Uint16Array: [512, 16],
};

/** Quaternion (b, c, d), qfac and offsets for the rotation part of an affine, as nifti1_io's mat44_to_quatern. */
function quatern(affine: Affine): { b: number; c: number; d: number; qfac: number } {
  const sp = spacingMm(affine);
  const r = [0, 1, 2].map((row) => [0, 1, 2].map((col) => affine[row * 4 + col] / sp[col]));
  let det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
    + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    for (let row = 0; row < 3; row++) r[row][2] = -r[row][2];
    det = -det;
  }
  const a0 = r[0][0] + r[1][1] + r[2][2] + 1;
  let a: number, b: number, c: number, d: number;
  if (a0 > 0.5) {
    a = 0.5 * Math.sqrt(a0);
    b = 0.25 * (r[2][1] - r[1][2]) / a;
    c = 0.25 * (r[0][2] - r[2][0]) / a;
    d = 0.25 * (r[1][0] - r[0][1]) / a;
  } else {
    const xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
    const yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
    const zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd); c = 0.25 * (r[0][1] + r[1][0]) / b; d = 0.25 * (r[0][2] + r[2][0]) / b; a = 0.25 * (r[2][1] - r[1][2]) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd); b = 0.25 * (r[0][1] + r[1][0]) / c; d = 0.25 * (r[1][2] + r[2][1]) / c; a = 0.25 * (r[0][2] - r[2][0]) / c;
    } else {
      d = 0.5 * Math.sqrt(zd); b = 0.25 * (r[0][2] + r[2][0]) / d; c = 0.25 * (r[1][2] + r[2][1]) / d; a = 0.25 * (r[1][0] - r[0][1]) / d;
    }
    if (a < 0) { b = -b; c = -c; d = -d; }
  }
  return { b, c, d, qfac };
}

/** The 352-byte NIfTI-1 header (348 + the empty extension flag) for a volume of this grid and voxel type. */
export function encodeNiftiHeader(grid: Pick<Volume, 'dims' | 'affine'>, kind: string, description = 'umd-lens'): Uint8Array {
  const dt = DATATYPE[kind];
  if (!dt) throw new Error(`cannot write ${kind} voxels to NIfTI`);
  const [code, bitpix] = dt;
  const header = new ArrayBuffer(352);
  const v = new DataView(header);
  const le = true;
  v.setInt32(0, 348, le);
  v.setUint8(38, 'r'.charCodeAt(0));
  const dims = [3, grid.dims[0], grid.dims[1], grid.dims[2], 1, 1, 1, 1];
  dims.forEach((d, n) => v.setInt16(40 + n * 2, d, le));
  v.setInt16(70, code, le);
  v.setInt16(72, bitpix, le);
  const q = quatern(grid.affine);
  const sp = spacingMm(grid.affine);
  [q.qfac, sp[0], sp[1], sp[2], 0, 0, 0, 0].forEach((p, n) => v.setFloat32(76 + n * 4, p, le));
  v.setFloat32(108, 352, le); // vox_offset
  v.setFloat32(112, 1, le); // scl_slope
  v.setFloat32(116, 0, le); // scl_inter
  v.setUint8(123, 2 | 8); // xyzt_units: mm, s
  const desc = new TextEncoder().encode(description.slice(0, 79));
  new Uint8Array(header, 148, 80).set(desc);
  v.setInt16(252, 1, le); // qform_code: scanner
  v.setInt16(254, 1, le); // sform_code: scanner
  v.setFloat32(256, q.b, le);
  v.setFloat32(260, q.c, le);
  v.setFloat32(264, q.d, le);
  v.setFloat32(268, grid.affine[3], le);
  v.setFloat32(272, grid.affine[7], le);
  v.setFloat32(276, grid.affine[11], le);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + r * 16 + c * 4, grid.affine[r * 4 + c], le);
  new Uint8Array(header, 344, 4).set([0x6e, 0x2b, 0x31, 0]); // "n+1\0"
  return new Uint8Array(header);
}

/** Encodes a volume as a NIfTI-1 single file (.nii bytes). sform and qform both set (code 1, scanner). */
export function encodeNifti(vol: Volume, description = 'umd-lens'): Uint8Array {
  const header = encodeNiftiHeader(vol, vol.data.constructor.name, description);
  const data = new Uint8Array(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
  const out = new Uint8Array(352 + data.byteLength);
  out.set(header, 0);
  out.set(data, 352);
  return out;
}

/** Writes `.nii` or `.nii.gz` (by extension), creating the folder; the file appears atomically (rename). */
export function writeNifti(file: string, vol: Volume, description?: string): void {
  const raw = encodeNifti(vol, description);
  const bytes = file.endsWith('.gz') ? gzipSync(raw, { level: 6, mtime: 0 }) : raw;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}
