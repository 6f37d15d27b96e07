import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UNARY_OPS, type Storage, type UnaryOp } from '../../engine/backend.js';
import { createReferenceBackend } from '../../backends/reference/index.js';
import { erf, erfc, fma32 } from '../../backends/reference/math.js';

const be = createReferenceBackend();
const be64 = createReferenceBackend({ precision: 'f64' });
const f32 = (xs: number[]) => be.upload(new Float32Array(xs));
const i32 = (xs: number[]) => be.upload(new Int32Array(xs));
const f64 = (xs: number[]) => be64.uploadF64(new Float64Array(xs));
const read = (s: Storage) => Array.from(be.readSync(s));
const read64 = (s: Storage) => Array.from(be64.readF64(s));

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6, what = ''): void {
  assert.is(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    if (Object.is(a, e)) continue;
    const err = Math.abs(a - e) / Math.max(1, Math.abs(e));
    assert.ok(err <= tol, `${what}[${i}]: got ${a}, expected ${e} (err ${err})`);
  }
}

/** |actual − expected| within `ulps` float32 ulps of expected (0: bit-equal). */
function closeUlps(actual: ArrayLike<number>, expected: ArrayLike<number>, ulps: number, what: string): void {
  assert.is(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < actual.length; i++) {
    const ulp = 2 ** (Math.floor(Math.log2(Math.abs(expected[i]))) - 23);
    assert.ok(Math.abs(actual[i] - expected[i]) <= ulps * ulp, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

/** A small deterministic generator (LCG) for test data in [lo, hi). */
function rand(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 2 ** 32);
  });
}

test('memory: upload, read copies, zeros, live count, f64 precision', () => {
  const b = createReferenceBackend();
  const s = b.upload(new Float32Array([1, 2, 3]));
  const out = b.readSync(s) as Float32Array;
  out[0] = 99;
  assert.equal(Array.from(b.readSync(s)), [1, 2, 3]);
  assert.equal(Array.from(b.readSync(b.zeros(2, 'i32'))), [0, 0]);
  assert.ok(b.readSync(b.zeros(1, 'i32')) instanceof Int32Array);
  assert.is(b.liveBuffers(), 3);
  b.free(s);
  assert.is(b.liveBuffers(), 2);
  assert.throws(() => b.free(s), /reference backend: double free/);
  assert.throws(() => b.unary('exp', s), /reference backend: unary: x was already freed/);
  b.destroy();
  assert.is(b.liveBuffers(), 0);
  // f32 rounds once on store; f64 keeps doubles but read() still hands out Float32Array.
  assert.is(be.readF64(be.uploadF64(new Float64Array([0.1])))[0], Math.fround(0.1));
  const d = f64([0.1]);
  assert.is(be64.readF64(d)[0], 0.1);
  assert.ok(be64.readSync(d) instanceof Float32Array);
  assert.throws(() => be.unary('exp', d), /not a storage of this backend/);
});

test('read is asynchronous and matches readSync', async () => {
  const s = i32([4, -5]);
  assert.equal(Array.from(await be.read(s)), [4, -5]);
});

test('erf and erfc match libm to ~1e-14 relative', () => {
  // Values from CPython's math.erf / math.erfc.
  const table: [number, number, number][] = [
    [0.1, 0.1124629160182849, 0.8875370839817152], [0.5, 0.5204998778130465, 0.4795001221869535],
    [1, 0.8427007929497149, 0.15729920705028513], [1.5, 0.9661051464753108, 0.033894853524689274],
    [2, 0.9953222650189527, 0.004677734981047265], [2.5, 0.999593047982555, 0.0004069520174449589],
    [3, 0.9999779095030014, 2.2090496998585438e-05], [4, 0.9999999845827421, 1.541725790028002e-08],
    [5, 0.9999999999984626, 1.5374597944280351e-12],
  ];
  for (const [x, e, c] of table) {
    close([erf(x), erf(-x)], [e, -e], 1e-15, `erf(${x})`);
    assert.ok(Math.abs(erfc(x) - c) <= 1e-13 * c, `erfc(${x}) = ${erfc(x)}, expected ${c}`);
    assert.ok(Math.abs(erfc(-x) - (2 - c)) <= 1e-15, `erfc(-${x})`);
  }
  assert.is(erf(0), 0);
  assert.is(erfc(30), 0);
  assert.ok(Number.isNaN(erf(NaN)));
});

test('unary: spot values', () => {
  const x = [-2, -0.5, 0, 0.5, 3];
  const at = (op: UnaryOp, xs = x) => read64(be64.unary(op, f64(xs)));
  close(at('gelu'), [-0.04550026389635844, -0.15426876936299344, 0, 0.34573123063700656, 2.99595030590511],
    1e-14, 'gelu');
  close(at('sign'), [-1, -1, 0, 1, 1], 0, 'sign');
  close(at('relu'), [0, 0, 0, 0.5, 3], 0, 'relu');
  close(at('silu', [1]), [0.7310585786300049], 1e-15, 'silu');
  close(at('softplus', [0, 25, -30, 19]), [Math.LN2, 25, Math.exp(-30), 19.000000005602796], 1e-15, 'softplus');
  close(at('sigmoid', [-800, 0, 800]), [0, 0.5, 1], 0, 'sigmoid');
  close(at('reciprocal', [4]), [0.25], 0, 'reciprocal');
  close(at('square', [-3]), [9], 0, 'square');
  assert.ok(Number.isNaN(at('relu', [NaN])[0]) && Number.isNaN(at('sign', [NaN])[0]));
  // f32 mode rounds the double result once.
  assert.equal(read(be.unary('exp', f32([1]))), [Math.fround(Math.E)]);
});

test('unaryGrad: every op against central finite differences (f64)', () => {
  const general = [-2.3, -1.1, -0.35, 0.2, 0.7, 1.6, 2.9];
  const positive = [0.15, 0.6, 1.3, 2.7, 7.5];
  const h = 1e-6;
  for (const op of UNARY_OPS) {
    const xs = op === 'log' || op === 'sqrt' || op === 'reciprocal' ? positive : general;
    const dy = xs.map((_, i) => 0.5 + 0.25 * i);
    const got = read64(be64.unaryGrad(op, f64(xs), f64(dy)));
    const plus = read64(be64.unary(op, f64(xs.map((v) => v + h))));
    const minus = read64(be64.unary(op, f64(xs.map((v) => v - h))));
    const fd = xs.map((_, i) => ((plus[i] - minus[i]) / (2 * h)) * dy[i]);
    close(got, fd, 1e-7, `${op}'`);
  }
  // Kinks take 0; softplus above its threshold is the identity.
  const at0 = (op: UnaryOp) => read64(be64.unaryGrad(op, f64([0]), f64([1])))[0];
  assert.equal(['relu', 'abs', 'sign'].map((op) => at0(op as UnaryOp)), [0, 0, 0]);
  assert.is(read64(be64.unaryGrad('softplus', f64([25]), f64([2])))[0], 2);
  assert.throws(() => be.unaryGrad('exp', f32([1, 2]), f32([1])), /unaryGrad: dy has 1 elements, expected 2/);
});

test('affine, where, cast', () => {
  assert.equal(read(be.affine(f32([1, -2]), 3, 0.5)), [3.5, -5.5]);
  assert.equal(read(be.where(f32([1, 0, -2]), f32([1, 2, 3]), f32([7, 8, 9]))), [1, 8, 3]);
  assert.equal(read(be.where(i32([0, 1]), i32([1, 2]), i32([7, 8]))), [7, 2]);
  const c = be.cast(f32([2.7, -2.7, -0.5, 5]), 'i32');
  assert.is(c.dtype, 'i32');
  assert.equal(read(c), [2, -2, 0, 5]);
  assert.equal(read(be.cast(i32([3, -4]), 'f32')), [3, -4]);
  assert.throws(() => be.where(f32([1]), f32([1]), i32([1])), /where: b must be f32/);
});

test('binary: broadcasting, rank 0, comparisons, NaN', () => {
  const a = f32([1, 2, 3, 4, 5, 6]); // [2, 3]
  const row = f32([10, 20, 30]); // [3] broadcast over rows
  const col = f32([100, 200]); // [2, 1] broadcast over columns
  assert.equal(read(be.binary('add', a, row, [2, 3], [3, 1], [0, 1])), [11, 22, 33, 14, 25, 36]);
  assert.equal(read(be.binary('sub', a, col, [2, 3], [3, 1], [1, 0])), [-99, -98, -97, -196, -195, -194]);
  // Outer product by broadcasting both sides, and a transposed read of a.
  assert.equal(read(be.binary('mul', col, row, [2, 3], [1, 0], [0, 1])), [1000, 2000, 3000, 2000, 4000, 6000]);
  assert.equal(read(be.binary('div', a, a, [3, 2], [1, 3], [1, 3])), [1, 1, 1, 1, 1, 1]);
  assert.equal(read(be.binary('pow', f32([2]), f32([10]), [], [], [])), [1024]);
  const x = f32([1, 2, NaN]);
  const y = f32([2, 2, 1]);
  const cmp = (op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge') => read(be.binary(op, x, y, [3], [1], [1]));
  assert.equal(cmp('eq'), [0, 1, 0]);
  assert.equal(cmp('ne'), [1, 0, 1]);
  assert.equal(cmp('lt'), [1, 0, 0]);
  assert.equal(cmp('le'), [1, 1, 0]);
  assert.equal(cmp('gt'), [0, 0, 0]);
  assert.equal(cmp('ge'), [0, 1, 0]);
  const mx = read(be.binary('max', x, y, [3], [1], [1]));
  assert.equal(mx.slice(0, 2), [2, 2]);
  assert.ok(Number.isNaN(mx[2]) && Number.isNaN(read(be.binary('min', x, y, [3], [1], [1]))[2]));
  const q = be.binary('div', i32([7, -7]), i32([2, 2]), [2], [1], [1]);
  assert.is(q.dtype, 'i32');
  assert.equal(read(q), [3, -3]);
  assert.throws(() => be.binary('add', a, row, [2, 3], [3, 1], [1, 1]), /binary: b addresses \[0, 3\]/);
});

test('reduce over the middle axis', () => {
  const x = f32([1, 2, 3, 4, 5, 6, 7, 8, -1, 0, 9, 1]); // [2, 3, 2]
  assert.equal(read(be.reduce('sum', x, 2, 3, 2)), [9, 12, 15, 9]);
  assert.equal(read(be.reduce('max', x, 2, 3, 2)), [5, 6, 9, 8]);
  assert.equal(read(be.reduce('min', x, 2, 3, 2)), [1, 2, -1, 0]);
  assert.equal(read(be.reduce('sum', x, 1, 12, 1)), [45]);
  const empty = f32([]);
  assert.equal(read(be.reduce('sum', empty, 2, 0, 1)), [0, 0]);
  assert.equal(read(be.reduce('max', empty, 1, 0, 1)), [-Infinity]);
  assert.equal(read(be.reduce('min', empty, 1, 0, 1)), [Infinity]);
  assert.ok(Number.isNaN(read(be.reduce('max', f32([1, NaN, 2]), 1, 3, 1))[0]));
});

/** C = op(A)·op(B) computed directly from logical [m,k] and [k,n] row-major arrays. */
function naiveMatmul(A: number[], B: number[], m: number, k: number, n: number): number[] {
  const C: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += A[i * k + p] * B[p * n + j];
    C.push(s);
  }
  return C;
}
const transpose = (X: number[], r: number, c: number) =>
  Array.from({ length: r * c }, (_, t) => X[(t % r) * c + Math.floor(t / r)]);

test('matmul: all four transpose combinations', () => {
  const A = [1, 2, 3, 4, 5, 6]; // [2, 3]
  const B = [7, 8, 9, 10, 11, 12]; // [3, 2]
  const expected = [58, 64, 139, 154];
  for (const transA of [false, true]) for (const transB of [false, true]) {
    const a = f32(transA ? transpose(A, 2, 3) : A);
    const b = f32(transB ? transpose(B, 3, 2) : B);
    const c = be.matmul(a, b, { batch: 1, m: 2, n: 2, k: 3, transA, transB, aBatchStride: 0, bBatchStride: 0 });
    assert.equal(read(c), expected, `transA=${transA} transB=${transB}`);
  }
});

test('matmul: batches with a broadcast operand, and k = 0', () => {
  const [m, k, n] = [3, 4, 2];
  const A = rand(2 * m * k, 1);
  const B = rand(k * n, 2);
  const c = be.matmul(f32(A), f32(B),
    { batch: 2, m, n, k, transA: false, transB: false, aBatchStride: m * k, bBatchStride: 0 });
  const want = [...naiveMatmul(A.slice(0, m * k), B, m, k, n), ...naiveMatmul(A.slice(m * k), B, m, k, n)];
  close(read(c), want, 1e-6, 'batched');
  // transB with a broadcast A over a batch of Bs.
  const Bs = rand(2 * n * k, 3);
  const c2 = be.matmul(f32(A.slice(0, m * k)), f32(Bs),
    { batch: 2, m, n, k, transA: false, transB: true, aBatchStride: 0, bBatchStride: n * k });
  const want2 = [0, 1].flatMap((t) => naiveMatmul(A.slice(0, m * k), transpose(Bs.slice(t * n * k, (t + 1) * n * k), n, k), m, k, n));
  close(read(c2), want2, 1e-6, 'broadcast A');
  const z = be.matmul(f32([]), f32([]), { batch: 1, m: 2, n: 2, k: 0, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 });
  assert.equal(read(z), [0, 0, 0, 0]);
  assert.throws(() => be.matmul(f32(A), f32(B), { batch: 3, m, n, k, transA: false, transB: false, aBatchStride: m * k, bBatchStride: 0 }),
    /matmul: a has 24 elements, needs 36/);
});

test('spmm: CSR times dense, bad column throws', () => {
  // [[1, 0, 2], [0, 0, 0], [0, 3, 0]] · [[1, 2], [3, 4], [5, 6]]
  const dense = f32([1, 2, 3, 4, 5, 6]);
  const y = be.spmm(i32([0, 2, 2, 3]), i32([0, 2, 1]), f32([1, 2, 3]), dense, 3, 2);
  assert.equal(read(y), [11, 14, 0, 0, 9, 12]);
  assert.throws(() => be.spmm(i32([0, 1]), i32([3]), f32([1]), dense, 1, 2), /spmm: indices\[0\] = 3 is outside \[0, 3\)/);
  assert.throws(() => be.spmm(i32([0, 2]), i32([0]), f32([1]), dense, 1, 2), /spmm: indptr/);
});

test('softmax and logSumExp: stable, edge rows', () => {
  const x = f32([1, 2, 3, 1000, 1001, 1002]);
  const e = [Math.exp(-2), Math.exp(-1), 1];
  const z = e[0] + e[1] + e[2];
  const p = e.map((v) => v / z);
  close(read(be.softmax(x, 2, 3)), [...p, ...p], 1e-7, 'softmax');
  close(read(be.logSumExp(x, 2, 3)), [3 + Math.log(z), 1002 + Math.log(z)], 1e-7, 'lse');
  // A row of −Infinity: lse −Infinity, softmax NaN (documented); a lone −Infinity just gets weight 0.
  assert.equal(read(be.logSumExp(f32([-Infinity, -Infinity]), 1, 2)), [-Infinity]);
  assert.ok(read(be.softmax(f32([-Infinity, -Infinity]), 1, 2)).every(Number.isNaN));
  assert.equal(read(be.softmax(f32([0, -Infinity]), 1, 2)), [1, 0]);
  assert.equal(read(be.logSumExp(f32([]), 2, 0)), [-Infinity, -Infinity]);
});

test('topk: best first, ties by lower index, NaN last, k > n throws', () => {
  const { values, indices } = be.topk(f32([3, 1, 3, NaN, 2, 0, -1, 5, 5, -Infinity]), 2, 5, 3);
  assert.equal(read(values), [3, 3, 2, 5, 5, 0]);
  assert.equal(read(indices), [0, 2, 4, 2, 3, 0]);
  assert.is(indices.dtype, 'i32');
  const all = be.topk(f32([NaN, -Infinity, 1]), 1, 3, 3);
  assert.equal(read(all.indices), [2, 1, 0]);
  assert.throws(() => be.topk(f32([1, 2]), 1, 2, 3), /topk: k = 3 exceeds the row length n = 2/);
});

test('layerNorm matches the direct formula', () => {
  const [rows, d, eps] = [3, 5, 1e-5];
  const x = rand(rows * d, 4, -2, 2);
  const g = rand(d, 5, 0.5, 1.5);
  const b = rand(d, 6);
  const { y, mean, rstd } = be64.layerNorm(f64(x), f64(g), f64(b), rows, d, eps);
  for (let r = 0; r < rows; r++) {
    const row = x.slice(r * d, r * d + d);
    const mu = row.reduce((s, v) => s + v, 0) / d;
    const rs = 1 / Math.sqrt(row.reduce((s, v) => s + (v - mu) ** 2, 0) / d + eps);
    close(read64(y).slice(r * d, r * d + d), row.map((v, j) => (v - mu) * rs * g[j] + b[j]), 1e-14, 'y');
    close([read64(mean)[r], read64(rstd)[r]], [mu, rs], 1e-14, 'stats');
  }
  assert.is(mean.dtype, 'f32');
});

test('layerNormGrad against finite differences (f64)', () => {
  const [rows, d, eps] = [2, 4, 1e-3];
  const x = rand(rows * d, 7, -2, 2);
  const g = rand(d, 8, 0.5, 1.5);
  const b = rand(d, 9);
  const w = rand(rows * d, 10); // L = Σ w · y, so dy = w
  const loss = (xs: number[], gs: number[], bs: number[]) => {
    const y = read64(be64.layerNorm(f64(xs), f64(gs), f64(bs), rows, d, eps).y);
    return y.reduce((s, v, i) => s + v * w[i], 0);
  };
  const fd = (arr: number[], at: (v: number[]) => number) => arr.map((_, i) => {
    const h = 1e-6;
    const p = arr.slice(); p[i] += h;
    const q = arr.slice(); q[i] -= h;
    return (at(p) - at(q)) / (2 * h);
  });
  const { mean, rstd } = be64.layerNorm(f64(x), f64(g), f64(b), rows, d, eps);
  const { dx, dgamma, dbeta } = be64.layerNormGrad(f64(w), f64(x), f64(g), mean, rstd, rows, d);
  close(read64(dx), fd(x, (v) => loss(v, g, b)), 1e-7, 'dx');
  close(read64(dgamma), fd(g, (v) => loss(x, v, b)), 1e-7, 'dgamma');
  close(read64(dbeta), fd(b, (v) => loss(x, g, v)), 1e-7, 'dbeta');
});

test('gatherRows and scatterAddRows; bad indices name the position', () => {
  const table = f32([1, 2, 3, 4, 5, 6]); // [3, 2]
  assert.equal(read(be.gatherRows(table, i32([2, 0, 2]), 3, 2)), [5, 6, 1, 2, 5, 6]);
  assert.equal(read(be.gatherRows(i32([7, 8]), i32([1, 1]), 2, 1)), [8, 8]);
  assert.throws(() => be.gatherRows(table, i32([0, 5]), 3, 2), /gatherRows: idx\[1\] = 5 is outside \[0, 3\)/);
  assert.throws(() => be.gatherRows(table, i32([-1]), 3, 2), /idx\[0\] = -1/);
  const src = f32([1, 2, 3, 4, 5, 6]); // [3, 2]
  assert.equal(read(be.scatterAddRows(src, i32([1, 0, 1]), 3, 2)), [3, 4, 6, 8, 0, 0]);
  assert.throws(() => be.scatterAddRows(src, i32([0, 3, 1]), 3, 2), /scatterAddRows: idx\[1\] = 3/);
  assert.throws(() => be.gatherRows(table, f32([0]), 3, 2), /gatherRows: idx must be i32/);
});

test('strided and writeStrided: general views, rank 0, bounds', () => {
  const x = f32([0, 1, 2, 3, 4, 5]); // [2, 3]
  assert.equal(read(be.strided(x, [3, 2], [1, 3], 0)), [0, 3, 1, 4, 2, 5]); // transpose
  assert.equal(read(be.strided(x, [2, 2], [-3, -1], 5)), [5, 4, 2, 1]); // flipped
  assert.equal(read(be.strided(x, [2, 3], [0, 1], 3)), [3, 4, 5, 3, 4, 5]); // broadcast
  assert.equal(read(be.strided(x, [], [], 4)), [4]); // rank 0
  assert.equal(read(be.strided(x, [0, 3], [3, 1], 99)), []); // empty: nothing to check
  assert.throws(() => be.strided(x, [2, 3], [3, 1], 1), /strided: x addresses \[1, 6\] fall outside its storage of 6/);
  assert.throws(() => be.strided(x, [2], [-1], 0), /strided: x addresses \[-1, 0\]/);
  const dst = be.zeros(6, 'f32');
  be.writeStrided(f32([7, 8]), dst, [2], [3], 1); // column 1
  be.writeStrided(f32([9]), dst, [], [], 5);
  assert.equal(read(dst), [0, 7, 0, 0, 8, 9]);
  assert.throws(() => be.writeStrided(f32([1, 2]), dst, [2], [3], 3), /writeStrided: dst addresses \[3, 6\]/);
  assert.throws(() => be.writeStrided(i32([1]), dst, [1], [1], 0), /writeStrided: dst must be i32/);
});

/** torch's Adam order in plain doubles, or with float32 rounding (without fma) when `rd` = fround. */
function adamDirect(p: number[], g: number[], m: number[], v: number[], step: number, rd: (x: number) => number) {
  const [lr, b1, b2, eps, wd] = [1e-2, 0.9, 0.999, 1e-8, 0.1];
  const bc1 = 1 - b1 ** step;
  const bc2 = 1 - b2 ** step;
  for (let i = 0; i < p.length; i++) {
    const gi = rd(g[i] + rd(rd(wd) * p[i]));
    m[i] = rd(rd(rd(b1) * m[i]) + rd(rd(1 - b1) * gi));
    v[i] = rd(rd(rd(b2) * v[i]) + rd(rd(rd(1 - b2) * gi) * gi));
    const denom = rd(rd(rd(Math.sqrt(v[i])) / rd(Math.sqrt(bc2))) + rd(eps));
    p[i] = rd(p[i] + rd(rd(-rd(lr / bc1) * m[i]) / denom));
  }
}

test('adam: a few steps against a direct implementation (f64 exact, f32 within 1 ulp)', () => {
  const args = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
  for (const [b, rd, ulps] of [[be64, (x: number) => x, 0], [be, Math.fround, 1]] as const) {
    const p0 = rand(6, 11).map(Math.fround);
    const [p, m, v] = [b.uploadF64(new Float64Array(p0)), b.zeros(6, 'f32'), b.zeros(6, 'f32')];
    const [pd, md, vd] = [p0.slice(), [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]];
    for (let step = 1; step <= 3; step++) {
      const g = rand(6, 20 + step).map(Math.fround);
      const gs = b.uploadF64(new Float64Array(g));
      b.adam(p, gs, m, v, { ...args, step });
      adamDirect(pd, g, md, vd, step, rd);
      b.free(gs);
    }
    closeUlps(b.readF64(p), pd, ulps, `param (${b.precision})`);
    closeUlps(b.readF64(m), md, ulps, `m (${b.precision})`);
    closeUlps(b.readF64(v), vd, ulps, `v (${b.precision})`);
  }
  // The first step moves each parameter by about lr against the gradient's sign.
  const p = f32([1]);
  be.adam(p, f32([-3]), be.zeros(1, 'f32'), be.zeros(1, 'f32'), { ...args, weightDecay: 0, step: 1 });
  close(read(p), [1.01], 1e-6, 'first step');
});

test('fma32 rounds once: no double rounding', () => {
  // (1+2^-23)(1−2^-23) + (2^24+2) = 2^24 + 3 − 2^-46: just below the midpoint, so it rounds down, while
  // fround of the double sum sees the exact midpoint 2^24 + 3 and ties to even (up).
  const [a, b, c] = [1 + 2 ** -23, 1 - 2 ** -23, 2 ** 24 + 2];
  assert.is(Math.fround(a * b + c), 2 ** 24 + 4);
  assert.is(fma32(a, b, c), 2 ** 24 + 2);
  assert.is(fma32(-a, b, -c), -(2 ** 24 + 2));
  assert.is(fma32(3, 0.5, 1), 2.5);
});

test('error messages name the backend and the kernel', () => {
  assert.throws(() => be.reduce('sum', f32([1, 2, 3]), 1, 2, 1), /^reference backend: reduce: x has 3 elements, expected 2/);
  assert.throws(() => be.softmax(f32([1]), -1, 1), /reference backend: softmax: rows must be a non-negative integer/);
  assert.throws(() => be.unary('nope' as UnaryOp, f32([1])), /reference backend: unary: unknown op 'nope'/);
  assert.throws(() => be.adam(f32([1]), f32([1]), f32([1]), f32([1]),
    { lr: 1, beta1: 0.9, beta2: 0.9, eps: 1e-8, weightDecay: 0, step: 0 }), /reference backend: adam: step/);
});

test.run();
