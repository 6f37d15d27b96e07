// Elementwise kernels. Cheap ops run as f32x4; exp, sigmoid and silu (and the gradients of exp and silu)
// through the vectorised f32 exp (vmath.ts, ≤ 1 ulp); the other transcendentals through f64 scalars
// (see math.ts).
// Op codes are mirrored by name in backends/wasm/index.ts (UNARY_CODES / BINARY_CODES).
import { erf64, normalCdf, powJS, sigmoid64, sign64, toInt32 } from './math';
import { at, hi64, lo64, pack32 } from './util';
import { TAIL_G, TAIL_X } from './local';
import { exp4, gelu4, geluAndDerivative4, geluGrad4 } from './vmath';

const NEG = 0, EXP = 1, LOG = 2, SQRT = 3, ABS = 4, SIGN = 5, SIGMOID = 6, TANH = 7, RELU = 8, GELU = 9,
  ERF = 10, SILU = 11, SOFTPLUS = 12, SIN = 13, COS = 14, SQUARE = 15, RECIPROCAL = 16;
const ADD = 0, SUB = 1, MUL = 2, DIV = 3, MAX = 4, MIN = 5, POW = 6, EQ = 7, NE = 8, LT = 9, LE = 10,
  GT = 11, GE = 12;

const INV_SQRT_2PI: f64 = 0.3989422804014327;
const TWO_OVER_SQRT_PI: f64 = 1.1283791670955126;
const SOFTPLUS_THRESHOLD: f64 = 20; // torch: softplus(x) = x above it

// ---- unary ----------------------------------------------------------------------------------------

function unary64(op: i32, x: f64): f64 {
  switch (op) {
    case NEG: return -x;
    case EXP: return Math.exp(x);
    case LOG: return Math.log(x);
    case SQRT: return Math.sqrt(x);
    case ABS: return Math.abs(x);
    case SIGN: return sign64(x);
    case SIGMOID: return sigmoid64(x);
    case TANH: return Math.tanh(x);
    case RELU: return max(x, 0);
    case GELU: return x * normalCdf(x);
    case ERF: return erf64(x);
    case SILU: return x * sigmoid64(x);
    case SOFTPLUS: return x > SOFTPLUS_THRESHOLD ? x : Math.log1p(Math.exp(x));
    case SIN: return Math.sin(x);
    case COS: return Math.cos(x);
    case SQUARE: return x * x;
    case RECIPROCAL: return 1 / x;
  }
  return NaN;
}

/** f'(x), as the factor of dy (so that 0·Inf and NaN·0 come out as the reference's f'(x)·dy). */
function derivative64(op: i32, x: f64): f64 {
  switch (op) {
    case NEG: return -1;
    case EXP: return Math.exp(x);
    case LOG: return 1 / x;
    case SQRT: return 0.5 / Math.sqrt(x);
    case ABS: return sign64(x);
    case SIGN: return 0;
    // e/(1+e)² and 4u/(1+u)² stay accurate where σ(1−σ) and 1−tanh² cancel (|x| ≳ 20).
    case SIGMOID: { const e = Math.exp(-Math.abs(x)); return e / ((1 + e) * (1 + e)); }
    case TANH: { const u = Math.exp(-2 * Math.abs(x)); return (4 * u) / ((1 + u) * (1 + u)); }
    case RELU: return x > 0 ? 1 : x != x ? x : 0;
    case GELU: return normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case ERF: return TWO_OVER_SQRT_PI * Math.exp(-x * x);
    case SILU: { const s = sigmoid64(x); return s * (1 + x * (1 - s)); }
    case SOFTPLUS: return x > SOFTPLUS_THRESHOLD ? 1 : sigmoid64(x);
    case SIN: return Math.cos(x);
    case COS: return -Math.sin(x);
    case SQUARE: return 2 * x;
    case RECIPROCAL: return -1 / (x * x);
  }
  return NaN;
}

/**
 * SIMD forms of the ops whose f32 result equals the rounded f64 one (so both paths agree bit for bit);
 * returns how many elements it did, 0 for the other ops.
 */
// @ts-ignore: decorator
@inline function unaryVec(op: i32, x: usize, out: usize, n: i32): i32 {
  let i = 0;
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    let r: v128;
    switch (op) {
      case NEG: r = f32x4.neg(v); break;
      case SQRT: r = f32x4.sqrt(v); break;
      case ABS: r = f32x4.abs(v); break;
      case RELU: r = f32x4.max(v, zero); break;
      case SQUARE: r = f32x4.mul(v, v); break;
      case RECIPROCAL: r = f32x4.div(one, v); break;
      case SIGN: // ±1 where x ≷ 0, +0 for ±0, NaN kept
        r = v128.or(v128.and(one, f32x4.gt(v, zero)), v128.and(f32x4.neg(one), f32x4.lt(v, zero)));
        r = v128.bitselect(v, r, f32x4.ne(v, v));
        break;
      default: return i;
    }
    v128.store(at(out, i), r);
  }
  return i;
}

// The exp-based ops in f32 on four lanes (a few ulp, not the f64 path's rounded-once result). Each op has
// its own loop function: a shared one taking the op as an argument gets merged by Binaryen into a single
// loop that switches per vector.
/** σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) below, e = exp(−|x|): relative accuracy in both tails. */
// @ts-ignore: decorator
@inline function sigmoid4(v: v128): v128 {
  const e = exp4(f32x4.neg(f32x4.abs(v)));
  const d = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  return v128.bitselect(f32x4.mul(e, d), d, f32x4.lt(v, f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline function silu4(v: v128): v128 {
  return f32x4.mul(v, sigmoid4(v));
}

/** silu'(x)·dy = s·(1 + x·(1 − s))·dy, s = σ(x): s = d, 1 − s = e·d for x ≥ 0 (e = exp(−|x|), d = 1/(1+e)), swapped below. */
// @ts-ignore: decorator
@inline function siluGrad4(v: v128, g: v128): v128 {
  const one = f32x4.splat(1);
  const e = exp4(f32x4.neg(f32x4.abs(v)));
  const d = f32x4.div(one, f32x4.add(one, e)), ed = f32x4.mul(e, d);
  const neg = f32x4.lt(v, f32x4.splat(0));
  const s = v128.bitselect(ed, d, neg), oneMinusS = v128.bitselect(d, ed, neg);
  return f32x4.mul(f32x4.mul(s, f32x4.add(one, f32x4.mul(v, oneMinusS))), g);
}


/** Loads the last n − i (< 4) elements of x and dy into the zero-padded TAIL_X / TAIL_G; returns the byte count. */
function loadTail(x: usize, dy: usize, i: i32, n: i32): usize {
  const bytes = <usize>(n - i) << 2;
  v128.store(TAIL_X, f32x4.splat(0));
  v128.store(TAIL_G, f32x4.splat(0));
  memory.copy(TAIL_X, at(x, i), bytes);
  if (dy) memory.copy(TAIL_G, at(dy, i), bytes);
  return bytes;
}

function expRun(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), exp4(v128.load(at(x, i))));
  if (i < n) { const b = loadTail(x, 0, i, n); v128.store(TAIL_X, exp4(v128.load(TAIL_X))); memory.copy(at(out, i), TAIL_X, b); }
}

function sigmoidRun(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), sigmoid4(v128.load(at(x, i))));
  if (i < n) { const b = loadTail(x, 0, i, n); v128.store(TAIL_X, sigmoid4(v128.load(TAIL_X))); memory.copy(at(out, i), TAIL_X, b); }
}

function siluRun(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), silu4(v128.load(at(x, i))));
  if (i < n) { const b = loadTail(x, 0, i, n); v128.store(TAIL_X, silu4(v128.load(TAIL_X))); memory.copy(at(out, i), TAIL_X, b); }
}

function geluRun(x: usize, out: usize, n: i32): void {
  let i = 0;
  // two vectors per iteration: two independent dependency chains (the polynomial and exp chains are long)
  for (; i + 8 <= n; i += 8) {
    const a = gelu4(v128.load(at(x, i))), b = gelu4(v128.load(at(x, i + 4)));
    v128.store(at(out, i), a); v128.store(at(out, i + 4), b);
  }
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), gelu4(v128.load(at(x, i))));
  if (i < n) { const b = loadTail(x, 0, i, n); v128.store(TAIL_X, gelu4(v128.load(TAIL_X))); memory.copy(at(out, i), TAIL_X, b); }
}

/** y = gelu(x) and d = gelu'(x) in one pass (a training forward keeps d for its gradient, dy·d). */
export function geluAndDerivative(x: usize, y: usize, d: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) geluAndDerivative4(v128.load(at(x, i)), at(y, i), at(d, i));
  if (i < n) {
    const b = loadTail(x, 0, i, n);
    geluAndDerivative4(v128.load(TAIL_X), TAIL_X, TAIL_G);
    memory.copy(at(y, i), TAIL_X, b);
    memory.copy(at(d, i), TAIL_G, b);
  }
}

function geluGradRun(x: usize, dy: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = geluGrad4(v128.load(at(x, i)), v128.load(at(dy, i)));
    const b = geluGrad4(v128.load(at(x, i + 4)), v128.load(at(dy, i + 4)));
    v128.store(at(out, i), a); v128.store(at(out, i + 4), b);
  }
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), geluGrad4(v128.load(at(x, i)), v128.load(at(dy, i))));
  if (i < n) {
    const b = loadTail(x, dy, i, n);
    v128.store(TAIL_X, geluGrad4(v128.load(TAIL_X), v128.load(TAIL_G)));
    memory.copy(at(out, i), TAIL_X, b);
  }
}

function expGradRun(x: usize, dy: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), f32x4.mul(exp4(v128.load(at(x, i))), v128.load(at(dy, i))));
  if (i < n) {
    const b = loadTail(x, dy, i, n);
    v128.store(TAIL_X, f32x4.mul(exp4(v128.load(TAIL_X)), v128.load(TAIL_G)));
    memory.copy(at(out, i), TAIL_X, b);
  }
}

function siluGradRun(x: usize, dy: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), siluGrad4(v128.load(at(x, i)), v128.load(at(dy, i))));
  if (i < n) {
    const b = loadTail(x, dy, i, n);
    v128.store(TAIL_X, siluGrad4(v128.load(TAIL_X), v128.load(TAIL_G)));
    memory.copy(at(out, i), TAIL_X, b);
  }
}

export function unary(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  switch (op) {
    case EXP: expRun(x, out, n); return;
    case SIGMOID: sigmoidRun(x, out, n); return;
    case GELU: geluRun(x, out, n); return;
    case SILU: siluRun(x, out, n); return; // constant op per copy: Binaryen folds the inner switch away
    case NEG: i = unaryVec(NEG, x, out, n); break;
    case SQRT: i = unaryVec(SQRT, x, out, n); break;
    case ABS: i = unaryVec(ABS, x, out, n); break;
    case RELU: i = unaryVec(RELU, x, out, n); break;
    case SQUARE: i = unaryVec(SQUARE, x, out, n); break;
    case RECIPROCAL: i = unaryVec(RECIPROCAL, x, out, n); break;
    case SIGN: i = unaryVec(SIGN, x, out, n); break;
  }
  for (; i < n; i++) store<f32>(at(out, i), <f32>unary64(op, load<f32>(at(x, i))));
}

export function unaryGrad(op: i32, x: usize, dy: usize, out: usize, n: i32): void {
  switch (op) {
    // σ' stays on the f64 path: the reference's s·(1 − s) loses relative accuracy for large x (1e-3 at
    // x = 30) and the conformance suite holds the edge values to it per element
    case EXP: expGradRun(x, dy, out, n); return;
    case SILU: siluGradRun(x, dy, out, n); return;
    case GELU: geluGradRun(x, dy, out, n); return;
  }
  let i = 0;
  if (op == SQUARE) { // (2x)·dy in f64 lanes is exact there, so rounding it once gives the scalar path's bits
    const two = f64x2.splat(2);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i)), g = v128.load(at(dy, i));
      v128.store(at(out, i), pack32(f64x2.mul(f64x2.mul(lo64(v), two), lo64(g)), f64x2.mul(f64x2.mul(hi64(v), two), hi64(g))));
    }
  }
  if (op == RELU || op == NEG || op == SIGN) { // f'(x) ∈ {0, ±1, NaN}: the f32 product is exact
    const zero = f32x4.splat(0), one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      const d = op == RELU ? v128.bitselect(v, v128.and(one, f32x4.gt(v, zero)), f32x4.ne(v, v))
        : op == NEG ? f32x4.neg(one) : zero;
      v128.store(at(out, i), f32x4.mul(d, v128.load(at(dy, i))));
    }
  }
  for (; i < n; i++) {
    store<f32>(at(out, i), <f32>(derivative64(op, load<f32>(at(x, i))) * <f64>load<f32>(at(dy, i))));
  }
}

/** y = alpha·x + beta, in f64 like a double-precision reference, rounded once. */
export function affine(x: usize, out: usize, n: i32, alpha: f64, beta: f64): void {
  let i = 0;
  const va = f64x2.splat(alpha), vb = f64x2.splat(beta);
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    v128.store(at(out, i), pack32(f64x2.add(f64x2.mul(lo64(v), va), vb), f64x2.add(f64x2.mul(hi64(v), va), vb)));
  }
  for (; i < n; i++) store<f32>(at(out, i), <f32>(alpha * <f64>load<f32>(at(x, i)) + beta));
}

// ---- binary -----------------------------------------------------------------------------------------

function binary32(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
    case MAX: return max(a, b); // NaN-propagating, -0 < +0: the same as Math.max
    case MIN: return min(a, b);
    case POW: return <f32>powJS(a, b);
    case EQ: return <f32>(a == b);
    case NE: return <f32>(a != b);
    case LT: return <f32>(a < b);
    case LE: return <f32>(a <= b);
    case GT: return <f32>(a > b);
    case GE: return <f32>(a >= b);
  }
  return NaN;
}

/** The op on doubles, as the reference computes it (comparisons give 1 / 0). */
function binary64(op: i32, a: f64, b: f64): f64 {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
    case MAX: return max(a, b);
    case MIN: return min(a, b);
    case POW: return powJS(a, b);
    case EQ: return <f64>(a == b);
    case NE: return <f64>(a != b);
    case LT: return <f64>(a < b);
    case LE: return <f64>(a <= b);
    case GT: return <f64>(a > b);
    case GE: return <f64>(a >= b);
  }
  return NaN;
}

// @ts-ignore: decorator
@inline function binaryVec(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1);
  switch (op) {
    case ADD: return f32x4.add(a, b);
    case SUB: return f32x4.sub(a, b);
    case MUL: return f32x4.mul(a, b);
    case DIV: return f32x4.div(a, b);
    case MAX: return f32x4.max(a, b);
    case MIN: return f32x4.min(a, b);
    case EQ: return v128.and(f32x4.eq(a, b), one);
    case NE: return v128.and(f32x4.ne(a, b), one);
    case LT: return v128.and(f32x4.lt(a, b), one);
    case LE: return v128.and(f32x4.le(a, b), one);
    case GT: return v128.and(f32x4.gt(a, b), one);
    case GE: return v128.and(f32x4.ge(a, b), one);
  }
  return unreachable();
}

/** out[i] = a[i·sa] op b[i·sb] for i < len; SIMD when both operands are contiguous or broadcast. */
// @ts-ignore: decorator
@inline function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, len: i32): void {
  let i = 0;
  if (op != POW) {
    if (sa == 1 && sb == 1) {
      for (; i + 4 <= len; i += 4) v128.store(at(out, i), binaryVec(op, v128.load(at(a, i)), v128.load(at(b, i))));
    } else if (sa == 1 && sb == 0) {
      const vb = v128.load32_splat(b);
      for (; i + 4 <= len; i += 4) v128.store(at(out, i), binaryVec(op, v128.load(at(a, i)), vb));
    } else if (sa == 0 && sb == 1) {
      const va = v128.load32_splat(a);
      for (; i + 4 <= len; i += 4) v128.store(at(out, i), binaryVec(op, va, v128.load(at(b, i))));
    }
  }
  for (; i < len; i++) store<f32>(at(out, i), binary32(op, load<f32>(at(a, i * sa)), load<f32>(at(b, i * sb))));
}

// Multi-index walker shared by the strided kernels. meta holds i32 [shape | stridesA | stridesB | counter]
// (rank entries each); the last dim is the caller's inner loop, `step` advances the outer dims and moves
// the element offsets offA / offB accordingly.
let offA: i32 = 0;
let offB: i32 = 0;

function step(meta: usize, rank: i32): void {
  for (let d = rank - 2; d >= 0; d--) {
    const cp = meta + (<usize>(3 * rank + d) << 2);
    const i = load<i32>(cp) + 1;
    const sa = load<i32>(meta + (<usize>(rank + d) << 2)), sb = load<i32>(meta + (<usize>(2 * rank + d) << 2));
    if (i < load<i32>(meta + (<usize>d << 2))) {
      store<i32>(cp, i); offA += sa; offB += sb;
      return;
    }
    store<i32>(cp, 0); offA -= sa * (i - 1); offB -= sb * (i - 1);
  }
}

/** Number of rows (product of all dims but the last) and resets the walker. */
function startWalk(meta: usize, rank: i32, a0: i32, b0: i32): i32 {
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) {
    rows *= load<i32>(meta + (<usize>d << 2));
    store<i32>(meta + (<usize>(3 * rank + d) << 2), 0);
  }
  offA = a0; offB = b0;
  return rows;
}

// @ts-ignore: decorator
@inline function binaryOp(op: i32, a: usize, b: usize, out: usize, rank: i32, meta: usize): void {
  const rows = startWalk(meta, rank, 0, 0);
  const len = load<i32>(meta + (<usize>(rank - 1) << 2));
  const sa = load<i32>(meta + (<usize>(2 * rank - 1) << 2)), sb = load<i32>(meta + (<usize>(3 * rank - 1) << 2));
  for (let r = 0; r < rows; r++) {
    binaryRow(op, at(a, offA), sa, at(b, offB), sb, at(out, r * len), len);
    step(meta, rank);
  }
}

/** out = a op b over `shape` (rank ≥ 1, in meta with both stride lists); out is contiguous. */
export function binary(op: i32, a: usize, b: usize, out: usize, rank: i32, meta: usize): void {
  switch (op) {
    case ADD: binaryOp(ADD, a, b, out, rank, meta); break;
    case SUB: binaryOp(SUB, a, b, out, rank, meta); break;
    case MUL: binaryOp(MUL, a, b, out, rank, meta); break;
    case DIV: binaryOp(DIV, a, b, out, rank, meta); break;
    case MAX: binaryOp(MAX, a, b, out, rank, meta); break;
    case MIN: binaryOp(MIN, a, b, out, rank, meta); break;
    case POW: binaryOp(POW, a, b, out, rank, meta); break;
    case EQ: binaryOp(EQ, a, b, out, rank, meta); break;
    case NE: binaryOp(NE, a, b, out, rank, meta); break;
    case LT: binaryOp(LT, a, b, out, rank, meta); break;
    case LE: binaryOp(LE, a, b, out, rank, meta); break;
    case GT: binaryOp(GT, a, b, out, rank, meta); break;
    case GE: binaryOp(GE, a, b, out, rank, meta); break;
  }
}

/**
 * The general form for i32 operands: each of a / b is read as i32 or f32, the op runs on doubles and the
 * result is stored as f32 (rounded) or i32 (ToInt32, so i32 division truncates). Scalar, walker-driven.
 */
export function binaryMixed(op: i32, a: usize, aI32: bool, b: usize, bI32: bool, out: usize, outI32: bool,
  rank: i32, meta: usize): void {
  const rows = startWalk(meta, rank, 0, 0);
  const len = load<i32>(meta + (<usize>(rank - 1) << 2));
  const sa = load<i32>(meta + (<usize>(2 * rank - 1) << 2)), sb = load<i32>(meta + (<usize>(3 * rank - 1) << 2));
  for (let r = 0; r < rows; r++) {
    const pa = at(a, offA), pb = at(b, offB), po = at(out, r * len);
    for (let i = 0; i < len; i++) {
      const x = aI32 ? <f64>load<i32>(at(pa, i * sa)) : <f64>load<f32>(at(pa, i * sa));
      const y = bI32 ? <f64>load<i32>(at(pb, i * sb)) : <f64>load<f32>(at(pb, i * sb));
      const v = binary64(op, x, y);
      if (outI32) store<i32>(at(po, i), toInt32(v)); else store<f32>(at(po, i), <f32>v);
    }
    step(meta, rank);
  }
}

// ---- layout (dtype-agnostic 32-bit moves) ---------------------------------------------------------

/** out (contiguous) = x[offset + Σ idx·stride] over the shape in meta (stridesB unused). */
export function strided(x: usize, out: usize, rank: i32, meta: usize, offset: i32): void {
  const rows = startWalk(meta, rank, offset, 0);
  const len = load<i32>(meta + (<usize>(rank - 1) << 2));
  const s = load<i32>(meta + (<usize>(2 * rank - 1) << 2));
  for (let r = 0; r < rows; r++) {
    const src = at(x, offA), dst = at(out, r * len);
    if (s == 1) memory.copy(dst, src, <usize>len << 2);
    else if (s == 0) {
      const v = load<u32>(src), v4 = i32x4.splat(v);
      let i = 0;
      for (; i + 4 <= len; i += 4) v128.store(at(dst, i), v4);
      for (; i < len; i++) store<u32>(at(dst, i), v);
    } else {
      for (let i = 0; i < len; i++) store<u32>(at(dst, i), load<u32>(at(src, i * s)));
    }
    step(meta, rank);
  }
}

/** In place: dst[offset + Σ idx·stride] = src[i], in row-major order (later writes win). */
export function writeStrided(src: usize, dst: usize, rank: i32, meta: usize, offset: i32): void {
  const rows = startWalk(meta, rank, offset, 0);
  const len = load<i32>(meta + (<usize>(rank - 1) << 2));
  const s = load<i32>(meta + (<usize>(2 * rank - 1) << 2));
  for (let r = 0; r < rows; r++) {
    const from = at(src, r * len), to = at(dst, offA);
    if (s == 1) memory.copy(to, from, <usize>len << 2);
    else for (let i = 0; i < len; i++) store<u32>(at(to, i * s), load<u32>(at(from, i)));
    step(meta, rank);
  }
}

/** out[i] = cond[i] != 0 ? a[i] : b[i]; cond is f32 (condF32) or i32, a/b any 32-bit type. */
export function where(cond: usize, condF32: bool, a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  const zero = i32x4.splat(0);
  for (; i + 4 <= n; i += 4) {
    const c = v128.load(at(cond, i));
    const mask = condF32 ? f32x4.ne(c, zero) : i32x4.ne(c, zero);
    v128.store(at(out, i), v128.bitselect(v128.load(at(a, i)), v128.load(at(b, i)), mask));
  }
  for (; i < n; i++) {
    const t = condF32 ? load<f32>(at(cond, i)) != 0 : load<i32>(at(cond, i)) != 0;
    store<u32>(at(out, i), t ? load<u32>(at(a, i)) : load<u32>(at(b, i)));
  }
}

/** bytes zero bytes from p (memory.fill: the host's typed-array fill is slow over a shared memory). */
export function fillZero(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}

/** f32 → i32 as ToInt32 (truncate toward zero, NaN → 0, out of range wraps), or i32 → f32 (nearest). */
export function cast(x: usize, out: usize, n: i32, toI32: bool): void {
  let i = 0;
  const limit = f32x4.splat(2147483648.0);
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    if (!toI32) v128.store(at(out, i), f32x4.convert_i32x4_s(v));
    else if (!v128.any_true(f32x4.ge(f32x4.abs(v), limit))) v128.store(at(out, i), i32x4.trunc_sat_f32x4_s(v));
    else break; // out-of-range lanes: the scalar loop wraps them
  }
  for (; i < n; i++) {
    if (toI32) store<i32>(at(out, i), toInt32(load<f32>(at(x, i))));
    else store<f32>(at(out, i), <f32>load<i32>(at(x, i)));
  }
}
