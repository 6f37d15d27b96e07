// Conformance of the linear-algebra ops: matmul (4 transpose combinations, batched, broadcast batch),
// spmm through CsrMatrix (gradient through the transpose), gatherRows, scatterAddRows, layerNorm, svd.
import {
  CsrMatrix, gatherRows, layerNorm, matmul, Random, scatterAddRows, spmm, svd,
} from '../../engine/index.js';
import { ACCUM, EDGE_SIZES, EXACT, runConformance, type Case, type OpDef } from './harness.js';

const normal = { kind: 'normal' } as const;

/** A seeded random CSR matrix; every third row is empty when `emptyRows`. */
function randomCsr(seed: number, rows: number, cols: number, density: number, symmetric: boolean) {
  const rng = new Random(seed);
  const dense = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    if (r % 3 === 2) continue;
    for (let c = 0; c < cols; c++) {
      if (symmetric && c < r) continue;
      if (rng.uniform(1)[0] < density) {
        const v = rng.normal(1)[0];
        dense[r * cols + c] = v;
        if (symmetric) dense[c * cols + r] = v;
      }
    }
  }
  const indptr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (dense[r * cols + c] !== 0) { indices.push(c); values.push(dense[r * cols + c]); }
    indptr.push(indices.length);
  }
  return CsrMatrix.fromHost(rows, cols, Int32Array.from(indptr), Int32Array.from(indices), Float32Array.from(values), symmetric);
}

const ops: Record<string, OpDef> = {
  matmul: {
    inputs: [normal, normal],
    run: ([a, b], c) => matmul(a, b, { transA: c.args!.tA as boolean, transB: c.args!.tB as boolean }),
  },
  spmm: {
    inputs: [normal],
    build: ([dense], c) => {
      const { rows, density, symmetric } = c.args as { rows: number; density: number; symmetric?: boolean };
      const a = randomCsr(c.seed, rows, dense.shape[0], density, symmetric ?? false);
      return { fn: () => spmm(a, dense), wrt: [dense], dispose: () => a.dispose() };
    },
  },
  gatherRows: {
    inputs: (c) => [normal, { kind: 'int', lo: 0, hi: c.shapes[0][0] }],
    run: ([table, idx]) => gatherRows(table, idx),
    grad: [0],
  },
  scatterAddRows: {
    inputs: (c) => [normal, { kind: 'int', lo: 0, hi: c.args!.n as number }],
    run: ([src, idx], c) => scatterAddRows(src, idx, c.args!.n as number),
    grad: [0],
  },
  layerNorm: {
    inputs: [{ kind: 'normal', std: 3 }, { kind: 'uniform', lo: 0.5, hi: 1.5 }, normal],
    run: ([x, g, b]) => layerNorm(x, g, b, 1e-5),
  },
  svd: {
    inputs: [normal],
    run: async ([x]) => { const r = await svd(x); return [r.U, r.S, r.Vh]; },
  },
};

let seed = 4000;
const cases: Case[] = [];

// matmul: (m, n, k) mixed from the SIMD edge sizes, each with all four transpose combinations.
const MNK: [number, number, number][] = [
  [1, 1, 1], [3, 4, 5], [5, 3, 4], [4, 5, 3], [1, 65, 64], [64, 1, 65], [65, 64, 1],
  [63, 64, 65], [64, 65, 63], [65, 63, 64], [4, 63, 5], [257, 65, 63], [3, 257, 4], [5, 4, 257],
  [7, 9, 17], [33, 31, 129], // register-block and unroll edges other than 4/64
  [3, 4, 0], // k = 0: zeros (gradients of empty operands)
];
const stored = (rows: number, cols: number, t: boolean) => (t ? [cols, rows] : [rows, cols]);
for (const [m, n, k] of MNK) {
  for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]]) {
    cases.push({ op: 'matmul', shapes: [stored(m, k, tA), stored(k, n, tB)], seed: seed++, tol: ACCUM, args: { tA, tB } });
  }
}
// Batched, and a rank-2 operand broadcast over the batch (its gradient sums over the batch).
for (const [batch, m, n, k] of [[3, 4, 5, 63], [2, 65, 3, 64], [5, 1, 64, 4]]) {
  for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]]) {
    const a = stored(m, k, tA);
    const b = stored(k, n, tB);
    const args = { tA, tB };
    cases.push({ op: 'matmul', shapes: [[batch, ...a], [batch, ...b]], seed: seed++, tol: ACCUM, args, tag: 'batched' });
    cases.push({ op: 'matmul', shapes: [[batch, ...a], b], seed: seed++, tol: ACCUM, args, tag: 'broadcast B' });
    cases.push({ op: 'matmul', shapes: [a, [batch, ...b]], seed: seed++, tol: ACCUM, args, tag: 'broadcast A' });
  }
}

// Non-finite entries must propagate as in a plain dot product (0·∞ = NaN), not be skipped.
cases.push({ op: 'matmul', shapes: [[5, 6], [6, 7]], seed: seed++, tol: { atol: 1e-6, rtol: 1e-4 }, args: { tA: false, tB: false }, tag: 'non-finite',
  inputs: [{ kind: 'values', values: [1, 0, 2, -1, 0.5, 3, Infinity, 0, 1] }, { kind: 'values', values: [0, 1, -2, NaN, 1, 0.25, 2] }] });

// spmm: dense [cols, d] with d across the SIMD edges.
for (const d of EDGE_SIZES) cases.push({ op: 'spmm', shapes: [[9, d]], seed: seed++, tol: ACCUM, args: { rows: 7, density: 0.4 } });
cases.push({ op: 'spmm', shapes: [[63, 65]], seed: seed++, tol: ACCUM, args: { rows: 65, density: 0.2 } });
cases.push({ op: 'spmm', shapes: [[257, 5]], seed: seed++, tol: ACCUM, args: { rows: 4, density: 0.5 } });
cases.push({ op: 'spmm', shapes: [[12, 64]], seed: seed++, tol: ACCUM, args: { rows: 12, density: 0.3, symmetric: true } });

// gatherRows / scatterAddRows: repeated and untouched rows, row widths across the SIMD edges.
for (const d of [...EDGE_SIZES, 256]) {
  cases.push({ op: 'gatherRows', shapes: [[7, d], [11]], seed: seed++, tol: EXACT, gradTol: ACCUM });
  cases.push({ op: 'scatterAddRows', shapes: [[11, d], [11]], seed: seed++, tol: ACCUM, gradTol: EXACT, args: { n: 7 } });
}
cases.push({ op: 'gatherRows', shapes: [[65, 3], [257]], seed: seed++, tol: EXACT, gradTol: ACCUM });
cases.push({ op: 'scatterAddRows', shapes: [[257, 3], [257]], seed: seed++, tol: ACCUM, gradTol: EXACT, args: { n: 65 } });
cases.push({ op: 'gatherRows', shapes: [[5, 4], [0]], seed: seed++, tol: EXACT, tag: 'no rows' });

// layerNorm: row widths across the SIMD edges, rank 3.
for (const d of EDGE_SIZES) cases.push({ op: 'layerNorm', shapes: [[5, d], [d], [d]], seed: seed++, tol: ACCUM });
cases.push({ op: 'layerNorm', shapes: [[6, 256], [256], [256]], seed: seed++, tol: ACCUM });
cases.push({ op: 'layerNorm', shapes: [[2, 3, 64], [64], [64]], seed: seed++, tol: ACCUM });

// svd: tall, square and wide (B < d: zero columns of U, zero singular values).
for (const shape of [[96, 64], [8, 5], [65, 3], [64, 64], [3, 5], [1, 4], [257, 4]]) {
  cases.push({ op: 'svd', shapes: [shape], seed: seed++, tol: ACCUM, gradTol: { atol: 1e-5, rtol: 1e-3 } });
}

await runConformance(ops, cases);
