/**
 * NIfTI-1/2 reading through nifti-reader-js, with the affine chosen as the standard says: sform when
 * sform_code > 0, else qform, else pixdim scaling. (nifti-reader-js itself prefers the qform when its code is
 * higher, which disagrees with nibabel, ITK and NiiVue on files whose two transforms differ.)
 */
import * as fs from 'node:fs';
import * as nifti from 'nifti-reader-js';
import { voxelCount, type Affine, type GridDims } from '../geometry/affine';
import type { ImageVolume, LabelVolume } from './volume';

export class NiftiError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'NiftiError';
  }
}

interface Decoded {
  header: nifti.NIFTI1 | nifti.NIFTI2;
  dims: GridDims;
  affine: Affine;
  raw: ArrayBuffer;
  /** The header bytes, uncompressed. */
  bytes: ArrayBuffer;
}

function decode(file: string, buf?: ArrayBuffer): Decoded {
  let bytes: ArrayBuffer;
  try {
    const b = fs.readFileSync(file);
    bytes = buf ?? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  } catch (e) {
    throw new NiftiError(file, `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (nifti.isCompressed(bytes)) {
    try {
      bytes = nifti.decompress(bytes) as ArrayBuffer;
    } catch (e) {
      throw new NiftiError(file, `corrupt or truncated gzip stream (${(e as Error).message})`);
    }
  }
  if (!nifti.isNIFTI(bytes)) throw new NiftiError(file, 'not a NIfTI-1 or NIfTI-2 file (bad magic)');
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = nifti.readHeader(bytes);
  } catch (e) {
    throw new NiftiError(file, `unreadable header (${(e as Error).message})`);
  }
  const d = header.dims;
  if (d[0] < 3 && !(d[0] >= 1)) throw new NiftiError(file, `unsupported dimensionality dim[0]=${d[0]}`);
  const dims: GridDims = [d[1] || 1, d[2] || 1, d[0] >= 3 ? d[3] || 1 : 1];
  for (let n = 4; n <= Math.min(d[0], 7); n++) {
    if (d[n] > 1) throw new NiftiError(file, `${d[0]}D image (dim[${n}]=${d[n]}): only 3D volumes are supported`);
  }
  if (dims.some((n) => !Number.isInteger(n) || n < 1)) throw new NiftiError(file, `invalid dimensions ${dims.join('x')}`);
  const affine = chooseAffine(header, bytes);
  if (affine.some((v) => !Number.isFinite(v))) throw new NiftiError(file, 'affine has non-finite entries');
  const det = determinant3(affine);
  if (Math.abs(det) < 1e-9) throw new NiftiError(file, 'singular affine (zero or missing voxel spacing)');
  const bytesPerVoxel = header.numBitsPerVoxel / 8;
  const need = header.vox_offset + voxelCount(dims) * bytesPerVoxel;
  if (need > bytes.byteLength) {
    throw new NiftiError(file, `truncated: header declares ${need} bytes of data, file has ${bytes.byteLength}`);
  }
  const raw = nifti.readImage(header, bytes);
  return { header, dims, affine, raw, bytes };
}

function determinant3(a: Affine): number {
  return a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) + a[2] * (a[4] * a[9] - a[5] * a[8]);
}

function chooseAffine(header: nifti.NIFTI1 | nifti.NIFTI2, bytes: ArrayBuffer): number[] {
  const flat = (m: number[][]) => [...m[0], ...m[1], ...m[2], 0, 0, 0, 1];
  if (header.sform_code > 0 && header instanceof nifti.NIFTI1) {
    // srow_x/y/z at bytes 280, 296, 312 of a NIfTI-1 header
    const view = new DataView(bytes);
    const le = header.littleEndian;
    const out: number[] = [];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) out.push(view.getFloat32(280 + r * 16 + c * 4, le));
    return [...out, 0, 0, 0, 1];
  }
  // qform (and NIfTI-2, whose transforms nifti-reader-js decodes itself)
  if (header.sform_code > 0 || header.qform_code > 0) return flat(header.affine);
  const p = header.pixDims;
  return [p[1] || 0, 0, 0, 0, 0, p[2] || 0, 0, 0, 0, 0, p[3] || 1, 0, 0, 0, 0, 1];
}

function typedView(file: string, header: nifti.NIFTI1 | nifti.NIFTI2, raw: ArrayBuffer, n: number): ArrayLike<number> {
  let arr: ArrayLike<number>;
  const T = nifti.NIFTI1;
  const le = header.littleEndian;
  const bytesPer = header.numBitsPerVoxel / 8;
  const aligned = raw.byteLength >= n * bytesPer ? raw.slice(0, n * bytesPer) : raw;
  if (!le && bytesPer > 1) {
    // big-endian: swap into native (little-endian) order once
    const u8 = new Uint8Array(aligned);
    for (let o = 0; o < u8.length; o += bytesPer) u8.subarray(o, o + bytesPer).reverse();
  }
  switch (header.datatypeCode) {
    case T.TYPE_UINT8: case T.TYPE_BINARY: arr = new Uint8Array(aligned); break;
    case T.TYPE_INT8: arr = new Int8Array(aligned); break;
    case T.TYPE_INT16: arr = new Int16Array(aligned); break;
    case T.TYPE_UINT16: arr = new Uint16Array(aligned); break;
    case T.TYPE_INT32: arr = new Int32Array(aligned); break;
    case T.TYPE_UINT32: arr = new Uint32Array(aligned); break;
    case T.TYPE_FLOAT32: arr = new Float32Array(aligned); break;
    case T.TYPE_FLOAT64: arr = new Float64Array(aligned); break;
    case T.TYPE_INT64: arr = Array.from(new BigInt64Array(aligned), Number); break;
    case T.TYPE_UINT64: arr = Array.from(new BigUint64Array(aligned), Number); break;
    default:
      throw new NiftiError(file, `unsupported datatype code ${header.datatypeCode}`);
  }
  if (arr.length < n) throw new NiftiError(file, `truncated: ${arr.length} of ${n} voxels present`);
  return arr;
}

/** Reads an intensity image as float32, scl_slope/scl_inter applied (slope 0 means "not set", per the standard). */
export function readImage(file: string): ImageVolume {
  const { header, dims, affine, raw } = decode(file);
  const n = voxelCount(dims);
  const src = typedView(file, header, raw, n);
  const slope = Number.isFinite(header.scl_slope) && header.scl_slope !== 0 ? header.scl_slope : 1;
  const inter = Number.isFinite(header.scl_inter) && header.scl_slope !== 0 ? header.scl_inter : 0;
  const data = new Float32Array(n);
  for (let v = 0; v < n; v++) data[v] = src[v] * slope + inter;
  return { dims, affine, data };
}

/**
 * Reads a label map. Values must be non-negative integers below 65536 (after scaling): anything else is an
 * error naming the offending value, because a silently truncated label corrupts every score computed from it.
 */
export function readLabels(file: string): LabelVolume {
  const { header, dims, affine, raw } = decode(file);
  const n = voxelCount(dims);
  const src = typedView(file, header, raw, n);
  const slope = Number.isFinite(header.scl_slope) && header.scl_slope !== 0 ? header.scl_slope : 1;
  const inter = Number.isFinite(header.scl_inter) && header.scl_slope !== 0 ? header.scl_inter : 0;
  let max = 0;
  const scaled = slope === 1 && inter === 0 ? src : Float64Array.from({ length: n }, (_, v) => src[v] * slope + inter);
  for (let v = 0; v < n; v++) {
    const x = scaled[v];
    if (!(x >= 0) || x !== Math.round(x) || x > 65535) {
      throw new NiftiError(file, `label map holds ${x} at voxel ${v}: labels must be integers 0..65535`);
    }
    if (x > max) max = x;
  }
  // in shared memory: metric worker threads read the label map in place (no copy per case)
  const data = max < 256 ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint16Array(new SharedArrayBuffer(2 * n));
  for (let v = 0; v < n; v++) data[v] = scaled[v];
  return { dims, affine, data };
}

/** The grid of a file without decoding its voxels beyond what decompression needs. */
export function readGrid(file: string): { dims: GridDims; affine: Affine } {
  const { dims, affine } = decode(file);
  return { dims, affine };
}
