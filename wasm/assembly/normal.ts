// Box–Muller normals from Philox uniforms, step for step as engine/random.ts's boxMuller (its own logarithm,
// sine and cosine, float64 operations in the same order), so the bits equal the host's. Two pairs at a time
// in f64x2 lanes, each lane doing exactly the host's scalar steps; a last single pair takes lane 0.

const TWO_PI: f64 = 2 * Math.PI;

/** Horner steps in both lanes: p·z + c. */
// @ts-ignore: decorator
@inline function step(p: v128, z: v128, c: f64): v128 { return f64x2.add(f64x2.mul(p, z), f64x2.splat(c)); }

/** logUniform of two lanes (x as f64): the exponent and mantissa straight from the bits (m / 2^e exactly). */
// @ts-ignore: decorator
@inline function logUniform2(x: v128): v128 {
  const m = f64x2.add(f64x2.mul(x, f64x2.splat(16777216.0)), f64x2.splat(1));
  const bits = v128.or(v128.and(m, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3ff0000000000000));
  let e = f64x2.convert_low_i32x4_s(i32x4.sub(v128.shuffle<i32>(i64x2.shr_u(m, 52), m, 0, 2, 0, 2), i32x4.splat(1023)));
  const big = f64x2.gt(bits, f64x2.splat(Math.SQRT2));
  const f = v128.bitselect(f64x2.div(bits, f64x2.splat(2)), bits, big);
  e = v128.bitselect(f64x2.add(e, f64x2.splat(1)), e, big);
  const s = f64x2.div(f64x2.sub(f, f64x2.splat(1)), f64x2.add(f, f64x2.splat(1))), z = f64x2.mul(s, s);
  let p = f64x2.splat(1.0 / 21);
  p = step(p, z, 1.0 / 19); p = step(p, z, 1.0 / 17); p = step(p, z, 1.0 / 15); p = step(p, z, 1.0 / 13); p = step(p, z, 1.0 / 11);
  p = step(p, z, 1.0 / 9); p = step(p, z, 1.0 / 7); p = step(p, z, 1.0 / 5); p = step(p, z, 1.0 / 3); p = step(p, z, 1);
  return f64x2.add(f64x2.mul(f64x2.sub(e, f64x2.splat(24)), f64x2.splat(Math.LN2)), f64x2.mul(f64x2.mul(f64x2.splat(2), s), p));
}

/**
 * The normals of two uniform pairs v = (u1, u2, u1', u2') as f32 (cos, sin, cos', sin'): mean + std·r·cos θ and
 * mean + std·r·sin θ with r = √(−2 ln(u1 + 2^−24)), θ = 2π·u2.
 */
// @ts-ignore: decorator
@inline function pairs2(v: v128, vm: v128, vs: v128): v128 {
  const r = f64x2.sqrt(f64x2.mul(f64x2.splat(-2), logUniform2(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 0, 2, 0, 2)))));
  // θ = q·π/2 + a, q = round(4·u2), a = 2π·(u2 − q/4): exact, u2 being a multiple of 2^−24
  const j = i32x4.trunc_sat_f32x4_s(f32x4.mul(v128.shuffle<f32>(v, v, 1, 3, 1, 3), f32x4.splat(16777216.0)));
  const q = i32x4.shr_s(i32x4.add(j, i32x4.splat(1 << 21)), 22);
  const w = f64x2.convert_low_i32x4_s(i32x4.sub(j, i32x4.shl(q, 22)));
  const a = f64x2.mul(f64x2.mul(w, f64x2.splat(5.9604644775390625e-8)), f64x2.splat(TWO_PI));
  const z = f64x2.mul(a, a);
  let ps = f64x2.splat(1.0 / 355687428096000);
  ps = step(ps, z, -1.0 / 1307674368000); ps = step(ps, z, 1.0 / 6227020800); ps = step(ps, z, -1.0 / 39916800);
  ps = step(ps, z, 1.0 / 362880); ps = step(ps, z, -1.0 / 5040); ps = step(ps, z, 1.0 / 120); ps = step(ps, z, -1.0 / 6);
  ps = step(ps, z, 1);
  const sa = f64x2.mul(a, ps);
  let ca = f64x2.splat(-1.0 / 6402373705728000);
  ca = step(ca, z, 1.0 / 20922789888000); ca = step(ca, z, -1.0 / 87178291200); ca = step(ca, z, 1.0 / 479001600);
  ca = step(ca, z, -1.0 / 3628800); ca = step(ca, z, 1.0 / 40320); ca = step(ca, z, -1.0 / 720); ca = step(ca, z, 1.0 / 24);
  ca = step(ca, z, -1.0 / 2); ca = step(ca, z, 1);
  // quadrant k = q & 3 per lane (as i64 lane masks): cos θ = ca, −sa, −ca, sa; sin θ = sa, ca, −sa, −ca
  const k = i64x2.extend_low_i32x4_s(v128.and(q, i32x4.splat(3)));
  const odd = i64x2.ne(v128.and(k, i64x2.splat(1)), i64x2.splat(0));
  const cosNeg = v128.or(i64x2.eq(k, i64x2.splat(1)), i64x2.eq(k, i64x2.splat(2)));
  const sinNeg = i64x2.ge_s(k, i64x2.splat(2));
  let c = v128.bitselect(sa, ca, odd), sn = v128.bitselect(ca, sa, odd);
  c = v128.bitselect(f64x2.neg(c), c, cosNeg);
  sn = v128.bitselect(f64x2.neg(sn), sn, sinNeg);
  const sr = f64x2.mul(vs, r);
  const oc = f32x4.demote_f64x2_zero(f64x2.add(vm, f64x2.mul(sr, c)));
  const os = f32x4.demote_f64x2_zero(f64x2.add(vm, f64x2.mul(sr, sn)));
  return v128.shuffle<f32>(oc, os, 0, 4, 1, 5);
}

/**
 * out[i] = mean + std·r·cos θ, out[i + 1] = mean + std·r·sin θ (i + 1 < n) for the uniform pairs (u[i], u[i + 1])
 * of even i in [start, end), r = √(−2 ln(u[i] + 2^−24)), θ = 2π·u[i + 1].
 */
export function boxMuller(u: usize, out: usize, start: i32, end: i32, n: i32, mean: f64, std: f64): void {
  const vm = f64x2.splat(mean), vs = f64x2.splat(std);
  let i = start;
  for (; i + 4 <= end && i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), pairs2(v128.load(u + (<usize>i << 2)), vm, vs));
  for (; i < end; i += 2) { // one pair in lane 0
    const o = pairs2(v128.load64_zero(u + (<usize>i << 2)), vm, vs);
    v128.store32_lane(out + (<usize>i << 2), o, 0);
    if (i + 1 < n) v128.store32_lane(out + (<usize>(i + 1) << 2), o, 1);
  }
}
