/**
 * IEEE 754 binary16 (float16) storage for the float16 blending band (blendBand.ts): Node 20 has neither
 * Float16Array nor Math.f16round, so values are kept as their 16 bits in a Uint16Array. Conversion float32 ->
 * float16 rounds to nearest, ties to even, as IEEE 754 (and numpy's astype(float16)) does: overflow gives +-Inf,
 * values below half the smallest subnormal give +-0, NaN stays NaN. float16 -> float32 is exact (a table).
 */

let table: Float32Array | undefined;

/** The float32 value of every float16 bit pattern, index = the 16 bits. */
export function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    table[h] = exp === 0 ? sign * mant * 2 ** -24 : exp === 31 ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return table;
}

/** The float16 bits nearest (ties to even) to the float32 whose bits are `bits`. */
export function halfBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // a float16 subnormal (or zero): mantissa with its implicit 1, shifted right by 14 - e
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const tie = 1 << (shift - 1);
    if (rest > tie || (rest === tie && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // a carry out of the mantissa increments the exponent (up to Inf): still the nearest
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x rounded to float32, then to float16: its bits. */
export function toHalf(x: number): number {
  f32[0] = x;
  return halfBits(u32[0]);
}
