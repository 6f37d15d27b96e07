/**
 * WGSL building blocks shared by every kernel: the binding header, the parameter block, the flat
 * invocation index, and float32 math written out in full.
 *
 * Why the math is written out: WGSL lets an implementation assume there are no NaNs or infinities and
 * gives builtins like exp, log, sin or division only loose accuracy bounds (several ULP, worse for large
 * arguments), different on every GPU. So special values are detected on the bit pattern, and
 * exp/log/expm1/log1p/sin/cos/erfc use explicit range reduction and polynomials (fdlibm/Cephes style):
 * the same few-ULP results on every device, including lavapipe.
 */

export type Elem = 'f32' | 'u32' | 'i32';

/** A storage binding: name, element type, written or read-only. */
export interface Decl { name: string; type: Elem | 'vec2<u32>' | 'atomic<u32>'; write?: boolean }

export const WG = 256;

/** Header (parameter block, bindings), optional math prelude, then the body. */
export function shader(decls: readonly Decl[], body: string, opts: { math?: boolean } = {}): string {
  const bindings = decls.map((d, i) =>
    `@group(0) @binding(${i + 1}) var<storage, ${d.write ? 'read_write' : 'read'}> ${d.name}: array<${d.type}>;`).join('\n');
  return `${PARAMS}\n${bindings}\n${opts.math ? MATH : BITS}\n${body}`;
}

/** The flat invocation index of a 1-D launch over 2-D workgroup grids (more than 65535 groups). */
export const ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * ${WG}u + li;`;

/** Workgroup counts for `n` invocations of WG threads: [x, y] with x ≤ maxGroups. */
export function groups1d(n: number, maxGroups: number): [number, number] {
  const g = Math.ceil(n / WG);
  if (g <= maxGroups) return [g, 1];
  return [maxGroups, Math.ceil(g / maxGroups)];
}

/** Rows launched one workgroup each, over a 2-D grid: [x, y]. */
export function groupsRows(rows: number, maxGroups: number): [number, number] {
  if (rows <= maxGroups) return [rows, 1];
  return [maxGroups, Math.ceil(rows / maxGroups)];
}

const PARAMS = `
@group(0) @binding(0) var<uniform> P: array<vec4<u32>, 16>;
fn pu(k: u32) -> u32 { return P[k >> 2u][k & 3u]; }
fn pi(k: u32) -> i32 { return bitcast<i32>(pu(k)); }
fn pf(k: u32) -> f32 { return bitcast<f32>(pu(k)); }
/**
 * An optimisation barrier: x, through an XOR with a parameter word that is always zero (words 60–63) but
 * unknown to the compiler. Mesa (lavapipe) rewrites (1 + y) − 1 to y and GPU compilers contract a·b + c
 * into an fma; error-free transformations (TwoSum, Dekker's product) need exactly the rounded operations.
 */
fn kp(x: f32, w: u32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ pu(w)); }`;

// Non-constant sources of NaN and infinity (a constant expression that is NaN or ∞ is a WGSL error).
const BITS = `
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn nan_() -> f32 { return bitcast<f32>(NAN_BITS); }
fn inf_(neg: bool) -> f32 { return bitcast<f32>(INF_BITS | select(0u, 0x80000000u, neg)); }
fn mag_(x: f32) -> u32 { return bitcast<u32>(x) & 0x7fffffffu; }
fn isnan_(x: f32) -> bool { return mag_(x) > 0x7f800000u; }
fn isinf_(x: f32) -> bool { return mag_(x) == 0x7f800000u; }
fn iszero_(x: f32) -> bool { return mag_(x) == 0u; }
fn signbit_(x: f32) -> bool { return (bitcast<u32>(x) >> 31u) == 1u; }
fn neg_(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ 0x80000000u); }
/** NaN-propagating max / min (Math.max, Math.min). */
fn max_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return nan_(); } return select(b, a, a > b || (a == b && !signbit_(a))); }
fn min_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return nan_(); } return select(b, a, a < b || (a == b && signbit_(a))); }
/** IEEE division with explicit zero and infinity cases. */
fn div_(a: f32, b: f32) -> f32 {
  if (isnan_(a) || isnan_(b)) { return nan_(); }
  let neg = signbit_(a) != signbit_(b);
  if (iszero_(b)) { return select(inf_(neg), nan_(), iszero_(a)); }
  if (isinf_(b)) { return select(select(0.0, -0.0, neg), nan_(), isinf_(a)); }
  if (isinf_(a)) { return inf_(neg); }
  return a / b;
}
/** 2^k for -126 ≤ k ≤ 127, built from bits. */
fn pow2_(k: i32) -> f32 { return bitcast<f32>(u32(k + 127) << 23u); }
/** x · 2^k in two exact steps (k in [-252, 254]). */
fn ldexp_(x: f32, k: i32) -> f32 { let h = k / 2; return x * pow2_(h) * pow2_(k - h); }`;

const MATH = `${BITS}
fn exp_(x: f32) -> f32 {
  if (isnan_(x)) { return x; }
  if (x > 88.72284) { return inf_(false); }
  if (x < -103.97208) { return 0.0; }
  let n = round(x * 1.44269504);
  let r = (x - n * 0.693359375) + n * 2.12194440e-4; // Cody–Waite: ln 2 = 0.693359375 − 2.12194440e-4
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.6666667e-1 + r * (4.1666668e-2 + r * (8.3333338e-3
        + r * (1.3888889e-3 + r * 1.9841270e-4))))));
  return ldexp_(p, i32(n));
}
fn expm1_(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (1.6666667e-1 + x * (4.1666668e-2 + x * (8.3333338e-3
         + x * (1.3888889e-3 + x * (1.9841270e-4 + x * (2.4801587e-5 + x * 2.7557319e-6))))))));
  }
  return exp_(x) - 1.0;
}
/** fdlibm logf: x = 2^k (1 + f), log(1 + f) = f − hfsq + s (hfsq + R). */
fn log_(x: f32) -> f32 {
  if (isnan_(x)) { return x; }
  if (iszero_(x)) { return inf_(true); }
  if (x < 0.0) { return nan_(); }
  if (isinf_(x)) { return x; }
  var b = bitcast<u32>(x);
  var k = -127;
  if (b < 0x00800000u) { b = bitcast<u32>(x * 16777216.0); k = k - 24; } // subnormal
  k = k + i32(b >> 23u);
  var m = bitcast<f32>((b & 0x007fffffu) | 0x3f800000u); // [1, 2)
  if (m > 1.41421356) { m = m * 0.5; k = k + 1; }
  let f = m - 1.0;
  let s = f / (2.0 + f);
  let z = s * s;
  let w = z * z;
  let r = z * (0.66666669 + w * (0.28571430 + w * (0.18183573 + w * 0.14798199)))
        + w * (0.40000001 + w * (0.22222199 + w * 0.15313838));
  let hfsq = 0.5 * f * f;
  let dk = f32(k);
  return dk * 0.69313812 - ((hfsq - (s * (hfsq + r) + dk * 9.0580006e-6)) - f);
}
/** log(1 + y) for y ≥ 0 (Goldberg's correction keeps small y exact to a few ULP). */
fn log1p_(y: f32) -> f32 {
  let u = kp(1.0 + y, 63u);
  if (u == 1.0) { return y; }
  if (isinf_(u)) { return u; }
  return log_(u) * (y / (u - 1.0));
}
/** σ'(x) = e^−|x| / (1 + e^−|x|)², without the cancellation of σ(1 − σ) in the tails. */
fn sigmoidGrad_(x: f32) -> f32 {
  let e = exp_(-abs(x));
  return e / ((1.0 + e) * (1.0 + e));
}
/** 1 − tanh²(x) = 4u / (1 + u)², u = e^−2|x|. */
fn tanhGrad_(x: f32) -> f32 {
  let u = exp_(-2.0 * abs(x));
  return 4.0 * u / ((1.0 + u) * (1.0 + u));
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp_(-x)); }
  let e = exp_(x);
  return e / (1.0 + e);
}
fn tanh_(x: f32) -> f32 {
  if (isnan_(x)) { return x; }
  let a = abs(x);
  var t = 1.0;
  if (a < 9.5) { let e = expm1_(2.0 * a); t = e / (e + 2.0); }
  return select(t, -t, signbit_(x));
}
/** Cephes sinf/cosf: octant reduction with π/4 in three parts (accurate for |x| < 8192). */
fn sincos_(x: f32, cosine: bool) -> f32 {
  if (isnan_(x) || isinf_(x)) { return nan_(); }
  var sgn = select(1.0, -1.0, signbit_(x) && !cosine);
  let a = abs(x);
  var j = u32(a * 1.27323954);
  var y = f32(j);
  if ((j & 1u) == 1u) { j = j + 1u; y = y + 1.0; }
  j = j & 7u;
  if (j > 3u) { sgn = -sgn; j = j - 4u; }
  if (cosine && j > 1u) { sgn = -sgn; }
  let z = ((a - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  let zz = z * z;
  let c = 1.0 - 0.5 * zz + zz * zz * ((2.443315711809948e-5 * zz - 1.388731625493765e-3) * zz + 4.166664568298827e-2);
  let s = z + z * zz * ((-1.9515295891e-4 * zz + 8.3321608736e-3) * zz - 1.6666654611e-1);
  let useCos = select(j == 1u || j == 2u, j == 0u || j == 3u, cosine);
  return sgn * select(s, c, useCos);
}
/** erfc(z) for z ≥ 0: Chebyshev fit with fractional error < 1.2e-7 everywhere (Numerical Recipes). */
fn erfcPos_(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp_(-z * z + p);
}
fn erfc_(x: f32) -> f32 {
  if (isnan_(x)) { return x; }
  if (x < 0.0) { return 2.0 - erfcPos_(-x); }
  return erfcPos_(x);
}
fn erf_(x: f32) -> f32 {
  if (isnan_(x)) { return x; }
  let a = abs(x);
  if (a < 0.5) {
    let z = x * x; // Taylor series of erf at 0 (relative accuracy near 0)
    return x * 1.12837917 * (1.0 + z * (-0.33333333 + z * (0.1 + z * (-0.023809524 + z * (0.0046296296
         + z * (-7.5757576e-4 + z * 1.0683761e-4))))));
  }
  let r = 1.0 - erfcPos_(a);
  return select(r, -r, x < 0.0);
}
/** Math.pow: 1 for b = ±0, NaN for a negative base with a non-integral exponent, ±1 ** ±∞ = NaN. */
fn pow_(a: f32, b: f32) -> f32 {
  if (iszero_(b)) { return 1.0; }
  if (isnan_(a) || isnan_(b)) { return nan_(); }
  let m = abs(a);
  if (isinf_(b)) {
    if (m == 1.0) { return nan_(); }
    return select(0.0, inf_(false), (m > 1.0) == (b > 0.0));
  }
  let integral = floor(b) == b;
  if (a < 0.0 && !integral) { return nan_(); }
  let odd = integral && abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
  var r: f32;
  if (iszero_(a)) { r = select(inf_(false), 0.0, b > 0.0); }
  else if (isinf_(a)) { r = select(0.0, inf_(false), b > 0.0); }
  else { r = exp_(b * log_(m)); }
  return select(r, neg_(r), signbit_(a) && odd);
}
/** (s, e) with s + e = a + b exactly (Knuth's TwoSum). */
fn twoSum_(a: f32, b: f32) -> vec2<f32> {
  let s = kp(a + b, 60u);
  let bb = kp(s - a, 61u);
  return vec2<f32>(s, (a - kp(s - bb, 62u)) + (b - bb));
}
/** (p, e) with p + e = a · b exactly (Dekker, Veltkamp splitting by 2^12 + 1). */
fn twoProd_(a: f32, b: f32) -> vec2<f32> {
  let p = kp(a * b, 60u);
  let ta = kp(4097.0 * a, 61u);
  let ah = kp(ta - kp(ta - a, 62u), 63u);
  let al = a - ah;
  let tb = kp(4097.0 * b, 61u);
  let bh = kp(tb - kp(tb - b, 62u), 63u);
  let bl = b - bh;
  return vec2<f32>(p, ((kp(ah * bh, 60u) - p) + kp(ah * bl, 61u) + kp(al * bh, 62u)) + kp(al * bl, 63u));
}
/**
 * Correctly rounded fma(a, b, c) from float32 additions and products (Boldo–Melquiond: the low parts are
 * summed with rounding to odd, then one rounding to nearest). WGSL's fma() may be a plain a·b + c
 * (it is on lavapipe), and torch's Adam, which the contract fixes bit for bit, uses a fused one.
 */
fn fmaRN_(a: f32, b: f32, c: f32) -> f32 {
  let u = twoProd_(a, b);
  let t = twoSum_(c, u.x);
  let l = twoSum_(t.y, u.y);
  var v = bitcast<u32>(l.x);
  if (l.y != 0.0 && (v & 1u) == 0u) { v = select(v - 1u, v + 1u, signbit_(l.x) == signbit_(l.y)); }
  return t.x + bitcast<f32>(v);
}`;
