/**
 * Elementwise kernels: unary ops and their derivatives, affine, binary ops over strided (broadcast)
 * operands, where, cast, and the strided copy that layout ops and writeStrided use.
 * Each op is its own pipeline: the op's expression is spliced into a one-line kernel.
 */
import type { BinaryOp, UnaryOp } from '../../../engine/backend.js';
import { ENTRY, shader } from './common.js';

/** f(x) per unary op, in terms of the math prelude. */
export const UNARY_EXPR: Record<UnaryOp, string> = {
  neg: 'neg_(x)',
  exp: 'exp_(x)',
  log: 'log_(x)',
  sqrt: 'select(sqrt(x), select(nan_(), x, iszero_(x) || isnan_(x)), x < 0.0 || iszero_(x) || isnan_(x))',
  abs: 'bitcast<f32>(mag_(x))',
  sign: 'select(select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0), x, isnan_(x))',
  sigmoid: 'sigmoid_(x)',
  tanh: 'tanh_(x)',
  relu: 'select(select(0.0, x, x > 0.0), x, isnan_(x))',
  gelu: '0.5 * x * erfc_(-0.70710678 * x)',
  erf: 'erf_(x)',
  silu: 'x * sigmoid_(x)',
  softplus: 'select(log1p_(exp_(x)), x, x > 20.0)',
  sin: 'sincos_(x, false)',
  cos: 'sincos_(x, true)',
  square: 'x * x',
  reciprocal: 'div_(1.0, x)',
};

/** f'(x) per unary op (multiplied by dy in the kernel); kinks take the subgradient 0. */
export const UNARY_GRAD_EXPR: Record<UnaryOp, string> = {
  neg: '-1.0',
  exp: 'exp_(x)',
  log: 'div_(1.0, x)',
  sqrt: 'div_(0.5, select(sqrt(x), select(nan_(), x, iszero_(x)), x < 0.0 || iszero_(x) || isnan_(x)))',
  abs: 'select(select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0), x, isnan_(x))',
  sign: '0.0',
  sigmoid: 'sigmoidGrad_(x)',
  tanh: 'tanhGrad_(x)',
  relu: 'select(select(0.0, 1.0, x > 0.0), x, isnan_(x))',
  gelu: '0.5 * erfc_(-0.70710678 * x) + x * 0.39894228 * exp_(-0.5 * x * x)',
  erf: '1.12837917 * exp_(-x * x)',
  silu: 'sigmoid_(x) * (1.0 + x * sigmoid_(-x))',
  softplus: 'select(sigmoid_(x), 1.0, x > 20.0)',
  sin: 'sincos_(x, true)',
  cos: '-sincos_(x, false)',
  square: '2.0 * x',
  reciprocal: 'div_(-1.0, x * x)',
};

export const unarySource = (op: UnaryOp) => shader(
  [{ name: 'X', type: 'f32' }, { name: 'Y', type: 'f32', write: true }],
  `fn f(x: f32) -> f32 { return ${UNARY_EXPR[op]}; }
${ENTRY}
  if (i >= pu(0)) { return; }
  Y[i] = f(X[i]);
}`, { math: true });

export const unaryGradSource = (op: UnaryOp) => shader(
  [{ name: 'X', type: 'f32' }, { name: 'DY', type: 'f32' }, { name: 'DX', type: 'f32', write: true }],
  `fn df(x: f32) -> f32 { return ${UNARY_GRAD_EXPR[op]}; }
${ENTRY}
  if (i >= pu(0)) { return; }
  DX[i] = df(X[i]) * DY[i];
}`, { math: true });

/** y = alpha · x + beta (params: n, alpha, beta). */
export const affineSource = () => shader(
  [{ name: 'X', type: 'f32' }, { name: 'Y', type: 'f32', write: true }],
  `${ENTRY}
  if (i >= pu(0)) { return; }
  Y[i] = pf(1) * X[i] + pf(2);
}`);

// ---- strided addressing ---------------------------------------------------------------------------
// Parameter layout of the strided kernels: [n, rank, offA, offB, shape×8, stridesA×8, stridesB×8].
export const MAX_RANK = 8;

/** The addresses of flat index i in operands A and B (offset + Σ idx_k · stride_k). */
const STRIDED = `
fn addr(i: u32) -> vec2<i32> {
  var r = i;
  var a = pi(2);
  var b = pi(3);
  let rank = pu(1);
  for (var k = 0u; k < rank; k++) {
    let d = rank - 1u - k;
    let n = pu(4u + d);
    let idx = i32(r % n);
    r = r / n;
    a += idx * pi(12u + d);
    b += idx * pi(20u + d);
  }
  return vec2<i32>(a, b);
}`;

const BINARY_F32: Record<BinaryOp, string> = {
  add: 'a + b', sub: 'a - b', mul: 'a * b', div: 'div_(a, b)', max: 'max_(a, b)', min: 'min_(a, b)', pow: 'pow_(a, b)',
  eq: 'select(0.0, 1.0, !isnan_(a) && !isnan_(b) && a == b)',
  ne: 'select(1.0, 0.0, !isnan_(a) && !isnan_(b) && a == b)',
  lt: 'select(0.0, 1.0, !isnan_(a) && !isnan_(b) && a < b)',
  le: 'select(0.0, 1.0, !isnan_(a) && !isnan_(b) && a <= b)',
  gt: 'select(0.0, 1.0, !isnan_(a) && !isnan_(b) && a > b)',
  ge: 'select(0.0, 1.0, !isnan_(a) && !isnan_(b) && a >= b)',
};

/** i32 ⊕ i32: arithmetic wraps (ToInt32 of the exact result); division truncates, x / 0 gives 0. */
const BINARY_I32: Record<BinaryOp, string> = {
  add: 'a + b', sub: 'a - b', mul: 'a * b',
  div: 'select(select(a / b, a, b == -1 && a == i32(0x80000000u)), 0, b == 0)',
  max: 'max(a, b)', min: 'min(a, b)', pow: 'toI32_(pow_(f32(a), f32(b)))',
  eq: 'a == b', ne: 'a != b', lt: 'a < b', le: 'a <= b', gt: 'a > b', ge: 'a >= b',
};

const COMPARE = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** Operands and output as raw 32-bit words; `aInt`/`bInt` say which operands hold i32. */
export function binarySource(op: BinaryOp, aInt: boolean, bInt: boolean): string {
  const load = (v: string, int: boolean) => (int ? `toF32_(bitcast<i32>(${v}))` : `bitcast<f32>(${v})`);
  let compute: string;
  if (aInt && bInt) {
    const e = BINARY_I32[op];
    compute = COMPARE.has(op)
      ? `let a = bitcast<i32>(A[p.x]); let b = bitcast<i32>(B[p.y]); Y[i] = bitcast<u32>(select(0.0, 1.0, ${e}));`
      : `let a = bitcast<i32>(A[p.x]); let b = bitcast<i32>(B[p.y]); Y[i] = bitcast<u32>(${e});`;
  } else {
    compute = `let a = ${load('A[p.x]', aInt)}; let b = ${load('B[p.y]', bInt)}; Y[i] = bitcast<u32>(${BINARY_F32[op]});`;
  }
  return shader(
    [{ name: 'A', type: 'u32' }, { name: 'B', type: 'u32' }, { name: 'Y', type: 'u32', write: true }],
    `${CONVERT}
${STRIDED}
${ENTRY}
  if (i >= pu(0)) { return; }
  let p = vec2<u32>(addr(i));
  ${compute}
}`, { math: true });
}

/** Y[offB + Σ idx·strideB] = X[offA + Σ idx·strideA]: strided views, writeStrided, copies. */
export const stridedCopySource = () => shader(
  [{ name: 'X', type: 'u32' }, { name: 'Y', type: 'u32', write: true }],
  `${STRIDED}
${ENTRY}
  if (i >= pu(0)) { return; }
  let p = vec2<u32>(addr(i));
  Y[p.y] = X[p.x];
}`);

/** out = cond != 0 ? a : b; params: n, cond is f32 (1) or i32 (0). −0 counts as zero, NaN as non-zero. */
export const whereSource = () => shader(
  [{ name: 'C', type: 'u32' }, { name: 'A', type: 'u32' }, { name: 'B', type: 'u32' }, { name: 'Y', type: 'u32', write: true }],
  `${ENTRY}
  if (i >= pu(0)) { return; }
  let c = select(C[i], C[i] & 0x7fffffffu, pu(1) == 1u);
  Y[i] = select(B[i], A[i], c != 0u);
}`);

/**
 * Conversions with the reference's semantics, computed on the integer bits so that no GPU rounding mode
 * or clamping leaks in: f32 → i32 is ToInt32 (truncate, NaN/∞ → 0, wrap modulo 2^32); i32 → f32 rounds
 * to nearest even.
 */
const CONVERT = `
fn toI32_(x: f32) -> i32 {
  let b = bitcast<u32>(x);
  let e = i32((b >> 23u) & 0xffu) - 127;
  if (e < 31) { return i32(x); }
  if (e == 128 || e > 54) { return 0; }
  let m = ((b & 0x007fffffu) | 0x00800000u) << u32(e - 23);
  return bitcast<i32>(select(m, 0u - m, (b >> 31u) == 1u));
}
fn toF32_(v: i32) -> f32 {
  let neg = v < 0;
  let u = select(u32(v), 0u - u32(v), neg);
  let lz = countLeadingZeros(u);
  var r: f32;
  if (lz >= 8u) { r = f32(u); } else {
    let sh = 8u - lz;
    var q = u >> sh;
    let rem = u & ((1u << sh) - 1u);
    let half = 1u << (sh - 1u);
    if (rem > half || (rem == half && (q & 1u) == 1u)) { q = q + 1u; }
    r = f32(q) * pow2_(i32(sh));
  }
  return select(r, -r, neg);
}`;

/** params: n, to (0: f32 → i32, 1: i32 → f32). */
export const castSource = () => shader(
  [{ name: 'X', type: 'u32' }, { name: 'Y', type: 'u32', write: true }],
  `${CONVERT}
${ENTRY}
  if (i >= pu(0)) { return; }
  if (pu(1) == 0u) { Y[i] = bitcast<u32>(toI32_(bitcast<f32>(X[i]))); }
  else { Y[i] = bitcast<u32>(toF32_(bitcast<i32>(X[i]))); }
}`);
