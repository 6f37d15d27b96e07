// Addressing and f32 ↔ f64 lane helpers shared by the kernels (all inlined).

/** Address of 32-bit element i of p. */
// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }
/** Address of 64-bit element i of p. */
// @ts-ignore: decorator
@inline export function at64(p: usize, i: i32): usize { return p + (<usize>i << 3); }
/** Lanes 0-1 of an f32x4 as f64x2. */
// @ts-ignore: decorator
@inline export function lo64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
/** Lanes 2-3 of an f32x4 as f64x2. */
// @ts-ignore: decorator
@inline export function hi64(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)); }
/** Four f32 lanes from two f64x2, each rounded once. */
// @ts-ignore: decorator
@inline export function pack32(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
/**
 * c + a·b on four lanes: one fused multiply-add in the relaxed-SIMD build (one rounding), a multiply then
 * an add in the plain build. Every kernel that must agree bit for bit with mmKernel sums through this.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
