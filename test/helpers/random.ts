/**
 * Seeded random numbers for tests, so every run draws the same values. Each generator reproduces, number for
 * number, the inline one a test used before, and tests' fixtures and thresholds were chosen on those sequences:
 * do not switch a test to another variant.
 */

/** mulberry32 in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The glibc-style LCG s = s * 1103515245 + 12345, in [0, 1). The variants differ in arithmetic, so in their
 * sequences: 'imul' is exact 32-bit; 'uint32' and 'mod31' multiply in doubles first (the product passes 2^53 and
 * rounds), then wrap to 32 bits or take it modulo 2^31.
 */
export function lcg(seed: number, variant: 'imul' | 'uint32' | 'mod31'): () => number {
  let s = variant === 'imul' ? seed >>> 0 : seed;
  switch (variant) {
    case 'imul': return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    case 'uint32': return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    case 'mod31': return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  }
}
