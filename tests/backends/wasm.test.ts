// The wasm backend's kernels against straightforward double-precision JS, on shapes that cross the
// SIMD and tiling edges. Build the module first: npm run build:wasm.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createWasmBackend } from '../../backends/wasm/index.js';
import { UNARY_OPS, BINARY_OPS } from '../../engine/backend.js';
import type { Backend, Storage, UnaryOp, BinaryOp } from '../../engine/backend.js';
import { assertSameBits } from '../helpers.js';

const be: Backend = await createWasmBackend();
const SIZES = [1, 3, 4, 5, 63, 64, 65, 257];

let seed = 12345;
function rand(): number { // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randn = (n: number, lo = -2, hi = 2) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
const randi = (n: number, hi: number) => Int32Array.from({ length: n }, () => Math.floor(rand() * hi));
const read = (s: Storage) => be.readSync!(s);

/** |actual − expected| ≤ tol·(scale + |expected|) elementwise; scale defaults to max |expected|. */
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-6, scale?: number[]): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let top = 0;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) top = Math.max(top, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) assert.unreachable(`${what}[${i}]: ${a} vs ${e}`);
      continue;
    }
    const s = scale ? scale[i] : top;
    if (!(Math.abs(a - e) <= tol * (s + Math.abs(e)) + 1e-30)) assert.unreachable(`${what}[${i}]: ${a} vs ${e}`);
  }
}

function throwsWith(fn: () => unknown, pattern: RegExp, what: string): void {
  try { fn(); } catch (e) { assert.match((e as Error).message, pattern, what); return; }
  assert.unreachable(`${what}: did not throw`);
}

// An erf reference independent of the kernel's: Taylor series below 3, continued fraction above.
function erfRef(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let s = 0, t = a;
    for (let n = 0; n < 200; n++) { const term = t / (2 * n + 1); s += term; if (Math.abs(term) < 1e-17 * s) break; t *= -a * a / (n + 1); }
    r = 2 / Math.sqrt(Math.PI) * s;
  } else {
    let f = a;
    for (let i = 60; i >= 1; i--) f = a + (i / 2) / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}
const cdf = (x: number) => 0.5 * (1 + erfRef(x / Math.SQRT2));
const sig = (x: number) => 1 / (1 + Math.exp(-x));

const UNARY: Record<UnaryOp, [(x: number) => number, (x: number) => number, number, number]> = {
  // f, f', and the sampling range
  neg: [(x) => -x, () => -1, -3, 3],
  exp: [Math.exp, Math.exp, -5, 5],
  log: [Math.log, (x) => 1 / x, 0.01, 10],
  sqrt: [Math.sqrt, (x) => 0.5 / Math.sqrt(x), 0, 10],
  abs: [Math.abs, Math.sign, -3, 3],
  sign: [Math.sign, () => 0, -3, 3],
  sigmoid: [sig, (x) => sig(x) * (1 - sig(x)), -8, 8],
  tanh: [Math.tanh, (x) => 1 - Math.tanh(x) ** 2, -4, 4],
  relu: [(x) => Math.max(x, 0), (x) => (x > 0 ? 1 : 0), -3, 3],
  gelu: [(x) => x * cdf(x), (x) => cdf(x) + x * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI), -6, 6],
  erf: [erfRef, (x) => 2 / Math.sqrt(Math.PI) * Math.exp(-x * x), -4, 4],
  silu: [(x) => x * sig(x), (x) => sig(x) * (1 + x * (1 - sig(x))), -8, 8],
  softplus: [(x) => Math.log1p(Math.exp(x)), sig, -10, 10],
  sin: [Math.sin, Math.cos, -10, 10],
  cos: [Math.cos, (x) => -Math.sin(x), -10, 10],
  square: [(x) => x * x, (x) => 2 * x, -3, 3],
  reciprocal: [(x) => 1 / x, (x) => -1 / (x * x), 0.1, 4],
};

test('upload / read / zeros / free / liveBuffers / double free', () => {
  const base = be.liveBuffers();
  const f = be.upload(new Float32Array([1.5, -2, 3]));
  const i = be.upload(new Int32Array([7, -8]));
  const z = be.zeros(5, 'i32');
  assert.is(f.dtype, 'f32'); assert.is(i.dtype, 'i32'); assert.is(z.size, 5);
  assert.equal(Array.from(read(f)), [1.5, -2, 3]);
  assert.ok(read(i) instanceof Int32Array);
  assert.equal(Array.from(read(i)), [7, -8]);
  assert.equal(Array.from(read(z)), [0, 0, 0, 0, 0]);
  assert.is(be.liveBuffers(), base + 3);
  be.free(f); be.free(i);
  assert.is(be.liveBuffers(), base + 1);
  throwsWith(() => be.free(f), /double free/, 'double free');
  throwsWith(() => be.unary('neg', f), /after free/, 'use after free');
  // A recycled block must come back zeroed from zeros().
  const big = be.upload(randn(1000)); be.free(big);
  const z2 = be.zeros(1000, 'f32');
  assert.ok(read(z2).every((v) => v === 0));
  be.free(z); be.free(z2);
});

test('memory.grow keeps earlier buffers intact and usable', () => {
  const base = be.liveBuffers();
  const data = randn(1000);
  const keep = be.upload(data);
  const big: Storage[] = [];
  for (let i = 0; i < 8; i++) big.push(be.zeros(4 << 20, 'f32')); // 128 MiB in all
  close(read(keep), data, 'after grow', 0);
  const doubled = be.affine(keep, 2, 0);
  close(read(doubled), Array.from(data, (v) => 2 * v), 'kernel after grow', 0);
  assert.is(read(big[7])[(4 << 20) - 1], 0);
  for (const s of [...big, keep, doubled]) be.free(s);
  assert.is(be.liveBuffers(), base);
});

test('unary: every op against double precision', () => {
  for (const op of UNARY_OPS) {
    const [f, , lo, hi] = UNARY[op];
    for (const n of SIZES) {
      const x = randn(n, lo, hi);
      const xs = be.upload(x), y = be.unary(op, xs);
      close(read(y), Array.from(x, f), `${op}[${n}]`, 1e-6);
      be.free(xs); be.free(y);
    }
  }
});

test('unary: special values', () => {
  const x = be.upload(new Float32Array([0, -0, NaN, Infinity, -Infinity, 1e-30, -100, 100]));
  const get = (op: UnaryOp) => { const y = be.unary(op, x); const r = Array.from(read(y)); be.free(y); return r; };
  assert.equal(get('relu').slice(2, 5), [NaN, Infinity, 0]);
  assert.equal(get('sign').map((v) => Object.is(v, -0) ? 'neg0' : v), [0, 0, NaN, 1, -1, 1, -1, 1]); // torch: sign(±0) = +0
  assert.equal(get('sigmoid').slice(3, 5), [1, 0]);
  assert.equal(get('softplus').slice(3, 8), [Infinity, 0, Math.fround(Math.log1p(1)), Math.fround(Math.exp(-100)), 100]);
  assert.equal(get('erf').slice(3, 5), [1, -1]);
  assert.equal(get('gelu').slice(3, 5).concat(get('gelu').slice(6)), [Infinity, NaN, -0, 100]); // -Inf·0 like x·Φ(x)
  const dy = be.upload(new Float32Array([1, 1, 1, 1, 1, Infinity, 1, 1]));
  const grad = (op: UnaryOp) => { const g = be.unaryGrad(op, x, dy); const r = Array.from(read(g)); be.free(g); return r; };
  assert.equal(grad('relu').slice(2, 6), [NaN, 1, 0, Infinity]); // f'(x)·dy: NaN propagates
  assert.equal(grad('sign').slice(5, 6), [NaN]); // 0·Inf
  be.free(x); be.free(dy);
});

test('erf / gelu: float32-accurate on a fine grid', () => {
  const x = Float32Array.from({ length: 12001 }, (_, i) => -6 + i * 0.001);
  const xs = be.upload(x);
  const e = be.unary('erf', xs), g = be.unary('gelu', xs);
  const ev = read(e), gv = read(g);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(ev[i] - erfRef(x[i])));
  assert.ok(worst <= 6e-8, `erf max abs error ${worst}`);
  close(gv, Array.from(x, (v) => v * cdf(v)), 'gelu grid', 2e-7);
  for (const s of [xs, e, g]) be.free(s);
});

test('unaryGrad: every op against the analytic derivative', () => {
  for (const op of UNARY_OPS) {
    const [, df, lo, hi] = UNARY[op];
    for (const n of SIZES) {
      const x = randn(n, lo, hi), dy = randn(n);
      const xs = be.upload(x), ds = be.upload(dy), g = be.unaryGrad(op, xs, ds);
      close(read(g), Array.from(x, (v, i) => df(v) * dy[i]), `${op}' [${n}]`, 1e-6);
      be.free(xs); be.free(ds); be.free(g);
    }
  }
});

test('unaryGrad square: (2x)·dy rounded once, bit for bit, in the vector loop and the tail', () => {
  for (const n of [7, 1001]) {
    const x = randn(n, -1e3, 1e3), dy = randn(n);
    x.set([NaN, Infinity, -0, 3e38]); dy.set([1, 0, 5, 0.25]);
    const xs = be.upload(x), ds = be.upload(dy), g = be.unaryGrad('square', xs, ds);
    assertSameBits(read(g), Array.from(x, (v, i) => Math.fround(2 * v * dy[i])), `square' [${n}]`);
    be.free(xs); be.free(ds); be.free(g);
  }
});

test('unaryWithDerivative gelu: the value has unary\'s bits, dy·dydx unaryGrad\'s; other ops decline', () => {
  for (const n of [7, 1001]) {
    const x = randn(n, -9, 9), dy = randn(n);
    x.set([NaN, Infinity, -Infinity, -0, 1e-30, -40]);
    const xs = be.upload(x), ds = be.upload(dy);
    const r = be.unaryWithDerivative!('gelu', xs)!;
    const y = be.unary('gelu', xs), g = be.unaryGrad('gelu', xs, ds);
    const prod = be.binary('mul', ds, r.dydx, [n], [1], [1]);
    assertSameBits(read(r.y), read(y), `gelu [${n}]`);
    assertSameBits(read(prod), read(g), `gelu' [${n}]`);
    for (const s of [xs, ds, r.y, r.dydx, y, g, prod]) be.free(s);
  }
  const z = be.upload(new Float32Array(3));
  assert.is(be.unaryWithDerivative!('exp', z), null);
  be.free(z);
});

test('affine', () => {
  for (const n of SIZES) {
    const x = randn(n), xs = be.upload(x), y = be.affine(xs, 0.3, -1.25);
    close(read(y), Array.from(x, (v) => 0.3 * v - 1.25), `affine[${n}]`, 1e-7);
    be.free(xs); be.free(y);
  }
});

const binRef: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b,
  max: Math.max, min: Math.min, pow: Math.pow,
  eq: (a, b) => +(a === b), ne: (a, b) => +(a !== b), lt: (a, b) => +(a < b), le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b), ge: (a, b) => +(a >= b),
};

/** out[i] = f(a[off_a(i)], b[off_b(i)]) over the row-major shape. */
function stridedRef(shape: number[], f: (...v: number[]) => number, ...args: [ArrayLike<number>, number[], number?][]): number[] {
  const total = shape.reduce((p, s) => p * s, 1), out: number[] = [];
  for (let i = 0; i < total; i++) {
    let rem = i;
    const offs = args.map(([, , off]) => off ?? 0);
    for (let d = shape.length - 1; d >= 0; d--) {
      const idx = rem % shape[d]; rem = Math.floor(rem / shape[d]);
      args.forEach(([, st], j) => { offs[j] += idx * st[d]; });
    }
    out.push(f(...args.map(([x], j) => x[offs[j]])));
  }
  return out;
}

test('binary: every op, broadcasts and general strides', () => {
  // [shape, a strides, b strides, a size, b size]
  const cases: [number[], number[], number[], number, number][] = [];
  for (const n of SIZES) {
    cases.push([[n], [1], [1], n, n]); // same shape
    cases.push([[n], [1], [0], n, 1]); // scalar b
    cases.push([[n], [0], [1], 1, n]); // scalar a
  }
  cases.push([[6, 256], [256, 1], [0, 1], 1536, 256]); // row broadcast
  cases.push([[5, 63], [63, 1], [1, 0], 315, 5]); // column broadcast
  cases.push([[65, 3], [1, 65], [3, 1], 195, 195]); // transposed a
  cases.push([[2, 3, 4, 5], [60, 20, 5, 1], [0, 4, 1, 0], 120, 12]); // mixed broadcast rank 4
  cases.push([[2, 1, 3, 2, 2, 3], [36, 36, 12, 6, 3, 1], [1, 0, 2, 0, 6, 12], 72, 36]); // rank 6 permuted
  cases.push([[], [], [], 1, 1]); // rank 0
  for (const op of BINARY_OPS) {
    for (const [shape, sa, sb, na, nb] of cases) {
      let a = randn(na), b = randn(nb);
      if (op === 'pow') { a = randn(na, 0.1, 3); }
      if (['eq', 'ne', 'le', 'ge', 'max', 'min'].includes(op)) { a = a.map((v) => Math.round(v)); b = b.map((v) => Math.round(v)); }
      const as = be.upload(a), bs = be.upload(b), y = be.binary(op, as, bs, shape, sa, sb);
      close(read(y), stridedRef(shape, binRef[op], [a, sa], [b, sb]), `${op} [${shape}]`, 1e-6);
      be.free(as); be.free(bs); be.free(y);
    }
  }
});

test('binary: NaN, signed zero and pow special cases follow JavaScript', () => {
  const a = be.upload(new Float32Array([NaN, 0, -0, 1, 1, -1, 2, -8]));
  const b = be.upload(new Float32Array([1, -0, 0, NaN, Infinity, -Infinity, 0.5, 1 / 3]));
  const run = (op: BinaryOp) => { const y = be.binary(op, a, b, [8], [1], [1]); const r = Array.from(read(y)); be.free(y); return r; };
  const av = read(a), bv = read(b);
  for (const op of BINARY_OPS) close(run(op), Array.from(av, (x, i) => binRef[op](x, bv[i])), op, 1e-6);
  be.free(a); be.free(b);
});

test('binary and reduce on i32 follow the reference (ToInt32, comparisons in f32)', () => {
  const a = be.upload(Int32Array.from([7, -7, 2147483647, 5, 3, 0])), b = be.upload(Int32Array.from([2, 2, 1, 0, 3, -4]));
  const f = be.upload(new Float32Array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]));
  const run = (op: BinaryOp, x: Storage, y: Storage) => { const r = be.binary(op, x, y, [6], [1], [1]); const v = [r.dtype, ...read(r)]; be.free(r); return v; };
  assert.equal(run('add', a, b), ['i32', 9, -5, -2147483648, 5, 6, -4]);
  assert.equal(run('div', a, b), ['i32', 3, -3, 2147483647, 0, 1, 0]); // truncates; x/0 → ±Inf → 0
  assert.equal(run('mul', a, b), ['i32', 14, -14, 2147483647, 0, 9, 0]);
  assert.equal(run('lt', a, b), ['f32', 0, 1, 0, 0, 0, 0]);
  assert.equal(run('add', a, f), ['f32', 7.5, -6.5, Math.fround(2147483647.5), 5.5, 3.5, 0.5]);
  const r = be.binary('sub', a, b, [2, 3], [3, 1], [0, 1]); // broadcast rows
  assert.equal(Array.from(read(r)), [5, -9, 2147483646, 3, 1, -1]);
  const s = be.reduce('sum', a, 1, 6, 1), m = be.reduce('max', b, 2, 3, 1), e = be.reduce('min', a, 2, 0, 3);
  assert.is(s.dtype, 'i32');
  assert.equal([...read(s), ...read(m), ...read(e)], [(7 - 7 + 2147483647 + 5 + 3) | 0, 2, 3, 0, 0, 0, 0, 0, 0]);
  for (const t of [a, b, f, r, s, m, e]) be.free(t);
});

test('where and cast', () => {
  for (const n of SIZES) {
    const a = randn(n), b = randn(n), cf = Float32Array.from({ length: n }, (_, i) => [0, 1, -0, NaN, 2][i % 5]);
    const ci = Int32Array.from({ length: n }, (_, i) => [0, 3, -1][i % 3]);
    const [as, bs, cfs, cis] = [be.upload(a), be.upload(b), be.upload(cf), be.upload(ci)];
    const w1 = be.where(cfs, as, bs), w2 = be.where(cis, as, bs);
    close(read(w1), Array.from(a, (v, i) => (cf[i] !== 0 && true ? v : b[i])), `where f32 [${n}]`, 0);
    close(read(w2), Array.from(a, (v, i) => (ci[i] !== 0 ? v : b[i])), `where i32 [${n}]`, 0);
    const x = randn(n, -100, 100), xs = be.upload(x);
    const toI = be.cast(xs, 'i32'), back = be.cast(toI, 'f32');
    assert.is(toI.dtype, 'i32');
    assert.equal(Array.from(read(toI)), Array.from(x, Math.trunc).map((v) => v | 0));
    assert.equal(Array.from(read(back)), Array.from(x, Math.trunc).map((v) => v + 0));
    for (const s of [as, bs, cfs, cis, w1, w2, xs, toI, back]) be.free(s);
  }
  const nan = be.upload(new Float32Array([NaN, -0.9, 2.9e9, 1, 2, 3, 4, 5]));
  const ci = be.cast(nan, 'i32');
  assert.equal(Array.from(read(ci)), [0, 0, 2.9e9 | 0, 1, 2, 3, 4, 5]); // ToInt32: NaN → 0, wraps
  be.free(nan); be.free(ci);
});

test('strided and writeStrided', () => {
  const x = randn(360), xs = be.upload(x);
  const views: [number[], number[], number][] = [
    [[360], [1], 0],
    [[20, 18], [1, 20], 0], // transpose
    [[4, 5], [0, 1], 7], // broadcast rows
    [[3, 4], [-10, -2], 100], // negative strides
    [[2, 3, 2, 5, 3], [180, 60, 30, 6, 1], 0], // rank 5 contiguous
    [[2, 2, 3, 1, 2], [5, 100, 1, 7, 40], 3], // rank 5 scattered
    [[6, 256], [0, 1], 50],
  ];
  for (const [shape, strides, off] of views) {
    const y = be.strided(xs, shape, strides, off);
    close(read(y), stridedRef(shape, (v) => v, [x, strides, off]), `strided [${shape}]`, 0);
    be.free(y);
  }
  throwsWith(() => be.strided(xs, [2, 3], [400, 1], 0), /outside/, 'strided bounds');
  // writeStrided: fill a transposed window of a zero buffer
  const dst = be.zeros(100, 'f32');
  const src = randn(12), ss = be.upload(src);
  be.writeStrided(ss, dst, [3, 4], [1, 10], 21);
  const want = new Array(100).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) want[21 + i + 10 * j] = src[i * 4 + j];
  close(read(dst), want, 'writeStrided', 0);
  be.writeStrided(ss, dst, [12], [1], 88);
  close(read(dst).subarray(88), src, 'writeStrided contiguous', 0);
  throwsWith(() => be.writeStrided(ss, dst, [12], [1], 89), /outside/, 'writeStrided bounds');
  // src aliasing dst: the reversal must read the original values
  const al = be.upload(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]));
  be.writeStrided(al, al, [8], [-1], 7);
  assert.equal(Array.from(read(al)), [7, 6, 5, 4, 3, 2, 1, 0]);
  be.free(al);
  const i32 = be.upload(Int32Array.from([1, 2, 3, 4, 5, 6]));
  const ti = be.strided(i32, [3, 2], [1, 3], 0);
  assert.is(ti.dtype, 'i32');
  assert.equal(Array.from(read(ti)), [1, 4, 2, 5, 3, 6]);
  for (const s of [xs, dst, ss, i32, ti]) be.free(s);
});

function matmulRef(a: Float32Array, b: Float32Array, batch: number, m: number, n: number, k: number,
  tA: boolean, tB: boolean, aBS: number, bBS: number): { c: number[]; scale: number[] } {
  const c: number[] = [], scale: number[] = [];
  for (let q = 0; q < batch; q++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0, t = 0;
        for (let p = 0; p < k; p++) {
          const x = a[q * aBS + (tA ? p * m + i : i * k + p)] * b[q * bBS + (tB ? j * k + p : p * n + j)];
          s += x; t += Math.abs(x);
        }
        c.push(s); scale.push(t);
      }
    }
  }
  return { c, scale };
}

test('matmul: transposes, SIMD / tile edges, batches', () => {
  const dims = [[1, 1, 1], [3, 5, 4], [4, 4, 4], [5, 63, 65], [63, 64, 65], [65, 3, 257], [257, 65, 5], [6, 256, 1],
    [1, 257, 300], [130, 9, 600]];
  for (const [m, n, k] of dims) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const a = randn(m * k), b = randn(k * n);
        const as = be.upload(a), bs = be.upload(b);
        const c = be.matmul(as, bs, { batch: 1, m, n, k, transA: tA, transB: tB, aBatchStride: 0, bBatchStride: 0 });
        const ref = matmulRef(a, b, 1, m, n, k, tA, tB, 0, 0);
        close(read(c), ref.c, `matmul ${m}x${n}x${k} ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`, 1e-5, ref.scale);
        be.free(as); be.free(bs); be.free(c);
      }
    }
  }
  // batches: strided, broadcast A, broadcast B (the flattened path), transposed
  for (const [batch, m, n, k, tA, tB, aB, bB] of [
    [3, 5, 7, 9, false, false, 45, 63], [4, 6, 5, 3, false, true, 0, 15], [3, 65, 9, 17, false, false, 65 * 17, 0],
    [2, 4, 8, 6, true, false, 24, 0], [2, 3, 3, 3, true, true, 20, 11],
  ] as [number, number, number, number, boolean, boolean, number, number][]) {
    const a = randn((batch - 1) * aB + m * k), b = randn((batch - 1) * bB + k * n);
    const as = be.upload(a), bs = be.upload(b);
    const c = be.matmul(as, bs, { batch, m, n, k, transA: tA, transB: tB, aBatchStride: aB, bBatchStride: bB });
    const ref = matmulRef(a, b, batch, m, n, k, tA, tB, aB, bB);
    close(read(c), ref.c, `batched matmul ${batch}x${m}x${n}x${k}`, 1e-5, ref.scale);
    be.free(as); be.free(bs); be.free(c);
  }
  // k = 0 gives zeros; too-small inputs throw
  const e = be.upload(new Float32Array(0)), c0 = be.matmul(e, e, { batch: 2, m: 2, n: 3, k: 0, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 });
  assert.equal(Array.from(read(c0)), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  throwsWith(() => be.matmul(e, e, { batch: 1, m: 2, n: 2, k: 2, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 }), /needs/, 'matmul size');
  be.free(e); be.free(c0);
});

test('matmul: the same inputs give the same bits', () => {
  const a = be.upload(randn(300 * 270)), b = be.upload(randn(270 * 70));
  const args = { batch: 1, m: 300, n: 70, k: 270, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 };
  const c1 = be.matmul(a, b, args), c2 = be.matmul(a, b, args);
  assert.equal(Array.from(read(c1)), Array.from(read(c2)));
  for (const s of [a, b, c1, c2]) be.free(s);
});

test('reduce: sum / max / min over the middle axis', () => {
  for (const [outer, n, inner] of [[1, 257, 1], [3, 5, 1], [2, 63, 4], [4, 7, 65], [1, 1, 3], [2, 0, 3], [6, 3, 256],
    [1, 130, 12], [2, 70, 17]]) {
    const x = randn(outer * n * inner, -3, 3), xs = be.upload(x);
    for (const op of ['sum', 'max', 'min'] as const) {
      const want: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          let acc = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
          for (let i = 0; i < n; i++) {
            const v = x[(o * n + i) * inner + j];
            acc = op === 'sum' ? acc + v : op === 'max' ? Math.max(acc, v) : Math.min(acc, v);
          }
          want.push(acc);
        }
      }
      const y = be.reduce(op, xs, outer, n, inner);
      // column sums run in f64 over the rows in order, as here: the same bits (a row's sum, inner = 1, is vectorised)
      if (op !== 'sum' || inner > 1) assertSameBits(read(y), Float32Array.from(want), `${op} [${outer},${n},${inner}]`);
      else close(read(y), want, `${op} [${outer},${n},${inner}]`, 1e-6);
      be.free(y);
    }
    be.free(xs);
  }
  const nan = be.upload(new Float32Array([1, NaN, 3, 4, 5, 6]));
  for (const [op, inner] of [['max', 1], ['min', 3]] as const) {
    const y = be.reduce(op, nan, 6 / (2 * inner), 2, inner);
    assert.ok(Number.isNaN(read(y)[inner === 1 ? 0 : 1]), `${op} NaN`);
    be.free(y);
  }
  be.free(nan);
});

test('softmax and logSumExp', () => {
  for (const [rows, n] of [[1, 1], [3, 5], [2, 64], [4, 257], [6, 256]]) {
    const x = randn(rows * n, -20, 20), xs = be.upload(x);
    const sm: number[] = [], lse: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = Array.from(x.subarray(r * n, (r + 1) * n)), m = Math.max(...row);
      const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
      row.forEach((v) => sm.push(Math.exp(v - m) / s));
      lse.push(m + Math.log(s));
    }
    const y = be.softmax(xs, rows, n), l = be.logSumExp(xs, rows, n);
    close(read(y), sm, `softmax [${rows},${n}]`, 1e-6, sm.map((v) => v));
    close(read(l), lse, `logSumExp [${rows},${n}]`, 1e-6);
    for (const s of [xs, y, l]) be.free(s);
  }
  const inf = be.upload(new Float32Array([-Infinity, -Infinity, 1, -Infinity]));
  const l = be.logSumExp(inf, 2, 2), y = be.softmax(inf, 2, 2);
  assert.equal(Array.from(read(l)), [-Infinity, 1]);
  assert.equal(Array.from(read(y)).slice(2), [1, 0]);
  throwsWith(() => be.softmax(inf, 2, -2), /softmax n = -2/, 'negative count');
  throwsWith(() => be.topk(inf, 1, 4, 5), /exceeds/, 'k > n');
  throwsWith(() => be.logSumExp(inf, 3, 2), /needs 6/, 'too small input');
  for (const s of [inf, l, y]) be.free(s);
});

test('topk: order, ties by lower index, NaN smallest', () => {
  const x = be.upload(new Float32Array([3, 1, NaN, 3, 5, 0, -0, NaN, 5, -1]));
  const { values, indices } = be.topk(x, 1, 10, 10);
  assert.equal(Array.from(read(indices)), [4, 8, 0, 3, 1, 5, 6, 9, 2, 7]);
  assert.equal(Array.from(read(values)).slice(0, 8), [5, 5, 3, 3, 1, 0, -0, -1]);
  for (const s of [x, values, indices]) be.free(s);
  for (const [rows, n, k] of [[3, 257, 1], [2, 64, 5], [4, 65, 65], [6, 256, 17], [2, 5, 0]]) {
    const data = Float32Array.from(randn(rows * n), (v) => Math.round(v * 4) / 4); // many ties
    const xs = be.upload(data), r = be.topk(xs, rows, n, k);
    const wantI: number[] = [], wantV: number[] = [];
    for (let q = 0; q < rows; q++) {
      const idx = Array.from({ length: n }, (_, i) => i).sort((i, j) => data[q * n + j] - data[q * n + i] || i - j).slice(0, k);
      wantI.push(...idx); wantV.push(...idx.map((i) => data[q * n + i]));
    }
    assert.equal(Array.from(read(r.indices)), wantI, `topk indices [${rows},${n}] k=${k}`);
    assert.equal(Array.from(read(r.values)), wantV, `topk values [${rows},${n}] k=${k}`);
    for (const s of [xs, r.values, r.indices]) be.free(s);
  }
});

test('layerNorm and layerNormGrad', () => {
  for (const [rows, d] of [[1, 1], [3, 5], [2, 64], [4, 65], [6, 256], [7, 9]]) {
    const x = randn(rows * d, -3, 3), g = randn(d), b = randn(d), dy = randn(rows * d);
    const [xs, gs, bs, dys] = [be.upload(x), be.upload(g), be.upload(b), be.upload(dy)];
    const eps = 1e-5;
    const { y, mean, rstd } = be.layerNorm(xs, gs, bs, rows, d, eps);
    const wy: number[] = [], wm: number[] = [], wr: number[] = [], wdx: number[] = [];
    const wdg = new Array(d).fill(0), wdb = new Array(d).fill(0);
    const rm = read(mean), rr = read(rstd);
    for (let r = 0; r < rows; r++) {
      const row = Array.from(x.subarray(r * d, (r + 1) * d));
      const mu = row.reduce((s, v) => s + v, 0) / d;
      const rs = 1 / Math.sqrt(row.reduce((s, v) => s + (v - mu) ** 2, 0) / d + eps);
      wm.push(mu); wr.push(rs);
      row.forEach((v, j) => wy.push((v - mu) * rs * g[j] + b[j]));
      // the gradient uses the stored (f32) statistics, as the kernel does
      const m32 = rm[r], r32 = rr[r];
      const h = row.map((v) => (v - m32) * r32), gg = row.map((_, j) => dy[r * d + j] * g[j]);
      const s1 = gg.reduce((s, v) => s + v, 0) / d, s2 = gg.reduce((s, v, j) => s + v * h[j], 0) / d;
      row.forEach((_, j) => {
        wdx.push(r32 * (gg[j] - s1 - h[j] * s2));
        wdg[j] += dy[r * d + j] * h[j]; wdb[j] += dy[r * d + j];
      });
    }
    close(read(y), wy, `layerNorm y [${rows},${d}]`, 1e-6);
    close(rm, wm, 'layerNorm mean', 1e-6); close(rr, wr, 'layerNorm rstd', 1e-6);
    const { dx, dgamma, dbeta } = be.layerNormGrad(dys, xs, gs, mean, rstd, rows, d);
    // the gradient's f64 sums run in the same order as here (rows and columns interleaved only): the same bits
    assertSameBits(read(dx), Float32Array.from(wdx), `layerNormGrad dx [${rows},${d}]`);
    assertSameBits(read(dgamma), Float32Array.from(wdg), `dgamma [${rows},${d}]`);
    assertSameBits(read(dbeta), Float32Array.from(wdb), `dbeta [${rows},${d}]`);
    for (const s of [xs, gs, bs, dys, y, mean, rstd, dx, dgamma, dbeta]) be.free(s);
  }
});

test('gatherRows / scatterAddRows / spmm, with index errors', () => {
  for (const d of [1, 3, 4, 5, 64, 65]) {
    const rowsT = 7, table = randn(rowsT * d), idx = Int32Array.from([3, 0, 6, 3, 3, 1]);
    const ts = be.upload(table), is = be.upload(idx);
    const g = be.gatherRows(ts, is, rowsT, d);
    close(read(g), Array.from(idx).flatMap((i) => Array.from(table.subarray(i * d, (i + 1) * d))), `gather d=${d}`, 0);
    const src = randn(idx.length * d), ss = be.upload(src);
    const sc = be.scatterAddRows(ss, is, rowsT, d);
    const want = new Float64Array(rowsT * d); // double accumulation, rounded once
    idx.forEach((i, r) => { for (let j = 0; j < d; j++) want[i * d + j] += src[r * d + j]; });
    close(read(sc), Float32Array.from(want), `scatterAdd d=${d}`, 0);
    for (const s of [ts, is, g, ss, sc]) be.free(s);
  }
  const t = be.upload(randn(12)), bad = be.upload(Int32Array.from([0, 2, 4, 1]));
  throwsWith(() => be.gatherRows(t, bad, 4, 3), /index 4 at position 2/, 'gather bad index');
  throwsWith(() => be.scatterAddRows(t, bad, 3, 3), /index 4 at position 2/, 'scatter bad index');
  be.free(t); be.free(bad);

  for (const d of [1, 4, 5, 63, 65]) {
    const rows = 9, cols = 11;
    const indptr = [0], indices: number[] = [], values: number[] = [];
    for (let r = 0; r < rows; r++) {
      const nnz = r % 4 === 0 ? 0 : Math.floor(rand() * 6);
      for (let q = 0; q < nnz; q++) { indices.push(Math.floor(rand() * cols)); values.push(rand() * 2 - 1); }
      indptr.push(indices.length);
    }
    const dense = randn(cols * d);
    const [ps, is, vs, ds] = [be.upload(Int32Array.from(indptr)), be.upload(Int32Array.from(indices)),
      be.upload(Float32Array.from(values)), be.upload(dense)];
    const y = be.spmm(ps, is, vs, ds, rows, d);
    const vf = Float32Array.from(values);
    const want: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let p = indptr[r]; p < indptr[r + 1]; p++) s += vf[p] * dense[indices[p] * d + j];
        want.push(s);
      }
    }
    close(read(y), want, `spmm d=${d}`, 1e-6);
    for (const s of [ps, is, vs, ds, y]) be.free(s);
  }
  const ps = be.upload(Int32Array.from([0, 2, 3])), is = be.upload(Int32Array.from([1, 5, 0]));
  const vs = be.upload(new Float32Array(3)), ds = be.upload(new Float32Array(8));
  throwsWith(() => be.spmm(ps, is, vs, ds, 2, 2), /indices\[1\] = 5/, 'spmm bad column');
  const bp = be.upload(Int32Array.from([0, 3, 2]));
  throwsWith(() => be.spmm(bp, is, vs, ds, 2, 2), /indptr\[2\] = 2/, 'spmm bad indptr');
  for (const s of [ps, is, vs, ds, bp]) be.free(s);
});

test('adam: torch float32 order, in place', () => {
  const n = 67, f = Math.fround;
  const p = randn(n), g = randn(n), m = randn(n, -0.1, 0.1), v = randn(n, 0, 0.1);
  const [ps, gs, ms, vs] = [be.upload(p), be.upload(g), be.upload(m), be.upload(v)];
  const args = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 };
  be.adam(ps, gs, ms, vs, args);
  const step = f(-args.lr / (1 - args.beta1 ** args.step)), bc2 = f(Math.sqrt(1 - args.beta2 ** args.step));
  for (let i = 0; i < n; i++) {
    const gi = f(g[i] + f(args.weightDecay) * p[i]);
    m[i] = f(f(1 - args.beta1) * gi + f(f(args.beta1) * m[i]));
    v[i] = f(f(f(1 - args.beta2) * gi) * gi + f(f(args.beta2) * v[i]));
    p[i] = f(p[i] + f(f(step * m[i]) / f(f(f(Math.sqrt(v[i])) / bc2) + f(args.eps))));
  }
  assert.equal(Array.from(read(ps)), Array.from(p), 'param');
  assert.equal(Array.from(read(ms)), Array.from(m), 'm');
  assert.equal(Array.from(read(vs)), Array.from(v), 'v');
  assert.equal(Array.from(read(gs)), Array.from(g), 'grad untouched');
  for (const s of [ps, gs, ms, vs]) be.free(s);
});

test('no leaks; destroy releases everything', async () => {
  assert.is(be.liveBuffers(), 0);
  const other = await createWasmBackend();
  const s = other.upload(new Float32Array([1, 2]));
  assert.is(other.liveBuffers(), 1);
  throwsWith(() => be.unary('neg', s), /not a wasm storage of this backend/, 'foreign storage');
  other.destroy();
  assert.is(other.liveBuffers(), 0);
  throwsWith(() => other.upload(new Float32Array(1)), /destroy/, 'after destroy');
});

test.run();
