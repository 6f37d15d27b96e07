// Data-side seeded random numbers (valid-split carving, synthetic data). Counter based: output k is a hash
// (murmur3's 32-bit finaliser) of seed-mixed counter k, so streams are reproducible and cheap; not the
// model's training RNG, and not cryptographic.

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class DataRng {
  private counter = 0;
  private readonly key: number;
  private spareNormal: number | null = null;

  /** A generator whose whole stream is determined by `seed` (any integer; non-integers are truncated). */
  constructor(seed: number) {
    this.key = fmix32((Math.trunc(seed) ^ 0x5bd1e995) >>> 0) ^ fmix32(Math.floor(Math.trunc(seed) / 2 ** 32) >>> 0);
  }

  /** Next uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.counter = (this.counter + 1) >>> 0;
    return fmix32((Math.imul(this.counter, 0x9e3779b9) ^ this.key) >>> 0);
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller, the second value cached). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * this.uniform();
    this.spareNormal = r * Math.sin(a);
    return r * Math.cos(a);
  }

  /** Shuffles `a` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [k: number]: any }>(a: T): T {
    for (let k = a.length - 1; k > 0; k--) {
      const j = this.int(k + 1);
      const t = a[k];
      a[k] = a[j];
      a[j] = t;
    }
    return a;
  }
}
