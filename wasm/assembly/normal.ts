// Box–Muller normals from Philox uniforms, step for step as engine/random.ts's boxMuller (its own logarithm,
// sine and cosine, float64 operations in the same order), so the bits equal the host's. Two pairs at a time
// in f64x2 lanes, each lane doing exactly the scalar steps; a last odd pair goes through the scalar form.

const TWO_PI: f64 = 2 * Math.PI;

/** ln(x + 2^−24) for a uniform x = k·2^−24 (see engine/random.ts logUniform). */
// @ts-ignore: decorator
@inline function logUniform(x: f32): f64 {
  const m = <f64>x * 16777216.0 + 1;
  let e = 31 - clz<i32>(<i32>m);
  let f = m / <f64>(1 << e);
  if (f > Math.SQRT2) { f /= 2; e++; }
  const s = (f - 1) / (f + 1), z = s * s;
  let p: f64 = 1.0 / 21;
  p = p * z + 1.0 / 19; p = p * z + 1.0 / 17; p = p * z + 1.0 / 15; p = p * z + 1.0 / 13; p = p * z + 1.0 / 11;
  p = p * z + 1.0 / 9; p = p * z + 1.0 / 7; p = p * z + 1.0 / 5; p = p * z + 1.0 / 3; p = p * z + 1;
  return <f64>(e - 24) * Math.LN2 + 2 * s * p;
}

/** sin a for |a| ≤ π/4 (see engine/random.ts sinSmall). */
// @ts-ignore: decorator
@inline function sinSmall(a: f64): f64 {
  const z = a * a;
  let p: f64 = 1.0 / 355687428096000;
  p = p * z - 1.0 / 1307674368000; p = p * z + 1.0 / 6227020800; p = p * z - 1.0 / 39916800; p = p * z + 1.0 / 362880;
  p = p * z - 1.0 / 5040; p = p * z + 1.0 / 120; p = p * z - 1.0 / 6; p = p * z + 1;
  return a * p;
}

/** cos a for |a| ≤ π/4 (see engine/random.ts cosSmall). */
// @ts-ignore: decorator
@inline function cosSmall(a: f64): f64 {
  const z = a * a;
  let p: f64 = -1.0 / 6402373705728000;
  p = p * z + 1.0 / 20922789888000; p = p * z - 1.0 / 87178291200; p = p * z + 1.0 / 479001600; p = p * z - 1.0 / 3628800;
  p = p * z + 1.0 / 40320; p = p * z - 1.0 / 720; p = p * z + 1.0 / 24; p = p * z - 1.0 / 2; p = p * z + 1;
  return p;
}

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
 * out[i] = mean + std·r·cos θ, out[i + 1] = mean + std·r·sin θ (i + 1 < n) for the uniform pairs (u[i], u[i + 1])
 * of even i in [start, end), r = √(−2 ln(u[i] + 2^−24)), θ = 2π·u[i + 1].
 */
export function boxMuller(u: usize, out: usize, start: i32, end: i32, n: i32, mean: f64, std: f64): void {
  let i = start;
  const vm = f64x2.splat(mean), vs = f64x2.splat(std);
  for (; i + 4 <= end && i + 4 <= n; i += 4) {
    const v = v128.load(u + (<usize>i << 2)); // u1, u2 of pair 0, then of pair 1
    const r = f64x2.sqrt(f64x2.mul(f64x2.splat(-2), logUniform2(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 0, 2, 0, 2)))));
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
    v128.store(out + (<usize>i << 2), v128.shuffle<f32>(oc, os, 0, 4, 1, 5));
  }
  for (; i < end; i += 2) {
    const r = Math.sqrt(-2 * logUniform(load<f32>(u + (<usize>i << 2))));
    const j = <i32>(<f64>load<f32>(u + (<usize>(i + 1) << 2)) * 16777216.0);
    const q = (j + (1 << 21)) >> 22;
    const a = <f64>(j - (q << 22)) * 5.9604644775390625e-8 * TWO_PI;
    const sa = sinSmall(a), ca = cosSmall(a);
    const k = q & 3;
    const c = k == 0 ? ca : k == 1 ? -sa : k == 2 ? -ca : sa;
    store<f32>(out + (<usize>i << 2), <f32>(mean + std * r * c));
    if (i + 1 < n) store<f32>(out + (<usize>(i + 1) << 2), <f32>(mean + std * r * (k == 0 ? sa : k == 1 ? ca : k == 2 ? -sa : -ca)));
  }
}
