// The wasm backend's worker threads: every kernel that splits its work gives the same bits on 1, 2 and 3
// threads (splitScale 0 splits even these small calls), for both kernel builds where the runtime runs them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import type { Backend, Storage } from '../../engine/backend.js';
import { createWasmBackend, type WasmBackend } from '../../backends/wasm/index.js';
import { relaxedSimdSupported } from '../../backends/wasm/load.js';
import { assertClose } from '../helpers.js';
import { createReferenceBackend } from '../../backends/reference/index.js';

setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20: lets the relaxed build run too

/** Deterministic data in [lo, hi). */
function data(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 2 ** 32);
  });
}
const ints = (n: number, limit: number, seed: number) => Int32Array.from(data(n, seed, 0, limit), Math.floor);

type Case = [name: string, run: (b: Backend) => Storage[]];
const mm = (batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean, aBS = m * k, bBS = k * n): Case =>
  [`matmul ${batch}×${m}×${n}×${k}${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}`, (b) => [b.matmul(
    b.upload(data(batch * m * k, m + 7 * k)), b.upload(data(batch * k * n, n + 3 * k)),
    { batch, m, n, k, transA, transB, aBatchStride: aBS, bBatchStride: bBS })]];

const CASES: Case[] = [
  mm(1, 203, 37, 70, false, false), mm(1, 13, 301, 64, false, true), mm(1, 64, 96, 300, true, false),
  mm(1, 37, 29, 1100, true, false), mm(1, 64, 72, 2000, false, true), // split by depth (KC blocks) on 2 and 3 threads
  mm(4, 23, 17, 9, false, false), mm(3, 31, 45, 19, true, true), mm(5, 8, 8, 8, false, false, 64, 0),
  ['unary gelu 1003', (b) => [b.unary('gelu', b.upload(data(1003, 1, -6, 6)))]],
  ['unaryGrad gelu 1003', (b) => [b.unaryGrad('gelu', b.upload(data(1003, 2, -6, 6)), b.upload(data(1003, 3)))]],
  ['unary exp 77', (b) => [b.unary('exp', b.upload(data(77, 4, -5, 5)))]],
  ['affine 1001', (b) => [b.affine(b.upload(data(1001, 5)), -1.5, 0.25)]],
  ['binary add rows + bias', (b) => [b.binary('add', b.upload(data(37 * 29, 6)), b.upload(data(29, 7)), [37, 29], [29, 1], [0, 1])]],
  ['binary mul flat', (b) => [b.binary('mul', b.upload(data(999, 8)), b.upload(data(999, 9)), [999], [1], [1])]],
  ['binary div column broadcast', (b) => [b.binary('div', b.upload(data(7 * 300, 10)), b.upload(data(7, 11, 1, 2)), [7, 300], [300, 1], [1, 0])]],
  ['reduce column sums', (b) => [b.reduce('sum', b.upload(data(301 * 75, 36)), 1, 301, 75)]],
  ['reduce row sums', (b) => [b.reduce('sum', b.upload(data(203 * 33, 37)), 203, 33, 1)]],
  ['softmax', (b) => [b.softmax(b.upload(data(41 * 57, 12, -9, 9)), 41, 57)]],
  ['logSumExp', (b) => [b.logSumExp(b.upload(data(41 * 57, 13, -9, 9)), 41, 57)]],
  ['topk', (b) => { const r = b.topk(b.upload(data(33 * 120, 14)), 33, 120, 10); return [r.values, r.indices]; }],
  ['layerNorm', (b) => { const r = b.layerNorm(b.upload(data(39 * 24, 15)), b.upload(data(24, 16)), b.upload(data(24, 17)), 39, 24, 1e-5); return [r.y, r.mean, r.rstd]; }],
  ['layerNormGrad', (b) => {
    const x = b.upload(data(39 * 24, 15)), gamma = b.upload(data(24, 16)), f = b.layerNorm(x, gamma, b.upload(data(24, 17)), 39, 24, 1e-5);
    const r = b.layerNormGrad(b.upload(data(39 * 24, 18)), x, gamma, f.mean, f.rstd, 39, 24);
    return [r.dx, r.dgamma, r.dbeta];
  }],
  ['spmm', (b) => {
    const rows = 50, cols = 40, d = 12, indptr = new Int32Array(rows + 1);
    for (let r = 0; r < rows; r++) indptr[r + 1] = indptr[r] + (r % 5);
    const nnz = indptr[rows];
    return [b.spmm(b.upload(indptr), b.upload(ints(nnz, cols, 18)), b.upload(data(nnz, 19)), b.upload(data(cols * d, 20)), rows, d)];
  }],
  ['philoxUniform', (b) => [b.philoxUniform!(7, 11, 5, 1001)]],
  ['philoxMask', (b) => [b.philoxMask!(7, 11, 5, 3001, 16384, 4 / 3)]],
  ['unaryWithDerivative gelu', (b) => { const r = b.unaryWithDerivative!('gelu', b.upload(data(70001, 35, -6, 6)))!; return [r.y, r.dydx]; }],
  ['philoxNormal', (b) => [b.philoxNormal!(7, 11, 5, 1001, 0.5, 2)]],
  ['adam', (b) => {
    const n = 1003, p = b.upload(data(n, 21)), m = b.upload(data(n, 22)), v = b.upload(data(n, 23, 0, 1));
    b.adam(p, b.upload(data(n, 24)), m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 });
    return [p, m, v];
  }],
  ...[[97, 700, 24], [450, 530, 13], [2001, 1100, 5]].map(([rows, n, d]): Case => [`dotCrossEntropy + grad ${rows}×${n}×${d}`, (b) => {
    // partial last key and row blocks; 2001 rows: the keys go in two groups of shared P panels
    const q = b.upload(data(rows * d, 25)), k = b.upload(data(n * d, 26)), t = b.upload(ints(rows, n, 27));
    const { loss, lse } = b.dotCrossEntropy!(q, k, t, rows, n, d);
    const { dq, dk } = b.dotCrossEntropyGrad!(q, k, t, lse, b.upload(data(rows, 28)), rows, n, d);
    // the same from the forward's score cache (asserted equal to the above in a test below)
    const kept = b.dotCrossEntropy!(q, k, t, rows, n, d, true);
    assert.ok(kept.scores, 'scores kept');
    const g = b.dotCrossEntropyGrad!(q, k, t, kept.lse, b.upload(data(rows, 28)), rows, n, d, kept.scores);
    return [loss, lse, dq, dk, kept.loss, kept.lse, g.dq, g.dk];
  }]),
];

test('dotCrossEntropy: keeping the scores leaves the forward\'s bits, the gradient within rounding; no cache past the bound', async () => {
  for (const threads of [1, 2]) {
    const b = await createWasmBackend({ threads, splitScale: 0 });
    try {
      for (const [name, run] of CASES.filter(([name]) => name.startsWith('dotCrossEntropy'))) {
        const out = run(b).map((s) => b.readSync(s));
        for (let i = 0; i < 2; i++) assert.equal(out[i + 4], out[i], `${name} on ${threads} threads, output ${i}`);
        // the kept path scales the forward's exp(s − m) by exp(m − lse) instead of taking exp(s − lse)
        for (let i = 2; i < 4; i++) assertClose(out[i + 4], out[i], { atol: 0, rtol: 1e-6 }, `${name} on ${threads} threads, output ${i}`);
      }
      // 2000 × 8400 scores (64 MB and more in the cache's layout) are recomputed instead
      const [rows, n, d] = [2000, 8400, 2];
      const r = b.dotCrossEntropy!(b.upload(data(rows * d, 1)), b.upload(data(n * d, 2)), b.upload(ints(rows, n, 3)), rows, n, d, true);
      assert.is(r.scores, undefined);
    } finally {
      b.destroy();
    }
  }
});

test('the relaxed-SIMD probe sees what the runtime runs', () => {
  assert.ok(relaxedSimdSupported(), 'relaxed SIMD is on (flag set above)');
});

const builds: ('plain' | 'relaxed')[] = ['plain', 'relaxed'];

for (const simd of builds) {
  test(`${simd} build: every split kernel gives the same bits on 1, 2 and 3 threads`, async () => {
    const one = await createWasmBackend({ threads: 1, simd });
    const many: WasmBackend[] = [];
    try {
      for (const threads of [2, 3]) many.push(await createWasmBackend({ threads, simd, splitScale: 0 }));
      for (const b of many) assert.is(b.build.threads, b === many[0] ? 2 : 3, 'threads running');
      for (const [name, run] of CASES) {
        const want = run(one).map((s) => one.readSync(s));
        for (const b of many) {
          const got = run(b).map((s) => b.readSync(s));
          got.forEach((g, i) => {
            const w = want[i];
            assert.is(g.length, w.length, `${name} output ${i} length`);
            for (let j = 0; j < w.length; j++) {
              if (!Object.is(g[j], w[j])) assert.unreachable(`${name} on ${b.build.threads} threads, output ${i}[${j}]: ${g[j]} vs ${w[j]}`);
            }
          });
        }
      }
    } finally {
      many.forEach((b) => b.destroy());
    }
  });
}

test('adam: both builds give the reference\'s fma32 bits (the relaxed one through its fused multiply-add)', async () => {
  const n = 4099, f32 = (x: Float32Array) => Float32Array.from(x);
  const p = data(n, 31), g = data(n, 32), m = data(n, 33, -0.1, 0.1), v = data(n, 34, 0, 0.1);
  // element 0: grad.add(param, alpha = wd) = (1 − 2^−23)(1 + 2^−23) + 2^24 + 2 rounds differently once than twice
  p[0] = 1 - 2 ** -23; g[0] = 2 ** 24 + 2;
  const args = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1 + 2 ** -23, step: 3 };
  const run = (b: Backend) => {
    const s = [p, g, m, v].map((x) => b.upload(f32(x)));
    b.adam(s[0], s[1], s[2], s[3], args);
    return s.map((x) => Array.from(b.readSync!(x)));
  };
  const want = run(createReferenceBackend({ precision: 'f32' }));
  for (const simd of ['plain', 'relaxed'] as const) {
    const b = await createWasmBackend({ threads: 1, simd });
    try {
      const got = run(b);
      ['param', 'grad', 'm', 'v'].forEach((name, i) => assert.equal(got[i], want[i], `${simd} build: ${name}`));
    } finally {
      b.destroy();
    }
  }
});

test('threads: a bad count is refused; a module without shared memory runs on one thread', async () => {
  for (const threads of [0, 1.5, -2]) {
    try { await createWasmBackend({ threads }); assert.unreachable(`threads ${threads}`); } catch (e) {
      assert.match((e as Error).message, /threads must be a positive integer/);
    }
  }
  const { loadKernelFile } = await import('../../backends/wasm/load.js');
  const b = await createWasmBackend({ module: await loadKernelFile(false, 'plain'), threads: 2 });
  assert.equal(b.build, { simd: 'given', threads: 1 });
});

test('threads: destroy stops the workers and later calls fail clearly', async () => {
  const b = await createWasmBackend({ threads: 2, splitScale: 0 });
  const x = b.upload(data(100, 1));
  b.unary('exp', x);
  b.destroy();
  assert.throws(() => b.unary('exp', x), /after destroy/);
});

test.run();
