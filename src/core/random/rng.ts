/**
 * Seeded, platform-independent randomness for the phantom, the prompts and the bootstrap, in a folder of its own
 * below them all so none of them imports another for it. Everything is 32-bit integer arithmetic
 * (Math.imul, shifts) plus float64 division by 2^32, so the same seed gives the same stream on any machine.
 * No Math.random, and no transcendental functions on the hot path (the gaussian is an Irwin-Hall sum).
 */

/** fmix32 from MurmurHash3: a bijective 32-bit mixer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines a seed with integers and strings into one 32-bit stream seed (order matters). */
export function hashSeed(...parts: Array<number | string>): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (typeof p === 'number') {
      h = fmix32((h ^ (p >>> 0)) + 0x7f4a7c15);
      h = fmix32(h ^ Math.floor(p / 4294967296));
    } else {
      for (let n = 0; n < p.length; n++) h = fmix32(h ^ p.charCodeAt(n));
    }
    h = fmix32(h + 0x632be5ab);
  }
  return h;
}

/** A mulberry32 stream with the helpers the phantom needs (the prompts and the bootstrap use next()). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform in [-a, a). */
  jitter(a: number): number {
    return a * (2 * this.next() - 1);
  }

  /** Approximately standard normal: Irwin-Hall sum of 4 uniforms, rescaled to unit variance (tails cut at 3.46). */
  gauss(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.7320508075688772;
  }
}
