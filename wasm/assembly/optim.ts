// Optimiser kernels.
import { fma32 } from './math';
import { at, hi64, lo64, pack32 } from './util';

/**
 * Round-to-odd of p + c on two f64 lanes (p a product of two f32, so exact in f64): the sum, moved one ulp
 * towards the error TwoSum finds when its last bit is even; rounding that to f32 is then the correctly
 * rounded fma (math.ts's fma32, lane by lane, without its branches).
 */
// @ts-ignore: decorator
@inline function sumToOdd(p: v128, c: v128): v128 {
  const zero = f64x2.splat(0);
  const s = f64x2.add(p, c);
  const bv = f64x2.sub(s, p);
  const err = f64x2.add(f64x2.sub(p, f64x2.sub(s, bv)), f64x2.sub(c, bv));
  const finite = f64x2.eq(f64x2.sub(s, s), zero);
  const even = i64x2.eq(v128.and(s, i64x2.splat(1)), i64x2.splat(0));
  const adjust = v128.and(v128.and(finite, f64x2.ne(err, zero)), even);
  const towards = v128.bitselect(i64x2.splat(1), i64x2.splat(-1), v128.not(v128.xor(f64x2.gt(err, zero), f64x2.gt(s, zero))));
  return i64x2.add(s, v128.and(towards, adjust));
}

/**
 * fma32 on four lanes: a·b + c rounded once to f32. With `fused` (the relaxed build on a runtime whose
 * relaxed_madd is one fused multiply-add, maddFused) that instruction; else emulated in f64.
 */
// @ts-ignore: decorator
@inline function fma4(a: v128, b: v128, c: v128, fused: bool): v128 {
  if (ASC_FEATURE_RELAXED_SIMD && fused) return f32x4.relaxed_madd(a, b, c);
  return pack32(sumToOdd(f64x2.mul(lo64(a), lo64(b)), lo64(c)), sumToOdd(f64x2.mul(hi64(a), hi64(b)), hi64(c)));
}

/**
 * Whether relaxed_madd(a, b, c) rounds once on this runtime, for a = 1 + 2^−23, b = 1 − 2^−23, c = −1
 * (passed in, so that nothing folds it): fused gives −2^−46, a multiply then an add gives 0. The runtime's
 * choice is fixed per CPU (x64 with FMA3, Arm), the same in every tier and thread. False in the plain build.
 */
export function maddFused(a: f32, b: f32, c: f32): bool {
  if (!ASC_FEATURE_RELAXED_SIMD) return false;
  return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0) != 0;
}

/** Adam's update of elements [0, n − n % 4), four lanes at a time (see adam). */
// @ts-ignore: decorator
@inline function adamLanes(p: usize, g: usize, m: usize, v: usize, n: i32, b1: f32, oneMinusB1: f32, b2: f32,
  oneMinusB2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32, wd: f32, fused: bool): i32 {
  let i = 0;
  const vb1 = f32x4.splat(b1), vomb1 = f32x4.splat(oneMinusB1), vb2 = f32x4.splat(b2), vomb2 = f32x4.splat(oneMinusB2);
  const vstep = f32x4.splat(stepSize), vbc2 = f32x4.splat(bc2Sqrt), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
  for (; i + 4 <= n; i += 4) {
    const pi = v128.load(at(p, i));
    let gi = v128.load(at(g, i));
    if (wd != 0) gi = fma4(vwd, pi, gi, fused);
    const mi = fma4(vomb1, gi, f32x4.mul(vb1, v128.load(at(m, i))), fused);
    const vi = fma4(f32x4.mul(vomb2, gi), gi, f32x4.mul(vb2, v128.load(at(v, i))), fused);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), vbc2), veps);
    v128.store(at(m, i), mi);
    v128.store(at(v, i), vi);
    v128.store(at(p, i), f32x4.add(pi, f32x4.div(f32x4.mul(vstep, mi), denom)));
  }
  return i;
}

/**
 * Adam in place with torch's float32 operation order (see engine/backend.ts); the add-with-alpha and
 * addcmul steps are fused (fma32). The scalars arrive already rounded to f32. Four lanes at a time, the
 * last few one by one: the same bits either way, and with `fused` (maddFused's answer) too.
 */
export function adam(p: usize, g: usize, m: usize, v: usize, n: i32,
  b1: f32, oneMinusB1: f32, b2: f32, oneMinusB2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32, wd: f32, fused: bool): void {
  let i = fused ? adamLanes(p, g, m, v, n, b1, oneMinusB1, b2, oneMinusB2, stepSize, bc2Sqrt, eps, wd, true)
    : adamLanes(p, g, m, v, n, b1, oneMinusB1, b2, oneMinusB2, stepSize, bc2Sqrt, eps, wd, false);
  for (; i < n; i++) {
    const pi = load<f32>(at(p, i));
    let gi = load<f32>(at(g, i));
    if (wd != 0) gi = fma32(wd, pi, gi);
    const mi = fma32(oneMinusB1, gi, b1 * load<f32>(at(m, i)));
    const vi = fma32(oneMinusB2 * gi, gi, b2 * load<f32>(at(v, i)));
    const denom = Mathf.sqrt(vi) / bc2Sqrt + eps;
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    store<f32>(at(p, i), pi + (stepSize * mi) / denom);
  }
}
