/**
 * NIfTI-1/2 reading through nifti-reader-js, with the affine chosen as the standard says: sform when
 * sform_code > 0, else qform, else pixdim scaling. (nifti-reader-js itself prefers the qform when its code is
 * higher, which disagrees with nibabel, ITK and NiiVue on files whose two transforms differ.)
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { voxelCount, type Affine, type GridDims } from '../geometry/affine';
import type { ImageVolume, IntensityData, LabelVolume, StoredImageVolume } from '../geometry/volume';
import { gunzipBounded, gunzipBoundedAsync, gunzipHead } from './gunzipBounded';
import { maxVolumeBytes, mib, type ReadLimits } from './limits';

export { DEFAULT_MAX_VOLUME_MB, type ReadLimits } from './limits';

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
  /** The voxel bytes (vox_offset to the end of the data), a view into the file's bytes: not a copy. */
  payload: Uint8Array;
}

/** Bits per voxel of each supported datatype code; the header's bitpix must agree. */
const DATATYPE_BITS: ReadonlyMap<number, [string, number]> = new Map([
  [nifti.NIFTI1.TYPE_BINARY, ['binary (stored as bytes)', 8]], [nifti.NIFTI1.TYPE_UINT8, ['uint8', 8]], [nifti.NIFTI1.TYPE_INT8, ['int8', 8]],
  [nifti.NIFTI1.TYPE_INT16, ['int16', 16]], [nifti.NIFTI1.TYPE_UINT16, ['uint16', 16]], [nifti.NIFTI1.TYPE_INT32, ['int32', 32]],
  [nifti.NIFTI1.TYPE_UINT32, ['uint32', 32]], [nifti.NIFTI1.TYPE_FLOAT32, ['float32', 32]], [nifti.NIFTI1.TYPE_FLOAT64, ['float64', 64]],
  [nifti.NIFTI1.TYPE_INT64, ['int64', 64]], [nifti.NIFTI1.TYPE_UINT64, ['uint64', 64]],
]);

/** Decompressed bytes read for the header: a NIfTI-2 header (540) and its 4 extension bytes. */
const HEAD_BYTES = 544;

interface Layout {
  header: nifti.NIFTI1 | nifti.NIFTI2;
  dims: GridDims;
  bytesPerVoxel: number;
  /** vox_offset + the voxel data: the bytes the file must hold. */
  need: number;
}

/**
 * Everything the header claims that the reader relies on, checked before any of it is used to size a read or an
 * allocation: magic, dimensionality, sizes, datatype and bitpix, vox_offset, and the memory the volume would take.
 */
function parseLayout(file: string, head: ArrayBuffer, limits: ReadLimits | undefined): Layout {
  if (head.byteLength < 348 || !nifti.isNIFTI(head)) {
    throw new NiftiError(file, head.byteLength < 348 ? `too short for a NIfTI header (${head.byteLength} bytes)` : 'not a NIfTI-1 or NIfTI-2 file (bad magic)');
  }
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = nifti.readHeader(head);
  } catch (e) {
    throw new NiftiError(file, `unreadable header (${(e as Error).message}); sizeof_hdr must be 348 (NIfTI-1) or 540 (NIfTI-2)`);
  }
  if (!header) throw new NiftiError(file, 'unreadable header');
  const d = header.dims.map(Number);
  if (!(Number.isInteger(d[0]) && d[0] >= 1 && d[0] <= 7)) throw new NiftiError(file, `invalid dim[0]=${d[0]}: must be 1..7`);
  const dims: GridDims = [d[1] || 1, d[2] || 1, d[0] >= 3 ? d[3] || 1 : 1];
  if (dims.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new NiftiError(file, `invalid dimensions ${d.slice(1, 4).join('x')}: sizes must be positive`);
  for (let n = 4; n <= d[0]; n++) {
    if (d[n] > 1) throw new NiftiError(file, `${d[0]}D image (dim[${n}]=${d[n]}): only 3D volumes are supported`);
  }
  const type = DATATYPE_BITS.get(header.datatypeCode);
  if (!type) throw new NiftiError(file, `unsupported datatype code ${header.datatypeCode} (supported: ${[...DATATYPE_BITS.values()].map((t) => t[0]).join(', ')})`);
  if (header.numBitsPerVoxel !== type[1]) {
    throw new NiftiError(file, `header lies about its voxel size: bitpix ${header.numBitsPerVoxel} but datatype ${type[0]} has ${type[1]} bits`);
  }
  const headerSize = header instanceof nifti.NIFTI2 ? 540 : 348;
  const off = Number(header.vox_offset);
  if (!Number.isSafeInteger(off) || off < headerSize) {
    throw new NiftiError(file, `invalid vox_offset ${off}: must be a whole number of bytes >= ${headerSize} (the header size)`);
  }
  const bytesPerVoxel = type[1] / 8;
  const voxels = voxelCount(dims);
  const inMemory = voxels * Math.max(4, bytesPerVoxel);
  const limit = maxVolumeBytes(limits);
  if (inMemory > limit) {
    throw new NiftiError(file, `volume of ${dims.join('x')} ${type[0]} voxels needs ${mib(inMemory)} in memory, over the limit of ${mib(limit)} (umdLens.limits.maxVolumeMB / --max-volume-mb)`);
  }
  const need = off + voxels * bytesPerVoxel;
  // vox_offset sizes the read too (extensions sit before the data): a huge one must not size a buffer
  if (need > limit + 1048576) {
    throw new NiftiError(file, `vox_offset ${off} puts the data ${mib(off)} into the file, over the volume limit of ${mib(limit)} (umdLens.limits.maxVolumeMB / --max-volume-mb)`);
  }
  return { header, dims, bytesPerVoxel, need };
}

function tooLarge(file: string, size: number, limits: ReadLimits | undefined): NiftiError | undefined {
  // a compressed file larger than the limit cannot inflate to a volume inside it (gzip does not shrink NIfTI data
  // below ~1/1000, but the file itself would already be held in memory)
  if (size <= maxVolumeBytes(limits) + 1048576) return undefined;
  return new NiftiError(file, `file is ${mib(size)}, over the volume limit of ${mib(maxVolumeBytes(limits))} (umdLens.limits.maxVolumeMB / --max-volume-mb)`);
}

function cannotRead(file: string, e: unknown): NiftiError {
  if (e instanceof NiftiError) return e;
  return new NiftiError(file, `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
}

function readInput(file: string, limits: ReadLimits | undefined): Uint8Array {
  try {
    const big = tooLarge(file, fs.statSync(file).size, limits);
    if (big) throw big;
    return fs.readFileSync(file);
  } catch (e) {
    throw cannotRead(file, e);
  }
}

async function readInputAsync(file: string, limits: ReadLimits | undefined): Promise<Uint8Array> {
  try {
    const big = tooLarge(file, (await fs.promises.stat(file)).size, limits);
    if (big) throw big;
    return await fs.promises.readFile(file);
  } catch (e) {
    throw cannotRead(file, e);
  }
}

const isGzip = (input: Uint8Array): boolean => input.length >= 2 && input[0] === 0x1f && input[1] === 0x8b;

function gzipError(file: string, e: unknown): NiftiError {
  if (e instanceof NiftiError) return e;
  return new NiftiError(file, `corrupt or truncated gzip stream (${(e as Error).message})`);
}

/**
 * What is checked once the bytes are in: `length` bytes of the (decompressed) file exist and `head` holds at least
 * its header. Returns the affine.
 */
function checkDecoded(file: string, layout: Layout, head: ArrayBuffer, length: number, compressed: boolean): Affine {
  const { header, dims, bytesPerVoxel, need } = layout;
  const off = Number(header.vox_offset);
  if (off > length) {
    throw new NiftiError(file, `vox_offset ${off} is past the end of the ${compressed ? 'decompressed ' : ''}file (${length} bytes)`);
  }
  if (need > length) {
    throw new NiftiError(file, `truncated: header declares ${need} bytes (vox_offset ${off} + ${dims.join('x')} voxels of ${bytesPerVoxel} bytes), file has ${length}`);
  }
  const affine = chooseAffine(file, header, head);
  if (affine.some((v) => !Number.isFinite(v))) throw new NiftiError(file, 'affine has non-finite entries');
  const det = determinant3(affine);
  if (Math.abs(det) < 1e-9) throw new NiftiError(file, 'singular affine (zero or missing voxel spacing)');
  return affine;
}

/** A plain (uncompressed) file: its bytes are the file. */
function decodePlain(file: string, input: Uint8Array, limits: ReadLimits | undefined): Decoded {
  const bytes = toArrayBuffer(input);
  const layout = parseLayout(file, bytes, limits);
  const affine = checkDecoded(file, layout, bytes, input.length, false);
  const view = new Uint8Array(bytes);
  return { header: layout.header, dims: layout.dims, affine, payload: view.subarray(Number(layout.header.vox_offset), layout.need) };
}

function decode(file: string, limits?: ReadLimits): Decoded {
  const input = readInput(file, limits);
  if (!isGzip(input)) return decodePlain(file, input, limits);
  let layout: Layout | undefined;
  let head: ArrayBuffer | undefined;
  let bytes: Uint8Array;
  try {
    bytes = gunzipBounded(input, HEAD_BYTES, (h) => {
      head = toArrayBuffer(h);
      layout = parseLayout(file, head, limits);
      return layout.need;
    });
  } catch (e) {
    throw gzipError(file, e);
  }
  const affine = checkDecoded(file, layout!, head!, bytes.length, true);
  return { header: layout!.header, dims: layout!.dims, affine, payload: bytes.subarray(Number(layout!.header.vox_offset), layout!.need) };
}

/** What a header says, read without the voxels (readImageHeader). */
export interface ImageHeader {
  dims: GridDims;
  affine: Affine;
  /** Bytes per stored voxel. */
  bytesPerVoxel: number;
  /** Whether readImageStored keeps the stored type (else the image becomes float32: 4 bytes a voxel). */
  keepsStoredType: boolean;
}

/**
 * The header of an image file, read from its first kilobytes only (for a .nii.gz, the start of the stream is
 * inflated and the rest never read): to size the work on it before any voxel is read. The same checks of the
 * header as a full read; what it cannot check yet (a truncated voxel section) is left to the full read.
 */
export function readImageHeader(file: string, limits?: ReadLimits): ImageHeader {
  let start: Uint8Array;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = new Uint8Array(65536);
      start = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw cannotRead(file, e);
  }
  let head: Uint8Array = start;
  if (isGzip(start)) {
    try {
      // a prefix of the stream: Z_SYNC_FLUSH gives what it holds instead of failing on the missing end
      head = zlib.gunzipSync(start, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw gzipError(file, e);
    }
  }
  const bytes = toArrayBuffer(head);
  const layout = parseLayout(file, bytes, limits);
  const affine = chooseAffine(file, layout.header, bytes) as Affine;
  // the messages of a full read's checks (checkDecoded)
  if (affine.some((v) => !Number.isFinite(v))) throw new NiftiError(file, 'affine has non-finite entries');
  if (Math.abs(determinant3(affine)) < 1e-9) throw new NiftiError(file, 'singular affine (zero or missing voxel spacing)');
  return { dims: layout.dims, affine, bytesPerVoxel: layout.bytesPerVoxel, keepsStoredType: keepsStoredType(layout.header) };
}

/** Label maps whose every stored value is a valid label: uint8 (and binary) without scaling. */
function bytesAreLabels(header: nifti.NIFTI1 | nifti.NIFTI2): boolean {
  const T = nifti.NIFTI1;
  const { slope, inter } = scaling(header);
  return (header.datatypeCode === T.TYPE_UINT8 || header.datatypeCode === T.TYPE_BINARY) && slope === 1 && inter === 0;
}

/**
 * decode, off the main thread: the file read and inflated on libuv's thread pool (two reads run in parallel), and
 * a label map that needs no conversion inflated straight into the SharedArrayBuffer it is returned in.
 */
async function decodeLabelsAsync(file: string, input: Uint8Array, limits: ReadLimits | undefined): Promise<Decoded> {
  if (!isGzip(input)) return decodePlain(file, input, limits);
  let layout: Layout | undefined;
  let head: ArrayBuffer | undefined;
  let payload: Uint8Array = new Uint8Array(0);
  let length: number;
  try {
    length = await gunzipBoundedAsync(input, HEAD_BYTES, (h) => {
      head = toArrayBuffer(h);
      layout = parseLayout(file, head, limits);
      const off = Number(layout.header.vox_offset);
      const size = Math.max(0, layout.need - off);
      payload = bytesAreLabels(layout.header) ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size);
      return {
        total: layout.need,
        write: (chunk, at) => {
          const from = Math.max(0, off - at);
          if (from < chunk.length) payload.set(chunk.subarray(from), at + from - off);
        },
      };
    });
  } catch (e) {
    throw gzipError(file, e);
  }
  const affine = checkDecoded(file, layout!, head!, length, true);
  return { header: layout!.header, dims: layout!.dims, affine, payload };
}

function toArrayBuffer(u8: Uint8Array): ArrayBuffer {
  return (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength ? u8.buffer : new Uint8Array(u8).buffer) as ArrayBuffer;
}

function determinant3(a: Affine): number {
  return a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) + a[2] * (a[4] * a[9] - a[5] * a[8]);
}

function chooseAffine(file: string, header: nifti.NIFTI1 | nifti.NIFTI2, bytes: ArrayBuffer): number[] {
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
  if (header.sform_code > 0 || header.qform_code > 0) {
    const p = header.pixDims;
    if (header.sform_code <= 0 && [1, 2, 3].some((a) => !(p[a] > 0))) {
      throw new NiftiError(file, `voxel spacing pixdim[1..3] = ${p.slice(1, 4).join(', ')}: qform spacings must be positive`);
    }
    return flat(header.affine);
  }
  const p = header.pixDims;
  if ([1, 2, 3].some((a) => !(p[a] > 0) || !Number.isFinite(p[a]))) {
    throw new NiftiError(file, `voxel spacing pixdim[1..3] = ${p.slice(1, 4).join(', ')} with no sform or qform: spacings must be positive`);
  }
  return [p[1] || 0, 0, 0, 0, 0, p[2] || 0, 0, 0, 0, 0, p[3] || 1, 0, 0, 0, 0, 1];
}

/** scl_slope and scl_inter as the standard reads them: slope 0 (or not finite) means "not set". */
function scaling(header: nifti.NIFTI1 | nifti.NIFTI2): { slope: number; inter: number } {
  const slope = Number.isFinite(header.scl_slope) && header.scl_slope !== 0 ? header.scl_slope : 1;
  const inter = Number.isFinite(header.scl_inter) && header.scl_slope !== 0 ? header.scl_inter : 0;
  return { slope, inter };
}

/** The voxels as numbers in native order: a view of `payload` where it is aligned and little-endian, else a copy. */
function typedView(file: string, header: nifti.NIFTI1 | nifti.NIFTI2, payload: Uint8Array, n: number): ArrayLike<number> {
  let arr: ArrayLike<number>;
  const T = nifti.NIFTI1;
  const le = header.littleEndian;
  const bytesPer = header.numBitsPerVoxel / 8;
  const len = Math.min(payload.length, n * bytesPer);
  const inPlace = payload.byteOffset % bytesPer === 0 && (le || bytesPer === 1);
  const bytes = inPlace ? payload.subarray(0, len) : payload.slice(0, len);
  if (!le && bytesPer > 1) {
    // big-endian: swap into native (little-endian) order once
    for (let o = 0; o < bytes.length; o += bytesPer) bytes.subarray(o, o + bytesPer).reverse();
  }
  const { buffer, byteOffset } = bytes;
  const count = Math.floor(len / bytesPer);
  switch (header.datatypeCode) {
    case T.TYPE_UINT8: case T.TYPE_BINARY: arr = bytes; break;
    case T.TYPE_INT8: arr = new Int8Array(buffer, byteOffset, count); break;
    case T.TYPE_INT16: arr = new Int16Array(buffer, byteOffset, count); break;
    case T.TYPE_UINT16: arr = new Uint16Array(buffer, byteOffset, count); break;
    case T.TYPE_INT32: arr = new Int32Array(buffer, byteOffset, count); break;
    case T.TYPE_UINT32: arr = new Uint32Array(buffer, byteOffset, count); break;
    case T.TYPE_FLOAT32: arr = new Float32Array(buffer, byteOffset, count); break;
    case T.TYPE_FLOAT64: arr = new Float64Array(buffer, byteOffset, count); break;
    case T.TYPE_INT64: arr = Array.from(new BigInt64Array(buffer, byteOffset, count), Number); break;
    case T.TYPE_UINT64: arr = Array.from(new BigUint64Array(buffer, byteOffset, count), Number); break;
    default:
      throw new NiftiError(file, `unsupported datatype code ${header.datatypeCode}`);
  }
  if (arr.length < n) throw new NiftiError(file, `truncated: ${arr.length} of ${n} voxels present`);
  return arr;
}

/**
 * Reads an intensity image as float32, scl_slope/scl_inter applied (slope 0 means "not set", per the standard).
 * A NaN or infinite voxel (after scaling) is refused, naming how many and the first: a model fed NaN returns
 * NaN logits whose argmax is arbitrary, and a silent replacement would hide a broken export. Volumes larger than
 * `limits.maxVolumeMB` are refused before their voxels are decompressed.
 */
export function readImage(file: string, limits?: ReadLimits): ImageVolume {
  return floatImage(file, decode(file, limits));
}

function floatImage(file: string, { header, dims, affine, payload }: Decoded): ImageVolume {
  const n = voxelCount(dims);
  const src = typedView(file, header, payload, n);
  const { slope, inter } = scaling(header);
  const data = new Float32Array(n);
  let bad = 0;
  let first = -1;
  for (let v = 0; v < n; v++) {
    const x = src[v] * slope + inter;
    data[v] = x;
    if (!Number.isFinite(data[v])) { if (bad++ === 0) first = v; }
  }
  if (bad) throw new NiftiError(file, `image holds ${bad} NaN or infinite voxel(s) (first at voxel ${first}, value ${data[first]}): intensities must be finite`);
  return { dims, affine, data };
}

/**
 * Whether the file's voxels are kept in their stored type by readImageStored: 8- and 16-bit integers without
 * scaling (scl_slope 0 or 1, scl_inter 0), whose every value is exact in float32.
 */
export function keepsStoredType(header: { datatypeCode: number; scl_slope: number; scl_inter: number }): boolean {
  const T = nifti.NIFTI1;
  const { slope, inter } = scaling(header as nifti.NIFTI1);
  return [T.TYPE_INT8, T.TYPE_UINT8, T.TYPE_INT16, T.TYPE_UINT16].includes(header.datatypeCode) && slope === 1 && inter === 0;
}

/**
 * readImage, but an 8- or 16-bit integer image without scaling keeps its stored type (an int16 CT: 2 bytes a voxel
 * instead of 4, a view of the inflated file where it is aligned), for inference, which normalizes each window as it
 * cuts it. Any other image is readImage's float32.
 */
export function readImageStored(file: string, limits?: ReadLimits): StoredImageVolume {
  const decoded = decode(file, limits);
  const { header, dims, affine, payload } = decoded;
  if (!keepsStoredType(header)) return floatImage(file, decoded);
  const data = typedView(file, header, payload, voxelCount(dims)) as IntensityData;
  return { dims, affine, data: data.length === voxelCount(dims) ? data : data.subarray(0, voxelCount(dims)) };
}

/**
 * The label map of decoded voxels, in shared memory: metric worker threads read it in place (no copy per case).
 * Only what the stored type can get wrong is checked: every uint8 value is a label, so those bytes are taken as
 * they are (and kept where they were inflated straight into shared memory); other types are scanned.
 */
function labelsOf(file: string, { header, dims, affine, payload }: Decoded): LabelVolume {
  const n = voxelCount(dims);
  if (bytesAreLabels(header)) {
    // voxels already in shared memory of their own (readLabelsDeferred's `out`, maybe in the metrics' kernel heap)
    if (payload.buffer instanceof SharedArrayBuffer && payload.length === n) return { dims, affine, data: payload };
    const data = new Uint8Array(new SharedArrayBuffer(n));
    data.set(payload.subarray(0, n));
    return { dims, affine, data };
  }
  const src = typedView(file, header, payload, n);
  const { slope, inter } = scaling(header);
  let max = 0;
  const scaled = slope === 1 && inter === 0 ? src : Float64Array.from({ length: n }, (_, v) => src[v] * slope + inter);
  for (let v = 0; v < n; v++) {
    const x = scaled[v];
    if (!(x >= 0) || x !== Math.round(x) || x > 65535) {
      throw new NiftiError(file, `label map holds ${x} at voxel ${v}: labels must be integers 0..65535`);
    }
    if (x > max) max = x;
  }
  const data = max < 256 ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint16Array(new SharedArrayBuffer(2 * n));
  if (scaled.length === n && ArrayBuffer.isView(scaled)) data.set(scaled as Float64Array);
  else for (let v = 0; v < n; v++) data[v] = scaled[v];
  return { dims, affine, data };
}

/**
 * Reads a label map. Values must be non-negative integers below 65536 (after scaling): anything else is an
 * error naming the offending value, because a silently truncated label corrupts every score computed from it.
 */
export function readLabels(file: string, limits?: ReadLimits): LabelVolume {
  return labelsOf(file, decode(file, limits));
}

/**
 * readLabels without holding the main thread: the file is read and inflated on libuv's thread pool, so reads
 * started together (a ground truth and its prediction) run in parallel, and a uint8 map is inflated straight into
 * the shared memory it is returned in. Same checks, same errors, same volume as readLabels.
 */
export async function readLabelsAsync(file: string, limits?: ReadLimits): Promise<LabelVolume> {
  return labelsOf(file, await decodeLabelsAsync(file, await readInputAsync(file, limits), limits));
}

/**
 * A gzipped uint8 label map whose file is read and whose header is checked, with the voxels still to inflate: on
 * another thread (a metrics worker, `inflateIntoSync`), straight into `out`, the shared memory of the volume.
 */
export interface PendingLabels {
  /** The gzip stream: the file's bytes. */
  input: Uint8Array;
  /** Decompressed bytes before the voxels (vox_offset). */
  skip: number;
  /** Where the voxels go. */
  out: Uint8Array;
  /** The grid's voxel dims, from the header. */
  dims: GridDims;
  /** The volume, once the stream has been inflated into `out`; `length` is what the inflate returned (the
   * decompressed length up to the bound). Checks and errors as readLabels's. */
  complete(length: number): LabelVolume;
  /** The error of a failed inflate, as readLabels words it. */
  failed(e: unknown): NiftiError;
}

/**
 * readLabelsAsync, except that a gzipped uint8 map (what label maps are) comes back as PendingLabels for the caller
 * to inflate where it likes; any other file is read as readLabelsAsync reads it. `allocate` gives the voxels' memory
 * (the metrics' kernel heap); by default a SharedArrayBuffer of their own.
 */
export async function readLabelsDeferred(
  file: string, limits?: ReadLimits, allocate: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(new SharedArrayBuffer(bytes)),
): Promise<{ volume: LabelVolume } | { pending: PendingLabels }> {
  const input = await readInputAsync(file, limits);
  if (!isGzip(input)) return { volume: labelsOf(file, decodePlain(file, input, limits)) };
  let head: ArrayBuffer;
  let layout: Layout;
  try {
    head = toArrayBuffer(gunzipHead(input, HEAD_BYTES));
    layout = parseLayout(file, head, limits);
  } catch (e) {
    throw gzipError(file, e);
  }
  if (!bytesAreLabels(layout.header)) return { volume: labelsOf(file, await decodeLabelsAsync(file, input, limits)) };
  const skip = Number(layout.header.vox_offset);
  const out = allocate(Math.max(0, layout.need - skip));
  return {
    pending: {
      input, skip, out, dims: layout.dims,
      complete: (length) => {
        const affine = checkDecoded(file, layout, head, length, true);
        return labelsOf(file, { header: layout.header, dims: layout.dims, affine, payload: out });
      },
      failed: (e) => gzipError(file, e),
    },
  };
}

/** The grid of a file without decoding its voxels beyond what decompression needs. */
export function readGrid(file: string, limits?: ReadLimits): { dims: GridDims; affine: Affine } {
  const { dims, affine } = decode(file, limits);
  return { dims, affine };
}
