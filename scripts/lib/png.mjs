// Re-encodes an 8-bit RGB screenshot as Chromium writes it into a smaller PNG, to keep the docs' screenshots under
// 300 KB: losslessly (per row the filter with the least sum of absolute values, deflate level 9), or, with
// `colours`, as a palette image of at most that many colours (median cut over the image's colours weighted by
// their pixel counts, each pixel mapped to the nearest entry, no dithering: UI text stays crisp).
import fs from 'node:fs';
import zlib from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
};
const paeth = (a, b, c) => {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};
// filter type -> the predictor of byte i from left a, up b, upper-left c
const PREDICT = [() => 0, (a) => a, (a, b) => b, (a, b) => (a + b) >> 1, paeth];

export function recompressPng(file, { colours } = {}) {
  const png = fs.readFileSync(file);
  let ihdr;
  const idat = [];
  for (let o = 8; o < png.length;) {
    const n = png.readUInt32BE(o), type = png.toString('latin1', o + 4, o + 8);
    if (type === 'IHDR') ihdr = png.subarray(o + 8, o + 8 + n);
    if (type === 'IDAT') idat.push(png.subarray(o + 8, o + 8 + n));
    o += 12 + n;
  }
  const width = ihdr.readUInt32BE(0), height = ihdr.readUInt32BE(4), depth = ihdr[8], colour = ihdr[9], interlace = ihdr[12];
  if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace) return png.length; // not what Chromium writes: left as is
  const bpp = colour === 6 ? 4 : 3, stride = width * bpp;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const pixels = Buffer.alloc(height * stride);
  const zero = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = pixels.subarray(y * stride, (y + 1) * stride), up = y ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    for (let i = 0; i < stride; i++) cur[i] = (line[i] + PREDICT[f](i >= bpp ? cur[i - bpp] : 0, up[i], i >= bpp ? up[i - bpp] : 0)) & 255;
  }
  if (colours && colour === 2) return writePalette(file, png, ihdr, pixels, width, height, colours);
  const out = Buffer.alloc(height * (stride + 1));
  const trial = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const cur = pixels.subarray(y * stride, (y + 1) * stride), up = y ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    let best = Infinity;
    for (let f = 0; f < 5; f++) {
      let cost = 0;
      for (let i = 0; i < stride; i++) {
        const v = (cur[i] - PREDICT[f](i >= bpp ? cur[i - bpp] : 0, up[i], i >= bpp ? up[i - bpp] : 0)) & 255;
        trial[i] = v;
        cost += v < 128 ? v : 256 - v;
      }
      if (cost < best) { best = cost; out[y * (stride + 1)] = f; trial.copy(out, y * (stride + 1) + 1); }
    }
  }
  const result = Buffer.concat([png.subarray(0, 8), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(out, { level: 9, memLevel: 9 })), chunk('IEND', Buffer.alloc(0))]);
  if (process.env.PNG_DEBUG) console.log(file, png.length, "->", result.length);
  if (result.length < png.length) fs.writeFileSync(file, result);
  return Math.min(result.length, png.length);
}

function writePalette(file, png, ihdr, pixels, width, height, colours) {
  const counts = new Map();
  for (let i = 0; i < pixels.length; i += 3) {
    const key = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rgb = (k) => [(k >> 16) & 255, (k >> 8) & 255, k & 255];
  // median cut: split the box holding the most pixels times its widest extent, at its weighted median
  let boxes = [[...counts.keys()]];
  const extent = (box) => {
    const lo = [255, 255, 255], hi = [0, 0, 0];
    for (const k of box) rgb(k).forEach((v, c) => { lo[c] = Math.min(lo[c], v); hi[c] = Math.max(hi[c], v); });
    const span = hi.map((h, c) => h - lo[c]);
    const axis = span.indexOf(Math.max(...span));
    return { axis, span: span[axis] };
  };
  const weight = (box) => box.reduce((s, k) => s + counts.get(k), 0);
  while (boxes.length < colours) {
    let pick = -1, score = 0;
    boxes.forEach((b, i) => { const e = extent(b); const sc = e.span * Math.sqrt(weight(b)); if (b.length > 1 && sc > score) { score = sc; pick = i; } });
    if (pick < 0) break;
    const box = boxes[pick], { axis } = extent(box);
    box.sort((a, b) => rgb(a)[axis] - rgb(b)[axis]);
    const half = weight(box) / 2;
    let acc = 0, cut = 1;
    for (; cut < box.length - 1; cut++) { acc += counts.get(box[cut - 1]); if (acc >= half) break; }
    boxes.splice(pick, 1, box.slice(0, cut), box.slice(cut));
  }
  const palette = boxes.map((box) => {
    const w = weight(box), sum = [0, 0, 0];
    for (const k of box) rgb(k).forEach((v, c) => { sum[c] += v * counts.get(k); });
    return sum.map((v) => Math.round(v / w));
  });
  const index = new Map();
  for (const k of counts.keys()) {
    const [r, g, b] = rgb(k);
    let best = 0, bestD = Infinity;
    palette.forEach(([pr, pg, pb], i) => { const d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2; if (d < bestD) { bestD = d; best = i; } });
    index.set(k, best);
  }
  const out = Buffer.alloc(height * (width + 1)); // filter 0 on every row, as libpng advises for palette images
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 3;
    out[y * (width + 1) + 1 + x] = index.get((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  }
  const head = Buffer.from(ihdr);
  head[8] = 8; head[9] = 3;
  const result = Buffer.concat([png.subarray(0, 8), chunk('IHDR', head), chunk('PLTE', Buffer.from(palette.flat())),
    chunk('IDAT', zlib.deflateSync(out, { level: 9, memLevel: 9 })), chunk('IEND', Buffer.alloc(0))]);
  if (process.env.PNG_DEBUG) console.log(file, png.length, '->', result.length, `(${palette.length} colours of ${counts.size})`);
  fs.writeFileSync(file, result);
  return result.length;
}
