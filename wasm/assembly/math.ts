// Scalar f64 helpers shared by the elementwise kernels. Transcendentals are evaluated in f64 and rounded
// once to f32, so results are (nearly always) the correctly rounded f32 of the exact value.

// erf / erfc from Chebyshev interpolants fitted for this project against a series / continued-fraction
// reference (max error ≈ 1e-13 absolute for erf, 2e-11 relative for erfc):
//   |x| < 1:  erf(x)  = x · Σ A_k T_k(2x² − 1)
//   x ≥ 1:    erfc(x) = exp(−x²) · Σ B_k T_k(s),  s = affine map of t = 1/(1 + x) from [1/11, 1/2] to [−1, 1]
// (erfc(10) < 3e-44, so x ≥ 10 returns 0; erfc in terms of exp(−x²) keeps the tail relatively accurate.)
const ERF_A = memory.data<f64>([
  0.9754769393826541, -0.14226120510371362, 0.01003558218759969, -0.0005768764699766171,
  0.000027419931252103957, -0.0000011043175506597613, 3.848875531620166e-8, -1.1808583222361334e-9,
  3.233407985803183e-11, -7.988276706782926e-13,
]);
const ERFC_B = memory.data<f64>([
  0.23087761335601015, 0.18638786512868652, 0.011065927321571495, -0.0006779308826626338,
  -0.00008165685491367154, 0.000011585559890150976, 3.8392057505262646e-7, -2.30887436518043e-7,
  1.747733730100842e-8, 2.740173358009579e-9, -7.834170420023545e-10, 5.087556868843546e-11,
  1.236904884072132e-11, -3.5851859675473108e-12,
]);
const T0: f64 = 1.0 / 11.0;
const T1: f64 = 0.5;

/** Σ c_k T_k(t) for k < n (Clenshaw). */
function chebyshev(c: usize, n: i32, t: f64): f64 {
  let b1 = 0.0, b2 = 0.0;
  const t2 = t + t;
  for (let k = n - 1; k >= 1; k--) {
    const b = t2 * b1 - b2 + load<f64>(c + (<usize>k << 3));
    b2 = b1; b1 = b;
  }
  return t * b1 - b2 + load<f64>(c);
}

/** erfc(x) for x ≥ 0 (NaN in, NaN out). */
export function erfcPos(x: f64): f64 {
  if (x < 1) return 1 - x * chebyshev(ERF_A, 10, 2 * x * x - 1);
  if (x >= 10) return 0;
  const t = 1 / (1 + x);
  return Math.exp(-x * x) * chebyshev(ERFC_B, 14, (t - T0) * (2 / (T1 - T0)) - 1);
}

export function erf64(x: f64): f64 {
  const a = Math.abs(x);
  if (a < 1) return x * chebyshev(ERF_A, 10, 2 * a * a - 1);
  const r = 1 - erfcPos(a);
  return x < 0 ? -r : r;
}

/** Φ(x) = (1 + erf(x/√2)) / 2, through erfc on the negative side so the left tail keeps its digits. */
export function normalCdf(x: f64): f64 {
  const z = x * Math.SQRT1_2;
  return x >= 0 ? 1 - 0.5 * erfcPos(z) : 0.5 * erfcPos(-z);
}

/** (0 < x) − (x < 0) as torch: sign(±0) = +0, NaN stays NaN. */
// @ts-ignore: decorator
@inline export function sign64(x: f64): f64 {
  return x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : x;
}

/** 1 / (1 + e^−x) without overflow on either side. */
export function sigmoid64(x: f64): f64 {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** JavaScript's ToInt32 (what storing into an Int32Array does): truncate, wrap modulo 2³², NaN/±Inf → 0. */
export function toInt32(x: f64): i32 {
  if (!isFinite(x)) return 0;
  // trunc_sat to i64 then wrap; beyond 2⁶³ reduce exactly with fmod first.
  return <i32><i64>(Math.abs(x) < 9.2e18 ? x : x % 4294967296.0);
}

/**
 * Correctly rounded f32 fma(a, b, c). a·b is exact in f64; the f64 sum is then made round-to-odd
 * (moved one ulp towards the error TwoSum finds, when its last bit is even), so the final rounding to
 * f32 is the single correct one with no double-rounding error.
 */
export function fma32(a: f32, b: f32, c: f32): f32 {
  const p = <f64>a * <f64>b, cc = <f64>c;
  const s = p + cc;
  if (!isFinite(s)) return <f32>s;
  const bv = s - p;
  const err = (p - (s - bv)) + (cc - bv);
  if (err == 0) return <f32>s;
  let bits = reinterpret<i64>(s);
  if ((bits & 1) == 0) bits += (err > 0) == (s > 0) ? 1 : -1;
  return <f32>reinterpret<f64>(bits);
}

/** JavaScript's Math.pow (C pow differs: pow(1, NaN) and pow(±1, ±Inf) are NaN in JS). */
export function powJS(x: f64, y: f64): f64 {
  if (y != y) return NaN;
  if (Math.abs(x) == 1 && Math.abs(y) == Infinity) return NaN;
  return Math.pow(x, y);
}
