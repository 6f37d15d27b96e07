/**
 * matmul 4096³ on the webgpu backend (NN and NT): warm-up, then the median of timed runs, each ended by
 * `sync()` (the GPU has finished), with sampled entries checked against float64 dot products.
 * Prints one JSON object. Usage: node dist/benchmarks/gpu/matmul4096.js [--n 4096] [--repeat 5]
 */
import { createBackend } from '../../backends/index.js';
import type { WebGpuBackend } from '../../backends/webgpu/index.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const n = Number(arg('n', '4096'));
const repeat = Number(arg('repeat', '5'));

function uniform(count: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 32 * 2 - 1;
  }
  return out;
}

const backend = await createBackend('webgpu') as WebGpuBackend;
const A = uniform(n * n, 1), B = uniform(n * n, 2);
const a = backend.upload(A), b = backend.upload(B);
const rows: unknown[] = [];
for (const transB of [false, true]) {
  const args = { batch: 1, m: n, n, k: n, transA: false, transB, aBatchStride: 0, bBatchStride: 0 };
  const times: number[] = [];
  let c = backend.matmul(a, b, args);
  await backend.sync();
  for (let r = 0; r < repeat + 1; r++) {
    backend.free(c);
    const t0 = performance.now();
    c = backend.matmul(a, b, args);
    await backend.sync();
    if (r > 0) times.push(performance.now() - t0);
  }
  const C = await backend.read(c) as Float32Array;
  backend.free(c);
  // Sampled entries against float64 dot products.
  let maxRel = 0;
  for (let s = 0; s < 64; s++) {
    const i = (s * 977) % n, j = (s * 1531 + 7) % n;
    let acc = 0, mag = 0;
    for (let p = 0; p < n; p++) {
      const bv = transB ? B[j * n + p] : B[p * n + j];
      acc += A[i * n + p] * bv;
      mag += Math.abs(A[i * n + p] * bv);
    }
    maxRel = Math.max(maxRel, Math.abs(C[i * n + j] - acc) / mag);
  }
  times.sort((x, y) => x - y);
  const ms = times[times.length >> 1];
  rows.push({ op: 'matmul', variant: transB ? 'NT' : 'NN', shape: [n, n, n], medianMs: Math.round(ms * 1000) / 1000,
    gflops: Math.round(2 * n ** 3 / (ms * 1e6) * 10) / 10, timesMs: times.map((t) => Math.round(t * 100) / 100),
    maxRelErrorVsF64: maxRel });
}
console.log(JSON.stringify({ backend: 'webgpu', adapter: backend.adapterInfo, fallback: backend.fallback, rows }, null, 1));
backend.destroy();
