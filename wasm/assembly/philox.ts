// Philox4x32-10 uniforms, bit-identical to the host stream of engine/random.ts: word w of the stream is
// word (w mod 4) of the block with counter (⌊w/4⌋ mod 2^32, ⌊w/2^34⌋, 0, 0) under key (k0, k1), and
// element i of the output is (word(position + i) >>> 8)·2^−24.
//
// Whole blocks run eight at a time, one block per lane of two vector sets: the 32×32→64 products come from
// i64x2.extmul_{low,high}_i32x4_u (high halves picked out by a shuffle), the low halves from i32x4.mul.
// A partial first or last block goes through the scalar form (u64 multiplies).
//
// Dropout masks (philoxMask) take 16 bits per value, two values per word: half the Philox work of a
// 24-bit uniform each.
import { PHILOX_BLOCKS8, PHILOX_WORDS as WORDS } from './local';

const M0: u32 = 0xd2511f53;
const M1: u32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;
const INV24: f32 = 5.9604644775390625e-8; // 2^−24

/** The four words of block (c0, c1, 0, 0) under (k0, k1) into WORDS. */
function blockScalar(k0: u32, k1: u32, c0: u32, c1: u32): void {
  let c2: u32 = 0, c3: u32 = 0;
  for (let r = 0; r < 10; r++) {
    const p0 = <u64>c0 * <u64>M0, p1 = <u64>c2 * <u64>M1;
    const n0 = <u32>(p1 >> 32) ^ c1 ^ k0, n2 = <u32>(p0 >> 32) ^ c3 ^ k1;
    c1 = <u32>p1; c3 = <u32>p0; c0 = n0; c2 = n2;
    k0 += W0; k1 += W1;
  }
  store<u32>(WORDS, c0); store<u32>(WORDS, c1, 4); store<u32>(WORDS, c2, 8); store<u32>(WORDS, c3, 12);
}

// @ts-ignore: decorator
@inline function toUniform(w: u32): f32 {
  return <f32>(w >>> 8) * INV24;
}

/** High 32 bits of each lane's u32 product a·m. */
// @ts-ignore: decorator
@inline function mulhi4(a: v128, m: v128): v128 {
  return v128.shuffle<u32>(i64x2.extmul_low_i32x4_u(a, m), i64x2.extmul_high_i32x4_u(a, m), 1, 3, 5, 7);
}

/**
 * Lane j of (a, b, c, d) holds block j's four words: store them block by block (stream order), as 16
 * uniforms, or as the raw words.
 */
// @ts-ignore: decorator
@inline function storeBlocks(a: v128, b: v128, c: v128, d: v128, out: usize, raw: bool): void {
  if (!raw) {
    const s = f32x4.splat(INV24);
    a = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(a, 8)), s);
    b = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(b, 8)), s);
    c = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(c, 8)), s);
    d = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(d, 8)), s);
  }
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(out, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
  v128.store(out, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
  v128.store(out, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
}

/**
 * Blocks b … b+7 (b = bhi·2^32 + blo; the high counter word is carried per lane) → 32 uniforms at out, or
 * with `raw` their 32 words. Two independent sets of four lanes give the out-of-order core two dependency
 * chains per round.
 */
// @ts-ignore: decorator
@inline function blocks8(k0: u32, k1: u32, blo: u32, bhi: u32, out: usize, raw: bool): void {
  const lo = i32x4.splat(blo), hi = i32x4.splat(bhi);
  let a0 = i32x4.add(lo, i32x4(0, 1, 2, 3)), e0 = i32x4.add(lo, i32x4(4, 5, 6, 7));
  let a1 = i32x4.sub(hi, i32x4.lt_u(a0, lo)), e1 = i32x4.sub(hi, i32x4.lt_u(e0, lo)); // +1 where blo + j wrapped
  let a2 = i32x4.splat(0), a3 = a2, e2 = a2, e3 = a2;
  let key0 = i32x4.splat(k0), key1 = i32x4.splat(k1);
  for (let r = 0; r < 10; r++) {
    const m0 = i32x4.splat(M0), m1 = i32x4.splat(M1);
    const ah0 = mulhi4(a0, m0), al0 = i32x4.mul(a0, m0), ah1 = mulhi4(a2, m1), al1 = i32x4.mul(a2, m1);
    const eh0 = mulhi4(e0, m0), el0 = i32x4.mul(e0, m0), eh1 = mulhi4(e2, m1), el1 = i32x4.mul(e2, m1);
    a0 = v128.xor(v128.xor(ah1, a1), key0); a1 = al1; a2 = v128.xor(v128.xor(ah0, a3), key1); a3 = al0;
    e0 = v128.xor(v128.xor(eh1, e1), key0); e1 = el1; e2 = v128.xor(v128.xor(eh0, e3), key1); e3 = el0;
    key0 = i32x4.add(key0, i32x4.splat(W0)); key1 = i32x4.add(key1, i32x4.splat(W1));
  }
  storeBlocks(a0, a1, a2, a3, out, raw);
  storeBlocks(e0, e1, e2, e3, out + 64, raw);
}

/** out[i] = (word(position + i) >>> 8)·2^−24 for i < n; position < 2^53 (an integer-valued f64). */
export function philoxUniform(k0: u32, k1: u32, position: f64, n: i32, out: usize): void {
  let w = <u64>position;
  let i = 0;
  while (i < n) {
    const b = w >> 2, lane = <i32>(w & 3);
    if (lane == 0 && i + 32 <= n) {
      blocks8(k0, k1, <u32>b, <u32>(b >> 32), out + (<usize>i << 2), false);
      i += 32; w += 32;
      continue;
    }
    blockScalar(k0, k1, <u32>b, <u32>(b >> 32));
    for (let j = lane; j < 4 && i < n; j++) {
      store<f32>(out + (<usize>i << 2), toUniform(load<u32>(WORDS + (<usize>j << 2))));
      i++; w++;
    }
  }
}

/** The mask value of 16-bit draw h: scale where h ≥ threshold, else 0. */
// @ts-ignore: decorator
@inline function maskValue(h: u32, threshold: u32, scale: f32): f32 {
  return h >= threshold ? scale : 0;
}

/**
 * A dropout mask: out[i] = scale where h_i ≥ threshold (in [0, 65536]), else 0, for the 16-bit draws
 * h_{2j} = w_j & 0xffff and h_{2j+1} = w_j >>> 16 of the words w_j = word(position + j), j < ⌈n/2⌉.
 */
export function philoxMask(k0: u32, k1: u32, position: f64, n: i32, out: usize, threshold: u32, scale: f32): void {
  if (threshold > 0xffff) { memory.fill(out, 0, <usize>n << 2); return; } // every draw is below it
  let w = <u64>position;
  let i = 0;
  const vt = i16x8.splat(<i16>threshold), vs = f32x4.splat(scale);
  while (i < n) {
    const b = w >> 2, lane = <i32>(w & 3);
    if (lane == 0 && i + 64 <= n) {
      // 32 words in stream order; as i16x8, each vector's lanes are already the values' order
      blocks8(k0, k1, <u32>b, <u32>(b >> 32), PHILOX_BLOCKS8, true);
      for (let k = 0; k < 8; k++) {
        const keep = i16x8.ge_u(v128.load(PHILOX_BLOCKS8 + (<usize>k << 4)), vt);
        const o = out + (<usize>(i + 8 * k) << 2);
        v128.store(o, v128.and(i32x4.extend_low_i16x8_s(keep), vs));
        v128.store(o, v128.and(i32x4.extend_high_i16x8_s(keep), vs), 16);
      }
      i += 64; w += 32;
      continue;
    }
    blockScalar(k0, k1, <u32>b, <u32>(b >> 32));
    for (let j = lane; j < 4 && i < n; j++) {
      const word = load<u32>(WORDS + (<usize>j << 2));
      store<f32>(out + (<usize>i << 2), maskValue(word & 0xffff, threshold, scale));
      if (i + 1 < n) store<f32>(out + (<usize>(i + 1) << 2), maskValue(word >>> 16, threshold, scale));
      i += 2; w++;
    }
  }
}
