// Writes a "prediction" derived from a real label volume: organ `organId` shifted by `shift` voxels along i,
// every other label kept. Header and extensions are copied byte for byte; only the voxel data changes.
import fs from 'node:fs';
import zlib from 'node:zlib';

const TYPES = { 2: [1, 'getUint8', 'setUint8'], 4: [2, 'getInt16', 'setInt16'], 512: [2, 'getUint16', 'setUint16'], 8: [4, 'getInt32', 'setInt32'], 16: [4, 'getFloat32', 'setFloat32'] };

export function readNiftiLabels(file) {
  let buf = fs.readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getInt32(0, true) !== 348) throw new Error(`${file}: not a little-endian NIfTI-1 file`);
  const dims = [1, 2, 3].map((i) => dv.getInt16(40 + 2 * i, true));
  const datatype = dv.getInt16(70, true);
  const voxOffset = Math.round(dv.getFloat32(108, true));
  const t = TYPES[datatype];
  if (!t) throw new Error(`${file}: unsupported datatype ${datatype}`);
  return { buf, dv, dims, datatype, voxOffset, bytes: t[0], get: t[1], set: t[2] };
}

export function writeShiftedPrediction(labelsFile, outFile, { organId, shift = 6 }) {
  const n = readNiftiLabels(labelsFile);
  const out = Buffer.from(n.buf);
  const odv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const [nx, ny, nz] = n.dims;
  const at = (i, j, k) => n.voxOffset + ((k * ny + j) * nx + i) * n.bytes;
  let moved = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    if (n.dv[n.get](at(i, j, k), true) === organId) odv[n.set](at(i, j, k), 0, true);
  }
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    if (n.dv[n.get](at(i, j, k), true) !== organId) continue;
    const ii = i + shift;
    if (ii >= 0 && ii < nx) { odv[n.set](at(ii, j, k), organId, true); moved++; }
  }
  fs.writeFileSync(outFile, zlib.gzipSync(out));
  return moved;
}
