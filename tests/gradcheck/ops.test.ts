// Gradients of every differentiable op against central finite differences in float64 (reference
// backend, precision 'f64'). Inputs stay away from kinks (relu/abs at 0, max/min ties, sign changes).
import { test } from 'uvu';
import { UNARY_OPS, BINARY_OPS, type UnaryOp } from '../../engine/backend.js';
import {
  abs, add, affine, binary, div, maximum, minimum, mul, pow, sub, broadcastTo, concat, CsrMatrix, dropout, gatherRows, l2Normalize, layerNorm, logSoftmax, logSumExp,
  matmul, max, mean, min, pad, permute, Random, reshape, scatterAddRows, slice, softmax, spmm, sum, sumTo, tensor,
  transpose, unary, where, type Tensor,
} from '../../engine/index.js';
import { randSigned, randu } from '../helpers.js';
import { gradcheck, randn64, t64 } from './gradcheck.js';

/** Inputs per unary op, away from kinks and domain edges. */
const DOMAIN: Record<UnaryOp, () => Float32Array> = {
  neg: () => randSigned(1, 24, 0.1, 2),
  exp: () => randSigned(2, 24, 0.1, 2),
  log: () => randu(3, 24, 0.2, 3),
  sqrt: () => randu(4, 24, 0.2, 3),
  abs: () => randSigned(5, 24, 0.1, 2),
  sign: () => randSigned(6, 24, 0.1, 2),
  sigmoid: () => randSigned(7, 24, 0.1, 4),
  tanh: () => randSigned(8, 24, 0.1, 3),
  relu: () => randSigned(9, 24, 0.1, 2),
  gelu: () => randSigned(10, 24, 0.05, 4),
  erf: () => randSigned(11, 24, 0.05, 3),
  silu: () => randSigned(12, 24, 0.1, 5),
  // Both sides of torch's threshold (20), away from it.
  softplus: () => Float32Array.from([...randSigned(13, 20, 0.1, 6), 25, 30, -25, 18]),
  sin: () => randSigned(14, 24, 0.1, 6),
  cos: () => randSigned(15, 24, 0.1, 6),
  square: () => randSigned(16, 24, 0.1, 2),
  reciprocal: () => randSigned(17, 24, 0.3, 3),
};

for (const op of UNARY_OPS) {
  test(`unary ${op}`, () => {
    const x = t64(DOMAIN[op](), [4, 6]);
    gradcheck(`unary ${op}`, [x], () => unary(op, x));
    x.dispose();
  });
}

test('affine', () => {
  const x = randn64(20, [5, 3]);
  gradcheck('affine', [x], () => affine(x, -1.7, 0.4));
});

// Binary ops with broadcasting. max/min: b = a ± an offset of at least 0.1 (no ties within h).
const BROADCASTS: [number[], number[]][] = [[[3, 4], [3, 4]], [[3, 4], [4]], [[3, 1], [1, 4]], [[2, 3, 4], [3, 1]], [[5], []]];
for (const op of BINARY_OPS) {
  test(`binary ${op} with broadcasting`, () => {
    for (const [sa, sb] of BROADCASTS) {
      const na = sa.reduce((x, y) => x * y, 1);
      const nb = sb.reduce((x, y) => x * y, 1);
      let a: Tensor;
      let b: Tensor;
      if (op === 'pow') {
        a = t64(randu(30, na, 0.5, 2), sa);
        b = t64(randu(31, nb, -2, 2), sb);
      } else if (op === 'div') {
        a = randn64(32, sa);
        b = t64(randSigned(33, nb, 0.5, 2), sb);
      } else {
        // Values on a grid of spacing 0.25 offset by 0.1: no two differ by less than 0.05.
        a = t64(randu(34, na, -2, 2).map((v) => Math.round(v * 4) / 4 + 0.1), sa);
        b = t64(randu(35, nb, -2, 2).map((v) => Math.round(v * 4) / 4 + 0.05), sb);
      }
      gradcheck(`binary ${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, [a, b], () => binary(op, a, b));
      a.dispose();
      b.dispose();
    }
  });
}

test('number operands (affine shortcuts and scalar tensors)', () => {
  const x = t64(randSigned(36, 12, 0.3, 2), [3, 4]);
  gradcheck('add/sub/mul/div with numbers', [x], () => [add(x, 0.7), add(-1.5, x), sub(x, 2), sub(3, x), mul(x, -4), mul(0.25, x), div(x, 3)]);
  gradcheck('div(number, tensor)', [x], () => div(2, x));
  gradcheck('maximum(tensor, number), minimum(number, tensor), pow(tensor, number), pow(number, tensor)', [x],
    () => [maximum(x, 0.05), minimum(-0.05, x), pow(abs(x), 1.5), pow(2, x)]);
});

test('binary pow: negative base with integral exponents (d/db masked to 0)', () => {
  const a = t64([-1.5, -0.7, 2, -3], [4]);
  const b = t64([2, 3, -1, 1], [4]);
  // FD in b would see a NaN for a < 0; only a is perturbed, and the analytic d/db must be 0 there.
  gradcheck('pow a', [a], () => binary('pow', a, b));
});

test('where', () => {
  const c = t64([1, 0, 0, 1, 1, 0, 2, -1, 0, 0, 1, 0], [3, 4]);
  const a = randn64(40, [3, 4]);
  const b = randn64(41, [3, 4]);
  gradcheck('where', [a, b], () => where(c, a, b));
});

test('reshape, permute, transpose', () => {
  const x = randn64(50, [2, 3, 4]);
  gradcheck('reshape', [x], () => reshape(x, [4, -1]));
  gradcheck('permute', [x], () => permute(x, [2, 0, 1]));
  gradcheck('transpose', [x], () => transpose(x));
});

test('slice, pad, concat, broadcastTo', () => {
  const x = randn64(60, [4, 5]);
  const y = randn64(61, [4, 2]);
  gradcheck('slice', [x], () => slice(x, [1, 2], [2, -1]));
  gradcheck('pad', [x], () => pad(x, [1, 0], [6, 7]));
  gradcheck('concat', [x, y], () => concat([x, y, x], 1));
  const r = randn64(62, [1, 5]);
  gradcheck('broadcastTo', [r], () => broadcastTo(r, [3, 4, 5]));
});

test('sum, mean, max, min over axes and all; sumTo', () => {
  // Distinct values (a permutation scaled), so max/min have no ties.
  const perm = new Random(70).permutation(60);
  const x = t64(Array.from(perm, (v) => v * 0.1 - 3), [3, 4, 5]);
  for (const [name, f] of [['sum', sum], ['mean', mean], ['max', max], ['min', min]] as const) {
    gradcheck(`${name} all`, [x], () => f(x));
    gradcheck(`${name} axis 1`, [x], () => f(x, 1));
    gradcheck(`${name} axes [0, 2] keepDims`, [x], () => f(x, [0, 2], true));
    gradcheck(`${name} axis -1`, [x], () => f(x, -1));
  }
  gradcheck('sumTo [4, 1]', [x], () => sumTo(x, [4, 1]));
  gradcheck('sumTo [5]', [x], () => sumTo(x, [5]));
});

test('softmax, logSoftmax, logSumExp', () => {
  const x = randn64(80, [3, 6], 2);
  gradcheck('softmax', [x], () => softmax(x));
  gradcheck('logSoftmax', [x], () => logSoftmax(x));
  gradcheck('logSumExp', [x], () => logSumExp(x));
  const masked = t64([0.5, -Infinity, 2, 1, -1, -Infinity], [2, 3]);
  gradcheck('softmax with -Infinity entries', [masked], () => softmax(masked), { directions: 0 });
});

test('matmul: four transpose combinations, batched, broadcast batch', () => {
  const [m, n, k] = [3, 4, 5];
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const a = randn64(90, transA ? [k, m] : [m, k]);
      const b = randn64(91, transB ? [n, k] : [k, n]);
      gradcheck(`matmul tA=${transA} tB=${transB}`, [a, b], () => matmul(a, b, { transA, transB }));
      const ab = randn64(92, transA ? [2, k, m] : [2, m, k]);
      const bb = randn64(93, transB ? [2, n, k] : [2, k, n]);
      gradcheck(`batched tA=${transA} tB=${transB}`, [ab, bb], () => matmul(ab, bb, { transA, transB }));
      gradcheck(`broadcast B tA=${transA} tB=${transB}`, [ab, b], () => matmul(ab, b, { transA, transB }));
      gradcheck(`broadcast A tA=${transA} tB=${transB}`, [a, bb], () => matmul(a, bb, { transA, transB }));
    }
  }
});

test('spmm (gradient through the transpose)', () => {
  const a = CsrMatrix.fromHost(3, 4, Int32Array.from([0, 2, 2, 5]), Int32Array.from([1, 3, 0, 1, 2]),
    Float32Array.from([0.5, -1.25, 2, 0.75, -0.5]));
  const x = randn64(100, [4, 3]);
  gradcheck('spmm', [x], () => spmm(a, x));
  a.dispose();
});

test('gatherRows and scatterAddRows (repeated indices)', () => {
  const table = randn64(110, [5, 3]);
  const idx = tensor(Int32Array.from([4, 0, 4, 2, 4, 1]));
  gradcheck('gatherRows', [table], () => gatherRows(table, idx));
  const src = randn64(111, [6, 3]);
  gradcheck('scatterAddRows', [src], () => scatterAddRows(src, idx, 7));
});

test('layerNorm (x, gamma, beta)', () => {
  const x = randn64(120, [4, 6], 2);
  const g = t64(randu(121, 6, 0.5, 1.5), [6]);
  const b = randn64(122, [6]);
  gradcheck('layerNorm', [x, g, b], () => layerNorm(x, g, b, 1e-5));
});

test('l2Normalize', () => {
  const x = randn64(130, [3, 5]);
  gradcheck('l2Normalize', [x], () => l2Normalize(x));
});

test('dropout (fixed rng: the same mask every call)', () => {
  const x = randn64(140, [4, 8]);
  gradcheck('dropout p=0.3', [x], () => dropout(x, 0.3, new Random(7)));
  gradcheck('dropout p=0', [x], () => dropout(x, 0, new Random(7)));
});

test.run();
