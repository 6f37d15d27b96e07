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
