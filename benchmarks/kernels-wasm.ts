// The wasm backend's fused kernels and exp:
//   node --import tsx benchmarks/kernels-wasm.ts [reps] [--only name,...] [--baseline old/kernels.wasm]
// Prints one JSON object: for each benchmark the median and best wall time (ms) over `reps` timed runs after
// warm-up (V8 tiers the kernels up), the best CPU time of a run, and derived rates. The machine may be
// shared: compare best times.
// --baseline also runs the composed dotCrossEntropy and the exp-heavy ops on an older build of the kernels
// (e.g. one built from an earlier commit), through this backend class.
//
// - dotCrossEntropy fwd+bwd at the Office shape (2000×64 queries, 2420 keys) through the engine, fused
//   kernels vs the composed path (the same engine ops on a backend without the fused kernels), and the
//   fused pair alone at n = 20k / 200k keys (the scaling benchmark's size);
// - exp / sigmoid / softmax / logSumExp throughput;
// - philoxUniform of 3M values vs the host Random.uniform;
// - gramF64 of 2000×64 vs the host Gram.
import { createWasmBackend } from '../backends/wasm/index.js';
import type { Backend } from '../engine/backend.js';
import { hostGram } from '../engine/linalg/svd.js';
import {
  dotCrossEntropy, Random, setBackend, sum, tensor, valueAndGrads,
} from '../engine/index.js';

const args = process.argv.slice(2);
const reps = Number(args.find((a) => /^\d+$/.test(a)) ?? 9);
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? args[onlyArg + 1].split(',') : null;
const baselineArg = args.indexOf('--baseline');
const be = await createWasmBackend();
const old = baselineArg >= 0
  ? await createWasmBackend({ module: await (await import('node:fs/promises')).readFile(args[baselineArg + 1]) })
  : null;

/** The wasm backend without its optional fused kernels: the engine composes them from basic ops. */
function withoutFused(b: Backend): Backend {
  const hidden = new Set(['dotCrossEntropy', 'dotCrossEntropyGrad', 'philoxUniform', 'gramF64']);
  return new Proxy(b, {
    get(target, prop, receiver) {
      if (hidden.has(prop as string)) return undefined;
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
    has(target, prop) { return !hidden.has(prop as string) && Reflect.has(target, prop); },
  });
}

/** Wall time (median, best) and the best process CPU time (user + system) per run, in ms. */
function time(fn: () => void, warm = 3): { median: number; best: number; bestCpu: number } {
  for (let i = 0; i < warm; i++) fn();
  const ts: number[] = [], cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  ts.sort((a, b) => a - b);
  return { median: +ts[ts.length >> 1].toFixed(3), best: +ts[0].toFixed(3), bestCpu: +Math.min(...cpu).toFixed(3) };
}

let seed = 1;
const rnd = (n: number, scale = 1) => Float32Array.from({ length: n }, () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return ((seed / 2 ** 32) * 2 - 1) * scale;
});

const results: Record<string, unknown> = {};
const want = (name: string) => !only || only.includes(name);

if (want('dotCrossEntropy')) {
  const rows = 2000, n = 2420, d = 64;
  const q = rnd(rows * d, 0.6), k = rnd(n * d, 0.2);
  const t = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % n);
  const engineStep = (b: Backend) => () => {
    setBackend(b);
    const Q = tensor(q, [rows, d]), K = tensor(k, [n, d]), T = tensor(t, [rows]);
    const { value, grads } = valueAndGrads(() => sum(dotCrossEntropy(Q, K, T)), [Q, K]);
    for (const x of [Q, K, T, value, ...grads]) x?.dispose();
  };
  const fused = time(engineStep(be));
  const composed = time(engineStep(withoutFused(be)), 2);
  const composedBaseline = old ? time(engineStep(withoutFused(old)), 2) : undefined;
  // the two kernels alone, and the forward alone
  const [qs, ks, ts] = [be.upload(q), be.upload(k), be.upload(t)];
  const dy = be.upload(new Float32Array(rows).fill(1));
  const fwd = time(() => { const r = be.dotCrossEntropy!(qs, ks, ts, rows, n, d); be.free(r.loss); be.free(r.lse); });
  const r = be.dotCrossEntropy!(qs, ks, ts, rows, n, d);
  const bwd = time(() => { const g = be.dotCrossEntropyGrad!(qs, ks, ts, r.lse, dy, rows, n, d); be.free(g.dq); be.free(g.dk); });
  const mm = time(() => be.free(be.matmul(qs, ks, { batch: 1, m: rows, n, k: d, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 })));
  for (const s of [qs, ks, ts, dy, r.loss, r.lse]) be.free(s);
  const gflop = 2 * rows * n * d / 1e9;
  results.dotCrossEntropy = {
    shape: `${rows}×${d} queries, ${n} keys`,
    engineFusedFwdBwd: fused, engineComposedFwdBwd: composed, speedupBest: +(composed.best / fused.best).toFixed(2),
    ...(composedBaseline ? { engineComposedFwdBwdBaselineBuild: composedBaseline, speedupVsBaselineBest: +(composedBaseline.best / fused.best).toFixed(2) } : {}),
    kernelForward: fwd, kernelBackward: bwd, matmulNT: mm,
    matmulEquivalents: { forward: +(fwd.best / mm.best).toFixed(2), backward: +(bwd.best / mm.best).toFixed(2) },
    gflopsMatmulBest: +(gflop / mm.best * 1e3).toFixed(1),
  };
  for (const big of [20_000, 200_000]) {
    const kb = be.upload(rnd(big * d, 0.2)), tb = be.upload(Int32Array.from({ length: rows }, (_, i) => (i * 7919) % big));
    const qb = be.upload(q), dyb = be.upload(new Float32Array(rows).fill(1));
    const pair = time(() => {
      const f = be.dotCrossEntropy!(qb, kb, tb, rows, big, d);
      const g = be.dotCrossEntropyGrad!(qb, kb, tb, f.lse, dyb, rows, big, d);
      for (const s of [f.loss, f.lse, g.dq, g.dk]) be.free(s);
    }, 1);
    results[`dotCrossEntropy_n${big}`] = { fwdBwd: pair, gflopsEffective: +(4 * 2 * rows * big * d / 1e9 / pair.best * 1e3).toFixed(1) };
    for (const s of [kb, tb, qb, dyb]) be.free(s);
  }
}

if (want('exp')) {
  const N = 1 << 20;
  const data = rnd(N, 30);
  const rate = (ms: number) => +(N / ms / 1e3).toFixed(0);
  for (const [label, b] of [['exp', be], ['expBaselineBuild', old]] as const) {
    if (!b) continue;
    const x = b.upload(data);
    const out: Record<string, unknown> = { elements: N };
    for (const op of ['exp', 'sigmoid', 'silu', 'tanh'] as const) {
      const r = time(() => b.free(b.unary(op, x)));
      out[op] = { ...r, millionPerSecondBest: rate(r.best) };
    }
    const eg = time(() => b.free(b.unaryGrad('exp', x, x)));
    const sm = time(() => b.free(b.softmax(x, 512, 2048)));
    const lse = time(() => b.free(b.logSumExp(x, 512, 2048)));
    out.expGrad = { ...eg, millionPerSecondBest: rate(eg.best) };
    out.softmax512x2048 = { ...sm, millionPerSecondBest: rate(sm.best) };
    out.logSumExp512x2048 = { ...lse, millionPerSecondBest: rate(lse.best) };
    b.free(x);
    results[label] = out;
  }
}

if (want('philox')) {
  const n = 3_000_000;
  const dev = time(() => be.free(be.philoxUniform!(12345, 0, 3, n)));
  const host = time(() => new Random(12345, 3).uniform(n), 1);
  results.philoxUniform3M = { wasm: dev, host, speedupBest: +(host.best / dev.best).toFixed(1) };
}

if (want('gram')) {
  const rows = 2000, d = 64;
  const xData = rnd(rows * d);
  const x = be.upload(xData);
  const dev = time(() => be.gramF64!(x, rows, d));
  const host = time(() => hostGram(xData, rows, d));
  be.free(x);
  results.gramF64_2000x64 = { wasm: dev, hostGram: host, speedupBest: +(host.best / dev.best).toFixed(1) };
}

console.log(JSON.stringify({ reps, results }, null, 2));
