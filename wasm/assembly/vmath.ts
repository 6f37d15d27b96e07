// Vectorised f32 exp (f32x4), shared by the elementwise, row and fused kernels (all inlined).
//
// exp(x) = 2^k · e^r with k = round(x / ln2) and r = x − k·ln2 in [−ln2/2, ln2/2]:
// - k by the shift trick: t = x·log2(e) + 1.5·2^23 rounds to an integer in f32, whose low mantissa bits
//   are k (no nearest / trunc_sat, which V8 expands into several instructions each);
// - r by a Cody–Waite split of ln2 (LN2_HI has 9 significant bits, so k·LN2_HI and x − k·LN2_HI are exact
//   for |k| ≤ 150);
// - e^r = 1 + r + r²·P(r), P of degree 5 (Cephes expf's minimax coefficients), Horner in f32;
// - 2^k as two exponent-built factors 2^⌊k/2⌋ · 2^(k−⌊k/2⌋), so that k ∈ [−150, 128] (subnormal results
//   and the overflow to +Inf) needs no branch.
// x is clamped to [−104, 89] first (exp(−104) rounds to 0 and exp(89) overflows in f32) with pmin / pmax,
// which keep a NaN operand, so exp(−Inf) = 0, exp(+Inf) = +Inf and exp(NaN) = NaN.
// Max error against the correctly rounded result: 1 ulp on the normal range (tests sweep [−104, 89]).

import { madd } from './util';

const LOG2E: f32 = 1.44269504088896341;
const SHIFT: f32 = 12582912.0; // 1.5·2^23
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
/** Below this exp(x) is subnormal (< 2^−126); expNeg4 flushes those to 0. */
const NORMAL_MIN_X: f32 = -87.33654;

/** e^r for |r| ≤ ln2/2 (a little beyond is fine). */
// @ts-ignore: decorator
@inline function expPoly(r: v128): v128 {
  let p = f32x4.add(f32x4.mul(f32x4.splat(P0), r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  return f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
}

/** exp of four f32 lanes, Math.exp semantics rounded to f32 (≤ 1 ulp; subnormals, ±Inf and NaN exact). */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-104)), f32x4.splat(89));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(SHIFT));
  const kf = f32x4.sub(t, f32x4.splat(SHIFT));
  const k = i32x4.sub(t, i32x4.splat(0x4b400000)); // the integer k (bits of t minus bits of SHIFT)
  let r = f32x4.sub(x, f32x4.mul(kf, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(kf, f32x4.splat(LN2_LO)));
  const p = expPoly(r);
  const k1 = i32x4.shr_s(k, 1);
  const s1 = i32x4.shl(i32x4.add(k1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(k, k1), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

// A cheaper exp for the fused kernels' exp(score − max) and exp(score − lse): degree-5 minimax polynomial
// (coefficients fitted for this project: relative error 1.1e-7 in exact arithmetic, ≤ 3 ulp in f32) and a
// single ln2 constant in the reduction (error ≤ 2^−24·|k|·ln2 ulp-relative, which only grows where the
// result is below e^−20 of the row's largest term). For x ≤ 88 only.
const F1: f32 = 0.4999920129776001;
const F2: f32 = 0.16667106747627258;
const F3: f32 = 0.041894637048244476;
const F4: f32 = 0.008314361795783043;
const LN2: f32 = 0.6931471805599453;

/**
 * exp(x) for x ≤ 88 to ~3e-7 relative; arguments below −87.34 give 2^−126·e^r (≤ 1.2e-38, not 0: the
 * fused kernels only add or scale these against terms ≥ 1). NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function expFast4(x: v128): v128 {
  // multiply-adds: fused in the relaxed build (a third fewer instructions), as before in the plain one
  x = f32x4.pmax(x, f32x4.splat(NORMAL_MIN_X));
  const t = madd(x, f32x4.splat(LOG2E), f32x4.splat(SHIFT));
  const r = madd(f32x4.sub(t, f32x4.splat(SHIFT)), f32x4.splat(-LN2), x);
  let p = madd(f32x4.splat(F4), r, f32x4.splat(F3));
  p = madd(p, r, f32x4.splat(F2));
  p = madd(p, r, f32x4.splat(F1));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), f32x4.splat(1));
  // 2^k: bits(t) − bits(SHIFT) = k, plus the exponent bias
  return f32x4.mul(p, i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23));
}

/**
 * exp(x − m) to about 1 ulp of the exact difference: the rounding error of x − m (TwoSum, exact) is
 * applied as a first-order correction exp(d + δ) ≈ exp(d)·(1 + δ), so large |x − m| does not cost
 * |x − m|·2^−24 of relative accuracy (softmax's small probabilities).
 */
// @ts-ignore: decorator
@inline export function expDiff4(x: v128, m: v128): v128 {
  const d = f32x4.sub(x, m);
  const bv = f32x4.sub(d, x); // TwoSum(x, −m)
  const err = f32x4.sub(f32x4.sub(x, f32x4.sub(d, bv)), f32x4.add(m, bv));
  const y = exp4(d);
  // err is NaN when d is ±Inf or NaN: keep y there
  const fix = f32x4.add(y, f32x4.mul(y, err));
  return v128.bitselect(fix, y, f32x4.eq(err, err));
}

// The normal CDF for GELU: Φ(x) = ½·erfc(|x|/√2) below zero and 1 − that above, with
// erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2), P of degree 9 fitted for this project (max error 5e-8 on
// z ∈ [0, 10.5]; 3e-7 evaluated in f32). exp(−z²) = exp(−x²/2) is taken as exp(−(a−h)(a+h)/2 − h²/2)
// with h = a = |x| cut to 12 significant bits, so h²/2 is exact and expDiff4 keeps the difference's
// rounding error: Φ keeps its relative accuracy far into the left tail.
const G0: f32 = -1.2654529952957352;
const G1: f32 = 0.998726046529577;
const G2: f32 = 0.3859061552946752;
const G3: f32 = 0.03782257014115886;
const G4: f32 = -0.007447859227302567;
const G5: f32 = -0.06510051886662171;
const G6: f32 = -0.7133405122814375;
const G7: f32 = 1.1687689749643202;
const G8: f32 = -0.6856542808654396;
const G9: f32 = 0.1457724676367288;
const HALF_SQRT1_2: f32 = 0.35355339059327373; // 1/(2√2): z/2 = a/(2√2)
const INV_SQRT_2PI: f32 = 0.3989422804014327;

/** exp(−a²/2) for a ≥ 0 (NaN kept), to about 1 ulp. */
// @ts-ignore: decorator
@inline function gauss4(a: v128): v128 {
  a = f32x4.pmin(a, f32x4.splat(20)); // exp(−200) is 0 in f32; also keeps h² finite
  const h = v128.and(a, i32x4.splat(0xfffff000));
  const lo = f32x4.mul(f32x4.mul(f32x4.sub(a, h), f32x4.add(a, h)), f32x4.splat(0.5));
  return expDiff4(f32x4.neg(lo), f32x4.mul(f32x4.mul(h, h), f32x4.splat(0.5)));
}

/** ½·erfc(a/√2) = Φ(−a) for a ≥ 0, given g = exp(−a²/2). */
// @ts-ignore: decorator
@inline function lowerTail4(a: v128, g: v128): v128 {
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.pmin(a, f32x4.splat(20)), f32x4.splat(HALF_SQRT1_2))));
  let p = f32x4.add(f32x4.mul(f32x4.splat(G9), t), f32x4.splat(G8));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(G7));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(G6));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(G5));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(G4));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(G3));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(G2));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(G1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(G0));
  return f32x4.mul(f32x4.mul(f32x4.mul(t, f32x4.splat(0.5)), exp4(p)), g);
}

/** Φ(x) from a = |x| and g = exp(−a²/2). */
// @ts-ignore: decorator
@inline function normalCdf4(x: v128, a: v128, g: v128): v128 {
  const low = lowerTail4(a, g);
  return v128.bitselect(low, f32x4.sub(f32x4.splat(1), low), f32x4.lt(x, f32x4.splat(0)));
}

/** gelu(x) = x·Φ(x) (a few ulp; NaN kept, gelu(−Inf) = NaN as x·Φ(x) in torch). */
// @ts-ignore: decorator
@inline export function gelu4(x: v128): v128 {
  const a = f32x4.abs(x);
  return f32x4.mul(x, normalCdf4(x, a, gauss4(a)));
}

/** gelu'(x) = Φ(x) + x·φ(x) from cdf = Φ(x) and g = exp(−x²/2). */
// @ts-ignore: decorator
@inline function geluDerivative4(x: v128, cdf: v128, g: v128): v128 {
  return f32x4.add(cdf, f32x4.mul(x, f32x4.mul(g, f32x4.splat(INV_SQRT_2PI))));
}

/** gelu(x) to y and gelu'(x) to d: gelu4's value, and geluGrad4's factor of dy (same bits). */
// @ts-ignore: decorator
@inline export function geluAndDerivative4(x: v128, y: usize, d: usize): void {
  const a = f32x4.abs(x), g = gauss4(a), cdf = normalCdf4(x, a, g);
  v128.store(y, f32x4.mul(x, cdf));
  v128.store(d, geluDerivative4(x, cdf, g));
}

/** gelu'(x)·dy. */
// @ts-ignore: decorator
@inline export function geluGrad4(x: v128, dy: v128): v128 {
  const a = f32x4.abs(x), g = gauss4(a);
  return f32x4.mul(geluDerivative4(x, normalCdf4(x, a, g), g), dy);
}
