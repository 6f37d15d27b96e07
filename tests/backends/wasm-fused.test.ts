// The wasm backend's optional fused kernels (dotCrossEntropy and its gradient, philoxUniform, gramF64,
// symmetricEigen) and its vectorised exp: against the engine's composed path on the reference backend, the
// host Random stream, a double-precision Gram and the host eigen-solve, on shapes that cross the SIMD / tile /
// block edges. Build the module first: npm run build:wasm.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createWasmBackend } from '../../backends/wasm/index.js';
import { createReferenceBackend } from '../../backends/reference/index.js';
import type { Backend, Storage } from '../../engine/backend.js';
import {
  dotCrossEntropy, keep, mul, Random, setBackend, sum, svd, tensor, valueAndGrads, type Tensor,
} from '../../engine/index.js';
import { assertClose, assertSameBits, randInt, randn } from '../helpers.js';
import { hostGram, symmetricEigen } from '../../engine/linalg/svd.js';

const be: Backend = await createWasmBackend();
const ref: Backend = createReferenceBackend();
const read = (s: Storage) => be.readSync!(s);
const EDGES = [1, 3, 4, 5, 63, 64, 65, 257];

// ---- dotCrossEntropy ------------------------------------------------------------------------------

interface CeResult { loss: Float32Array; dq: Float32Array; dk: Float32Array }

/** loss and the gradients of Σ dy·loss through the engine on backend b (fused where b has the kernels). */
function crossEntropy(b: Backend, q: Float32Array, k: Float32Array, t: Int32Array, dy: Float32Array,
  rows: number, n: number, d: number): CeResult {
  setBackend(b);
  const Q = tensor(q, [rows, d]), K = tensor(k, [n, d]), T = tensor(t, [rows]), DY = tensor(dy, [rows]);
  let loss!: Tensor;
  const { value, grads } = valueAndGrads(() => { loss = keep(dotCrossEntropy(Q, K, T)); return sum(mul(loss, DY)); }, [Q, K]);
  const out = { loss: loss.dataSync() as Float32Array, dq: grads[0]!.dataSync() as Float32Array, dk: grads[1]!.dataSync() as Float32Array };
  for (const x of [Q, K, T, DY, value, loss, ...grads]) x?.dispose();
  return out;
}

/** Scores q·kᵀ/τ-like: unit-ish rows scaled so that the softmax is neither flat nor one-hot. */
function ceInputs(rows: number, n: number, d: number, seed: number, scale = 3) {
  const s = scale / Math.sqrt(d);
  return {
    q: randn(seed, rows * d, s), k: randn(seed + 1, n * d, 1), t: randInt(seed + 2, rows, 0, n),
    dy: Float32Array.from(randn(seed + 3, rows, 1), (v) => 1 + 0.5 * v),
  };
}

// Inputs are O(1), so are the gradients: an absolute floor keeps exact zeros (n = 1: p = 1 at the target)
// from being held to the reference's rounding noise.
const CE_TOL = { atol: 1e-5, rtol: 2e-5 };

test('dotCrossEntropy + gradient: fused wasm vs the composed path on the reference backend (edges)', () => {
  let seed = 100;
  for (const d of [1, 5, 64]) {
    for (const rows of EDGES) {
      for (const n of EDGES) {
        if (rows * n > 257 * 65 && d === 1) continue;
        const { q, k, t, dy } = ceInputs(rows, n, d, seed += 10);
        const want = crossEntropy(ref, q, k, t, dy, rows, n, d);
        const got = crossEntropy(be, q, k, t, dy, rows, n, d);
        const tag = `rows ${rows} n ${n} d ${d}`;
        assertClose(got.loss, want.loss, CE_TOL, `loss ${tag}`);
        assertClose(got.dq, want.dq, CE_TOL, `dq ${tag}`, [rows, d]);
        assertClose(got.dk, want.dk, CE_TOL, `dk ${tag}`, [n, d]);
      }
    }
  }
});

test('dotCrossEntropy: several key blocks, partial row blocks, wide scores, d above the packing block', () => {
  let seed = 900;
  for (const [rows, n, d, scale] of [[203, 1000, 64, 20], [401, 517, 33, 5], [7, 3000, 8, 40], [12, 300, 300, 3]]) {
    const { q, k, t, dy } = ceInputs(rows, n, d, seed += 10, scale);
    const want = crossEntropy(ref, q, k, t, dy, rows, n, d);
    const got = crossEntropy(be, q, k, t, dy, rows, n, d);
    const tag = `rows ${rows} n ${n} d ${d} scale ${scale}`;
    assertClose(got.loss, want.loss, CE_TOL, `loss ${tag}`);
    assertClose(got.dq, want.dq, CE_TOL, `dq ${tag}`, [rows, d]);
    assertClose(got.dk, want.dk, CE_TOL, `dk ${tag}`, [n, d]);
  }
});

test('dotCrossEntropy kernels: lse output, same bits twice, no leaks', () => {
  const rows = 67, n = 300, d = 20;
  const { q, k, t, dy } = ceInputs(rows, n, d, 77, 8);
  const live = be.liveBuffers();
  const [qs, ks, ts, dys] = [be.upload(q), be.upload(k), be.upload(t), be.upload(dy)];
  const a = be.dotCrossEntropy!(qs, ks, ts, rows, n, d), b = be.dotCrossEntropy!(qs, ks, ts, rows, n, d);
  // lse against double precision
  const lse = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const s = Array.from({ length: n }, (_, j) => { let v = 0; for (let p = 0; p < d; p++) v += q[i * d + p] * k[j * d + p]; return v; });
    const m = Math.max(...s);
    lse[i] = m + Math.log(s.reduce((acc, v) => acc + Math.exp(v - m), 0));
  }
  assertClose(read(a.lse), lse, { atol: 1e-6, rtol: 1e-6 }, 'lse');
  assertSameBits(read(a.loss), read(b.loss), 'loss twice');
  assertSameBits(read(a.lse), read(b.lse), 'lse twice');
  const g1 = be.dotCrossEntropyGrad!(qs, ks, ts, a.lse, dys, rows, n, d);
  const g2 = be.dotCrossEntropyGrad!(qs, ks, ts, a.lse, dys, rows, n, d);
  assertSameBits(read(g1.dq), read(g2.dq), 'dq twice');
  assertSameBits(read(g1.dk), read(g2.dk), 'dk twice');
  for (const s of [qs, ks, ts, dys, a.loss, a.lse, b.loss, b.lse, g1.dq, g1.dk, g2.dq, g2.dk]) be.free(s);
  assert.is(be.liveBuffers(), live);
});

test('dotCrossEntropy: degenerate rows and shapes, bad targets', () => {
  // d = 0: every score is 0, lse = log n; rows = 0: empty outputs; an infinite score gives lse = +Inf.
  const e = be.upload(new Float32Array(0)), t3 = be.upload(Int32Array.from([0, 2, 1]));
  const r0 = be.dotCrossEntropy!(e, e, t3, 3, 5, 0);
  assertClose(read(r0.lse), [Math.log(5), Math.log(5), Math.log(5)], { atol: 1e-6, rtol: 0 }, 'd = 0 lse');
  const ones = be.upload(new Float32Array([1, 1, 1]));
  const g0 = be.dotCrossEntropyGrad!(e, e, t3, r0.lse, ones, 3, 5, 0);
  assert.is(g0.dq.size, 0); assert.is(g0.dk.size, 0);
  const te = be.upload(new Int32Array(0)), k = be.upload(new Float32Array([1, 2, 3, 4]));
  const r1 = be.dotCrossEntropy!(e, k, te, 0, 2, 2);
  assert.is(r1.loss.size, 0);
  const q = be.upload(new Float32Array([Infinity, 0, NaN, 1, 1, 1])), t = be.upload(Int32Array.from([0, 1, 1]));
  const r2 = be.dotCrossEntropy!(q, k, t, 3, 2, 2);
  const l2 = Array.from(read(r2.lse));
  assert.equal([l2[0], Number.isNaN(l2[1])], [Infinity, true]);
  assertClose([l2[2]], [7 + Math.log1p(Math.exp(-4))], { atol: 1e-6, rtol: 1e-6 }, 'finite row');
  const bad = be.upload(Int32Array.from([0, 2, 1]));
  assert.throws(() => be.dotCrossEntropy!(q, k, bad, 3, 2, 2), /target index 2 at position 1 is out of range \[0, 2\)/);
  assert.throws(() => be.dotCrossEntropy!(q, k, t, 3, 3, 2), /needs 6/);
  for (const s of [e, t3, ones, te, k, q, t, bad, r0.loss, r0.lse, g0.dq, g0.dk, r1.loss, r1.lse, r2.loss, r2.lse]) be.free(s);
});

// ---- the vectorised exp ---------------------------------------------------------------------------

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const bitsOf = (v: number) => { f32[0] = v; return u32[0]; };

test('exp: ≤ 1 ulp from the correctly rounded result over [−104, 89], specials exact', () => {
  const N = 1 << 20;
  const x = Float32Array.from({ length: N }, (_, i) => -104 + (193 * i) / (N - 1));
  const xs = be.upload(x), ys = be.unary('exp', xs), y = read(ys);
  let worst = 0, at = 0;
  for (let i = 0; i < N; i++) {
    const d = Math.abs(bitsOf(y[i]) - bitsOf(Math.exp(x[i])));
    if (d > worst) { worst = d; at = x[i]; }
  }
  assert.ok(worst <= 1, `exp: ${worst} ulp at ${at}`);
  const sx = [-Infinity, Infinity, NaN, 0, -0, 88.72283, 88.7229, 1e30, -1e30, -103.97, -103.2, -87.5, 1e-30, -1e-30, 1];
  const ss = be.upload(Float32Array.from(sx)), sy = be.unary('exp', ss);
  assertSameBits(read(sy), Float32Array.from(sx, (v) => Math.exp(Math.fround(v))), 'exp specials');
  for (const s of [xs, ys, ss, sy]) be.free(s);
});

test('exp-based unary ops and gradients on every length (tails) and in the tails of the functions', () => {
  const sig = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
  const cases: [string, (v: number) => number, (v: number) => number][] = [
    ['exp', Math.exp, Math.exp],
    ['sigmoid', sig, (v) => sig(v) * sig(-v)],
    ['silu', (v) => v * sig(v), (v) => sig(v) * (1 + v * sig(-v))],
  ];
  for (const [op, f, df] of cases) {
    for (const n of [...EDGES, 1001]) {
      const x = Float32Array.from(randn(n + 5, n, 1), (v) => v * (op === 'exp' ? 10 : 30));
      const dy = randn(n + 6, n, 1);
      const [xs, ds] = [be.upload(x), be.upload(dy)];
      const y = be.unary(op as 'exp', xs), g = be.unaryGrad(op as 'exp', xs, ds);
      // a few ulp of each element (relative), the sigmoid family also near its zeros
      assertClose(read(y), Array.from(x, f), { atol: 1e-37, rtol: 4e-7, relTo: 'element' }, `${op}[${n}]`);
      // silu' crosses zero (x ≈ −1.28): there 1 + x·(1 − σ) cancels, so allow a little absolute error;
      // σ' is the f64 path's s·(1 − s), relative to the scale only (it cancels for large x)
      const tol = op === 'silu' ? { atol: 3e-8, rtol: 1e-6, relTo: 'element' as const }
        : op === 'sigmoid' ? { atol: 0, rtol: 1e-6 } : { atol: 1e-37, rtol: 1e-6, relTo: 'element' as const };
      assertClose(read(g), Array.from(x, (v, i) => df(v) * dy[i]), tol, `${op}'[${n}]`);
      for (const s of [xs, ds, y, g]) be.free(s);
    }
  }
  const sp = be.upload(new Float32Array([Infinity, -Infinity, NaN, 0, -0, 100, -100]));
  const one = be.upload(new Float32Array(7).fill(1));
  const val = (op: 'sigmoid' | 'silu', grad = false) => {
    const r = grad ? be.unaryGrad(op, sp, one) : be.unary(op, sp);
    const v = Array.from(read(r)); be.free(r); return v;
  };
  assert.equal(val('sigmoid'), [1, 0, NaN, 0.5, 0.5, 1, Math.fround(sig(-100))]);
  assert.equal(val('sigmoid', true).slice(0, 5), [0, 0, NaN, 0.25, 0.25]);
  assert.equal(val('silu').slice(0, 6), [Infinity, NaN, NaN, 0, -0, 100]);
  be.free(sp); be.free(one);
});

test('softmax keeps small probabilities accurate (the rounding of x − max is corrected)', () => {
  const rows = 3, n = 301;
  const x = Float32Array.from(randn(4242, rows * n, 1), (v) => v * 25);
  const xs = be.upload(x), ys = be.softmax(xs, rows, n), y = read(ys);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(r * n, (r + 1) * n)), m = Math.max(...row);
    const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
    const want = row.map((v) => Math.exp(v - m) / s);
    assertClose(y.subarray(r * n, (r + 1) * n), want, { atol: 1e-40, rtol: 1e-6, relTo: 'element' }, `softmax row ${r}`);
  }
  be.free(xs); be.free(ys);
});

// ---- philoxUniform --------------------------------------------------------------------------------

test('philoxUniform: bit-identical to Random.uniform from any position, across blocks and the 2^32-block carry', () => {
  const cases: [number, number, number][] = [
    [0, 0, 1], [0, 0, 16], [1, 0, 17], [42, 1, 3], [42, 2, 5], [42, 3, 64], [7, 5, 257], [123456789, 13, 1000],
    [2 ** 40 + 12345, 6, 333], [2 ** 53 - 1, 0, 40], [99, 2 ** 34 - 7, 50], [99, 2 ** 34 - 16, 64], [5, 2 ** 53 - 33, 30],
    [3, 4 * 0xfffffffe + 1, 21], [8, 0, 0], [11, 2 ** 36 + 3, 4099],
  ];
  for (const [seed, position, n] of cases) {
    const want = new Random(seed, position).uniform(n);
    const k0 = seed >>> 0, k1 = Math.floor(seed / 2 ** 32) >>> 0;
    const s = be.philoxUniform!(k0, k1, position, n);
    assert.is(s.size, n);
    assertSameBits(read(s), want, `seed ${seed} position ${position} n ${n}`);
    be.free(s);
  }
});

test('Random.rand on the wasm backend: the stream continues exactly where the host left off', () => {
  setBackend(be);
  const a = new Random(31337), b = new Random(31337);
  const host = [...b.uniform(5), ...b.uniform(123), ...b.uniform(7)];
  const parts = [a.rand([5]), a.rand([3, 41]), a.rand([7])];
  assertSameBits(parts.flatMap((p) => Array.from(p.dataSync())), host, 'rand vs uniform');
  assert.equal(a.state(), b.state());
  for (const p of parts) p.dispose();
});

// ---- gramF64 --------------------------------------------------------------------------------------

test('gramF64: the same bits as the host f64 Gram (same order per entry), on edge shapes, on 1 and 3 threads', async () => {
  let seed = 5000;
  const three = await createWasmBackend({ threads: 3, splitScale: 0 }); // rows and tiles split even when small
  for (const rows of [1, 3, 4, 5, 63, 64, 65, 257, 2000]) {
    for (const d of [1, 2, 3, 4, 5, 7, 8, 63, 64, 65]) {
      if (rows === 2000 && d < 63) continue;
      const x = randn(seed++, rows * d, 1);
      for (const b of [be, three]) {
        const xs = b.upload(x);
        const g = b.gramF64!(xs, rows, d);
        assert.ok(g instanceof Float64Array && g.length === d * d);
        assertSameBits(g, hostGram(x, rows, d), `gram ${rows}×${d}`);
        b.free(xs);
      }
    }
  }
  three.destroy();
  const xs = be.upload(new Float32Array([1, NaN, Infinity, 2]));
  const g = be.gramF64!(xs, 2, 2);
  assertSameBits(g, hostGram(new Float32Array([1, NaN, Infinity, 2]), 2, 2), 'gram specials');
  be.free(xs);
});

test('symmetricEigen: the same bits as the host eigen-solve (full rank, rank-deficient, ties, zero)', () => {
  let seed = 6000;
  for (const [rows, d] of [[2000, 64], [40, 64], [65, 65], [9, 3], [1, 1]]) {
    const g = hostGram(randn(seed++, rows * d, 1), rows, d);
    const got = be.symmetricEigen!(g, d), want = symmetricEigen(g, d);
    assertSameBits(got.values, want.values, `values ${rows}×${d}`);
    assertSameBits(got.vectors, want.vectors, `vectors ${rows}×${d}`);
  }
  const ties = new Float64Array(25); // eigenvalue 2 three times, 0 twice: order by index
  for (const i of [0, 2, 4]) ties[i * 5 + i] = 2;
  assertSameBits(be.symmetricEigen!(ties, 5).vectors, symmetricEigen(ties, 5).vectors, 'ties');
  assert.equal(Array.from(be.symmetricEigen!(ties, 5).values), [2, 2, 2, 0, 0]);
  assert.equal(be.symmetricEigen!(new Float64Array(0), 0).values.length, 0);
  assert.throws(() => be.symmetricEigen!(new Float64Array(3), 2), /symmetricEigen needs n × n = 4 values, got 3/);
});

test('svd on the wasm backend (gramF64) matches the reference backend', async () => {
  const x = randn(77, 300 * 16, 1);
  const res: Float32Array[][] = [];
  for (const b of [ref, be]) {
    setBackend(b);
    const X = tensor(x, [300, 16]);
    const { U, S, Vh } = await svd(X);
    res.push([U, S, Vh].map((t) => t.dataSync() as Float32Array));
    for (const t of [X, U, S, Vh]) t.dispose();
  }
  // S and Vh come from the Gram on the host (identical bits); U = X·V·S⁻¹ goes through each backend's matmul
  assertClose(res[1][0], res[0][0], { atol: 1e-6, rtol: 1e-5 }, 'U');
  assertSameBits(res[1][1], res[0][1], 'S');
  assertSameBits(res[1][2], res[0][2], 'Vh');
});

test('no leaks', () => {
  assert.is(be.liveBuffers(), 0);
});

test.run();
