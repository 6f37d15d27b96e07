/**
 * Scalar math for the reference backend, all in double precision: erf/erfc (accurate to ~1e-15 so
 * that f64 finite-difference gradient checks can rely on them), every unary op and its derivative,
 * and an exactly rounded float32 fma used to emulate torch's Adam.
 */
import type { BinaryOp, UnaryOp } from '../../engine/backend.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf for 0 ≤ x < 2 from the all-positive series erf(x) = 2/√π·e^{−x²}·Σ (2x²)^n·x / (1·3·…·(2n+1)):
 * no alternating terms, hence no cancellation.
 */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 0; n < 200 && term > 1e-17 * sum; n++) {
    term *= x2 / (2 * n + 3);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
}

/**
 * erfc for x ≥ 2 from the continued fraction erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))),
 * evaluated with the modified Lentz method; relative accuracy ~1e-16 where erf would cancel.
 */
function erfcFraction(x: number): number {
  if (x > 27) return 0; // e^{−x²} underflows
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    d = 1 / (d === 0 ? tiny : d);
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return INV_SQRT_PI * Math.exp(-x * x) / f;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  return x < 2 ? 1 - erfSeries(x) : erfcFraction(x);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  const r = ax < 2 ? erfSeries(ax) : 1 - erfcFraction(ax);
  return x < 0 ? -r : r;
}

/** The standard normal CDF, via erfc so that the lower tail keeps its relative accuracy. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** PyTorch's threshold: above 20 softplus is x (and its derivative 1). */
const SOFTPLUS_THRESHOLD = 20;

export function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case 'neg': return (x) => -x;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sqrt': return Math.sqrt;
    case 'abs': return Math.abs;
    // (0 < x) − (x < 0) as torch: sign(±0) = +0, NaN stays NaN.
    case 'sign': return (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN);
    case 'sigmoid': return sigmoid;
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0);
    case 'gelu': return (x) => 0.5 * x * erfc(-x * Math.SQRT1_2);
    case 'erf': return erf;
    case 'silu': return (x) => x * sigmoid(x);
    case 'softplus': return (x) => (x > SOFTPLUS_THRESHOLD ? x : Math.log1p(Math.exp(x)));
    case 'sin': return Math.sin;
    case 'cos': return Math.cos;
    case 'square': return (x) => x * x;
    case 'reciprocal': return (x) => 1 / x;
  }
  throw new Error(`reference backend: unary: unknown op '${String(op)}'`);
}

/** f'(x) for each op (multiplied by dy by the caller). Kinks take the subgradient 0. */
export function unaryDerivative(op: UnaryOp): (x: number) => number {
  switch (op) {
    case 'neg': return () => -1;
    case 'exp': return Math.exp;
    case 'log': return (x) => 1 / x;
    case 'sqrt': return (x) => 0.5 / Math.sqrt(x);
    case 'abs': return (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN);
    case 'sign': return () => 0;
    // e/(1+e)² and 4u/(1+u)² stay accurate where σ(1−σ) and 1−tanh² cancel (|x| ≳ 20).
    case 'sigmoid': return (x) => { const e = Math.exp(-Math.abs(x)); return e / ((1 + e) * (1 + e)); };
    case 'tanh': return (x) => { const u = Math.exp(-2 * Math.abs(x)); return (4 * u) / ((1 + u) * (1 + u)); };
    case 'relu': return (x) => (x > 0 ? 1 : Number.isNaN(x) ? x : 0);
    case 'gelu': return (x) => normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case 'erf': return (x) => TWO_OVER_SQRT_PI * Math.exp(-x * x);
    case 'silu': return (x) => { const s = sigmoid(x); return s * (1 + x * (1 - s)); };
    case 'softplus': return (x) => (x > SOFTPLUS_THRESHOLD ? 1 : sigmoid(x));
    case 'sin': return Math.cos;
    case 'cos': return (x) => -Math.sin(x);
    case 'square': return (x) => 2 * x;
    case 'reciprocal': return (x) => -1 / (x * x);
  }
  throw new Error(`reference backend: unaryGrad: unknown op '${String(op)}'`);
}

const F64 = new Float64Array(1);
const I64 = new BigInt64Array(F64.buffer);

/**
 * Correctly rounded float32 fma(a, b, c) for float32 inputs. a·b is exact in double; the double sum
 * s = a·b + c is made "round to odd" (nudged one ulp towards the lost error when inexact), after which
 * one rounding to float32 is correct: no double-rounding error, unlike a plain Math.fround(a·b + c).
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  if (!Number.isFinite(s)) return Math.fround(s);
  const bv = s - p;
  const err = (p - (s - bv)) + (c - bv); // TwoSum: s + err = p + c exactly
  if (err === 0) return Math.fround(s);
  F64[0] = s;
  if ((I64[0] & 1n) === 0n) I64[0] += (err > 0) === (s > 0) ? 1n : -1n;
  return Math.fround(F64[0]);
}

export function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'max': return Math.max; // NaN propagates
    case 'min': return Math.min;
    case 'pow': return Math.pow;
    case 'eq': return (a, b) => (a === b ? 1 : 0);
    case 'ne': return (a, b) => (a !== b ? 1 : 0);
    case 'lt': return (a, b) => (a < b ? 1 : 0);
    case 'le': return (a, b) => (a <= b ? 1 : 0);
    case 'gt': return (a, b) => (a > b ? 1 : 0);
    case 'ge': return (a, b) => (a >= b ? 1 : 0);
  }
  throw new Error(`reference backend: binary: unknown op '${String(op)}'`);
}

export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
