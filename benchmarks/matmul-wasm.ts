// Matmul throughput of the wasm backend: node --import tsx benchmarks/matmul-wasm.ts [reps]
// Each shape is warmed up (V8 tiers the kernels up), then timed; GFLOP/s from the median and best run.
import { createWasmBackend } from '../backends/wasm/index.js';

const be = await createWasmBackend();
const reps = Number(process.argv[2] ?? 9);
const shapes: [string, number, number, number, boolean, boolean][] = [
  ['NN 1024³', 1024, 1024, 1024, false, false],
  ['NT 1024³', 1024, 1024, 1024, false, true],
  ['TN 1024³', 1024, 1024, 1024, true, false],
  ['NT [2000×64]·[2420×64]ᵀ', 2000, 2420, 64, false, true],
  ['NN [2000×192]·[192×64]', 2000, 64, 192, false, false],
];
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
for (const [name, m, n, k, transA, transB] of shapes) {
  const a = be.upload(rand(m * k)), b = be.upload(rand(k * n));
  const args = { batch: 1, m, n, k, transA, transB, aBatchStride: 0, bBatchStride: 0 };
  const times: number[] = [];
  for (let r = 0; r < reps + 3; r++) {
    const t0 = performance.now();
    be.free(be.matmul(a, b, args));
    if (r >= 3) times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  const gf = (t: number) => (2 * m * n * k / t / 1e6).toFixed(1);
  console.log(`${name.padEnd(26)} median ${times[times.length >> 1].toFixed(2).padStart(7)} ms  ${gf(times[times.length >> 1]).padStart(5)} GFLOP/s   best ${gf(times[0]).padStart(5)}`);
  be.free(a); be.free(b);
}
