/**
 * A seeded counter-based PRNG (Philox4x32-10, Salmon et al. 2011). The stream is a pure function of
 * (seed, counter), generated on the host, so every backend sees the same numbers, and the state is two
 * integers that a checkpoint can store to resume exactly.
 */
import type { Backend, Storage } from './backend.js';
import { tensor } from './ops/create.js';
import type { Shape } from './shape.js';
import { sizeOf } from './shape.js';
import { activeBackend, getBackend, Tensor } from './tensor.js';

const M0 = 0xd2511f53, M1 = 0xcd9e8d57, W0 = 0x9e3779b9, W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32, from 16-bit halves (JS numbers are exact to 2^53). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Writes Philox4x32-10 block (c0..c3) under key (k0, k1) into out[at..at+4), allocating nothing. */
function philoxInto(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number, out: Uint32Array, at: number): void {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(c0, M0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(c2, M1), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}

/** One Philox4x32-10 block: the four uint32 words for counter (c0..c3) under key (k0, k1). */
export function philox(k0: number, k1: number, c0: number, c1: number, c2 = 0, c3 = 0): [number, number, number, number] {
  const out = new Uint32Array(4);
  philoxInto(k0 >>> 0, k1 >>> 0, c0 >>> 0, c1 >>> 0, c2 >>> 0, c3 >>> 0, out, 0);
  return [out[0], out[1], out[2], out[3]];
}

export interface RandomState { seed: number; position: number }

/**
 * Box–Muller for the uniform pairs (u[i], u[i + 1]) of even i in [start, end): out[i] = mean + std·r·cos θ and
 * out[i + 1] = mean + std·r·sin θ (where it exists) with r = √(−2 ln(u[i] + 2^−24)), θ = 2π·u[i + 1], in
 * float64, rounded to float32. The logarithm, sine and cosine are this file's own (below), made only of
 * IEEE-exact float64 steps, so that a kernel doing the same steps (the wasm backend's) gives the same bits.
 */
export function boxMuller(u: Float32Array, out: Float32Array, start: number, end: number, mean: number, std: number): void {
  for (let i = start; i < end; i += 2) {
    const r = Math.sqrt(-2 * logUniform(u[i]));
    const j = u[i + 1] * 2 ** 24;
    // θ = n·π/2 + a with n = round(4·u) and a = 2π·(u − n/4) ∈ [−π/4, π/4]: u is a multiple of 2^−24, so
    // the reduction is exact
    const n = (j + 2 ** 21) >> 22;
    const a = (j - n * 2 ** 22) * 2 ** -24 * TWO_PI;
    const sa = sinSmall(a), ca = cosSmall(a);
    const q = n & 3;
    const c = q === 0 ? ca : q === 1 ? -sa : q === 2 ? -ca : sa;
    out[i] = mean + std * r * c;
    if (i + 1 < out.length) out[i + 1] = mean + std * r * (q === 0 ? sa : q === 1 ? ca : q === 2 ? -sa : -ca);
  }
}

const TWO_PI = 2 * Math.PI;

/**
 * ln(x + 2^−24) for a uniform x = k·2^−24 (k < 2^24): with m = k + 1 = 2^e·f, f ∈ [√½, √2),
 * ln = (e − 24)·ln 2 + 2·atanh(s), s = (f − 1)/(f + 1), the atanh series to s^21 (|s| ≤ 0.172: error < 1e-17).
 */
function logUniform(x: number): number {
  const m = x * 2 ** 24 + 1;
  let e = 31 - Math.clz32(m);
  let f = m / (1 << e);
  if (f > Math.SQRT2) { f /= 2; e++; }
  const s = (f - 1) / (f + 1), z = s * s;
  let p = 1 / 21;
  p = p * z + 1 / 19; p = p * z + 1 / 17; p = p * z + 1 / 15; p = p * z + 1 / 13; p = p * z + 1 / 11;
  p = p * z + 1 / 9; p = p * z + 1 / 7; p = p * z + 1 / 5; p = p * z + 1 / 3; p = p * z + 1;
  return (e - 24) * Math.LN2 + 2 * s * p;
}

/** sin a for |a| ≤ π/4: Taylor to a^17 (error < 1e-19). */
function sinSmall(a: number): number {
  const z = a * a;
  let p = 1 / 355687428096000;
  p = p * z - 1 / 1307674368000; p = p * z + 1 / 6227020800; p = p * z - 1 / 39916800; p = p * z + 1 / 362880;
  p = p * z - 1 / 5040; p = p * z + 1 / 120; p = p * z - 1 / 6; p = p * z + 1;
  return a * p;
}

/** cos a for |a| ≤ π/4: Taylor to a^18 (error < 1e-20). */
function cosSmall(a: number): number {
  const z = a * a;
  let p = -1 / 6402373705728000;
  p = p * z + 1 / 20922789888000; p = p * z - 1 / 87178291200; p = p * z + 1 / 479001600; p = p * z - 1 / 3628800;
  p = p * z + 1 / 40320; p = p * z - 1 / 720; p = p * z + 1 / 24; p = p * z - 1 / 2; p = p * z + 1;
  return p;
}

export class Random {
  private readonly k0: number;
  private readonly k1: number;
  private readonly block = new Uint32Array(4);
  private blockIndex = -1;

  /** `seed`: any integer in [0, 2^53); `position`: words already drawn (from `state()`). */
  constructor(readonly seed: number, private position = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`Random: seed must be a non-negative safe integer, got ${seed}`);
    if (!Number.isSafeInteger(position) || position < 0) throw new Error(`Random: position must be a non-negative safe integer, got ${position}`);
    this.k0 = seed >>> 0;
    this.k1 = Math.floor(seed / 2 ** 32) >>> 0;
  }

  /** Where the stream stands; `new Random(s.seed, s.position)` continues exactly from here. */
  state(): RandomState {
    return { seed: this.seed, position: this.position };
  }

  /** The next uniform uint32: word (position mod 4) of Philox block ⌊position / 4⌋. */
  nextU32(): number {
    const b = Math.floor(this.position / 4);
    if (b !== this.blockIndex) {
      philoxInto(this.k0, this.k1, b >>> 0, Math.floor(b / 2 ** 32) >>> 0, 0, 0, this.block, 0);
      this.blockIndex = b;
    }
    return this.block[this.position++ % 4];
  }

  /** The next n words of the stream (whole blocks are generated straight into the result). */
  words(n: number): Uint32Array {
    const out = new Uint32Array(n);
    let i = 0;
    while (i < n && this.position % 4 !== 0) out[i++] = this.nextU32();
    for (; i + 4 <= n; i += 4) {
      const b = this.position / 4;
      philoxInto(this.k0, this.k1, b >>> 0, Math.floor(b / 2 ** 32) >>> 0, 0, 0, out, i);
      this.position += 4;
    }
    while (i < n) out[i++] = this.nextU32();
    return out;
  }

  /** n floats uniform in [0, 1), 24-bit resolution (exact in float32). */
  uniform(n: number): Float32Array {
    const w = this.words(n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (w[i] >>> 8) * 2 ** -24;
    return out;
  }

  /**
   * The next n words' top 24 bits as [0, 1) floats, (w >>> 8)·2^−24: from the backend's Philox kernel where
   * it has one and reads back synchronously (the same bits, many times faster than host Philox), else here.
   */
  private uniform24(n: number): Float32Array {
    const b = activeBackend();
    if (!b?.philoxUniform || !b.readSync || n < 4096) return this.uniform(n);
    return this.readBack(b, n, b.philoxUniform(this.k0, this.k1, this.position, n));
  }

  /** The backend result `s` of the next `words` words, read back and freed; the stream moves past them. */
  private readBack(b: Backend, words: number, s: Storage): Float32Array {
    try {
      this.position += words;
      return b.readSync!(s) as Float32Array;
    } finally {
      b.free(s);
    }
  }

  /**
   * n normal floats (Box–Muller over the next 2⌈n/2⌉ uniforms, in float64 then rounded): on the backend's
   * threads where it has philoxNormal and reads back synchronously (the same bits), else here.
   */
  normal(n: number, mean = 0, std = 1): Float32Array {
    const b = activeBackend();
    const words = 2 * Math.ceil(n / 2);
    if (b?.philoxNormal && b.readSync && n >= 4096) {
      return this.readBack(b, words, b.philoxNormal(this.k0, this.k1, this.position, n, mean, std));
    }
    const out = new Float32Array(n);
    boxMuller(this.uniform24(words), out, 0, words, mean, std);
    return out;
  }

  /** n integers uniform in [lo, hi) (Lemire's multiply-shift; bias < range / 2^32). */
  int(n: number, lo: number, hi: number): Int32Array {
    const range = hi - lo;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || range <= 0 || range > 2 ** 31) {
      throw new Error(`Random.int: need integers lo < hi with hi − lo ≤ 2^31, got [${lo}, ${hi})`);
    }
    const w = this.words(n);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + Math.min(range - 1, Math.floor((w[i] / 2 ** 32) * range));
    return out;
  }

  /** One integer in [0, hi): the value int(1, 0, hi) would give, without the array. */
  below(hi: number): number {
    if (!Number.isInteger(hi) || hi <= 0 || hi > 2 ** 31) throw new Error(`Random.below: need an integer in [1, 2^31], got ${hi}`);
    return Math.min(hi - 1, Math.floor((this.nextU32() / 2 ** 32) * hi));
  }

  /** A Fisher–Yates permutation of 0..n−1. */
  permutation(n: number): Int32Array {
    const p = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** normal(n, 0, std) as a tensor: drawn on the backend where it has philoxNormal (same bits, no copy), else here. */
  randn(shape: Shape, std = 1): Tensor {
    const n = sizeOf(shape), b = getBackend();
    if (!b.philoxNormal) return tensor(this.normal(n, 0, std), shape);
    const t = new Tensor(b.philoxNormal(this.k0, this.k1, this.position, n, 0, std), shape, 'f32', b);
    this.position += 2 * Math.ceil(n / 2);
    return t;
  }

  /**
   * A dropout mask of `shape`: `value` (rounded to float32) where a 16-bit draw is ≥ ⌈p·2^16⌉, else 0, so
   * that P(value) = 1 − ⌈p·2^16⌉/2^16, within 2^−16 of 1 − p. Element 2j takes the low half of the stream's
   * next word j, element 2j + 1 its high half (⌈n/2⌉ words: half the Philox work of a uniform per element).
   * Made on the backend where it has philoxMask, else here: the same bits.
   */
  maskAtLeast(shape: Shape, p: number, value: number): Tensor {
    if (!(p >= 0 && p <= 1)) throw new Error(`Random.maskAtLeast: p must be in [0, 1], got ${p}`);
    const n = sizeOf(shape), words = Math.ceil(n / 2), threshold = Math.ceil(p * 65536), b = getBackend();
    if (!b.philoxMask) {
      const w = this.words(words), v = Math.fround(value), out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = ((i & 1 ? w[i >> 1] >>> 16 : w[i >> 1] & 0xffff) >= threshold ? v : 0);
      return tensor(out, shape);
    }
    const t = new Tensor(b.philoxMask(this.k0, this.k1, this.position, n, threshold, value), shape, 'f32', b);
    this.position += words;
    return t;
  }

  /** Uniform [0, 1) values as a tensor: generated on the backend where it has a Philox kernel, else here (same bits). */
  rand(shape: Shape): Tensor {
    const n = sizeOf(shape);
    const b = getBackend();
    if (!b.philoxUniform) return tensor(this.uniform(n), shape);
    const t = new Tensor(b.philoxUniform(this.k0, this.k1, this.position, n), shape, 'f32', b);
    this.position += n;
    return t;
  }
}
