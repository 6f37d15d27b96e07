// Conformance of reductions and row ops: sum/mean/max/min over axes and all, sumTo, softmax,
// logSoftmax, logSumExp, topk (values and indices, with ties).
import { logSoftmax, logSumExp, max, mean, min, softmax, sum, sumTo, topk } from '../../engine/index.js';
import { ACCUM, EDGE_SHAPES, EXACT, runConformance, type Case, type InputSpec, type OpDef } from './harness.js';

type Axes = number | number[] | undefined;
const REDUCERS = { sum, mean, max, min };

const ops: Record<string, OpDef> = {};
for (const [name, f] of Object.entries(REDUCERS)) {
  ops[name] = {
    inputs: [{ kind: 'normal' }],
    run: ([x], c) => f(x, c.args?.axes as Axes, (c.args?.keepDims as boolean | undefined) ?? false),
  };
}
ops.sumTo = { inputs: [{ kind: 'normal' }], run: ([x], c) => sumTo(x, c.args!.to as number[]) };
ops.softmax = { inputs: [{ kind: 'normal', std: 2 }], run: ([x]) => softmax(x) };
ops.logSoftmax = { inputs: [{ kind: 'normal', std: 2 }], run: ([x]) => logSoftmax(x) };
ops.logSumExp = { inputs: [{ kind: 'normal', std: 2 }], run: ([x]) => logSumExp(x) };
ops.topk = {
  inputs: [{ kind: 'normal' }], grad: [],
  run: ([x], c) => { const r = topk(x, c.args!.k as number); return [r.values, r.indices]; },
};

let seed = 3000;
const cases: Case[] = [];
const push = (op: string, shapes: number[][], args?: Record<string, unknown>, extra: Partial<Case> = {}) =>
  cases.push({ op, shapes, seed: seed++, tol: ACCUM, args, ...extra });

const REDUCE_CASES: [number[], Record<string, unknown> | undefined][] = [
  ...EDGE_SHAPES.map((s): [number[], undefined] => [s, undefined]), // over everything
  [[6, 256], { axes: 0 }],
  [[6, 256], { axes: 1 }],
  [[6, 256], { axes: -1, keepDims: true }],
  [[6, 256], { axes: [0, 1], keepDims: true }],
  [[3, 65, 5], { axes: 1 }],
  [[3, 65, 5], { axes: [0, 2] }],
  [[3, 65, 5], { axes: [2, 0], keepDims: true }],
  [[64, 3], { axes: 0 }],
  [[5, 63], { axes: 1 }],
  [[4], { axes: 0 }],
  [[2, 3, 4, 5], { axes: [1, 3] }],
  [[257, 1], { axes: 1 }],
  [[4099], undefined], // many SIMD blocks plus a tail
  [[0, 5], { axes: 0 }], // empty reduction: sum 0, max −Infinity, min +Infinity
];
for (const op of Object.keys(REDUCERS)) {
  for (const [shape, args] of REDUCE_CASES) push(op, [shape], args);
}
// max/min with ties: the gradient is shared evenly among the tied maxima.
for (const op of ['max', 'min']) {
  const ties: InputSpec[] = [{ kind: 'quant', lo: -2, hi: 3 }];
  push(op, [[6, 256]], { axes: 1 }, { inputs: ties, tag: 'ties' });
  push(op, [[65, 5]], { axes: 0 }, { inputs: ties, tag: 'ties' });
  push(op, [[257]], undefined, { inputs: ties, tag: 'ties' });
  push(op, [[4, 3]], undefined, { inputs: [{ kind: 'values', values: [1, -Infinity, 7, Infinity, -3, 7] }], tag: 'infinities' });
}

for (const [shape, to] of [[[6, 256], [256]], [[6, 256], [6, 1]], [[4, 3, 5], [3, 1]], [[65], [65]], [[2, 63, 65], [1, 65]],
  [[257], [1]], [[3, 64], []]] as [number[], number[]][]) {
  push('sumTo', [shape], { to });
}

const ROW_SHAPES = [[1], [3], [4, 5], [2, 63], [3, 64], [2, 65], [257], [6, 256], [2, 3, 5], [5, 1]];
for (const op of ['softmax', 'logSoftmax', 'logSumExp']) {
  for (const shape of ROW_SHAPES) push(op, [shape]);
  push(op, [[4, 65]], undefined, { inputs: [{ kind: 'normal', std: 50 }], tag: 'large logits' });
  push(op, [[3, 7]], undefined, {
    inputs: [{ kind: 'values', values: [0.5, -Infinity, 2, -1, -Infinity, 3, 0, 1e4, -1e4, 1, -Infinity, 1e4, 2, 0.5, 7, 7, 7, 7, 7, 7, 7] }],
    tag: 'masked and extreme',
    // exp(x − lse) at x ≈ 1e4 inherits lse's float32 rounding (ulp 1e-3): ~5e-4 relative in the gradient.
    gradTol: { atol: 1e-6, rtol: 2e-3 },
  });
}

// Degenerate rows: all −Infinity (softmax NaN, logSumExp −Infinity), a +Infinity entry, a NaN entry.
for (const op of ['softmax', 'logSoftmax', 'logSumExp']) {
  push(op, [[4, 3]], undefined, {
    inputs: [{ kind: 'values', values: [-Infinity, -Infinity, -Infinity, 1, Infinity, 2, 0.5, NaN, 1, 3, 2, 1] }],
    tag: 'degenerate rows', tol: { atol: 1e-6, rtol: 1e-5, relTo: 'element' },
  });
}
// NaN propagates through max/min/sum (NaN-aware reductions are a classic SIMD slip).
for (const op of Object.keys(REDUCERS)) {
  push(op, [[3, 5]], { axes: 1 }, { inputs: [{ kind: 'values', values: [1, NaN, 3, -2, 0, 4, 5, 6, 7, NaN, 8, -1, 2, 9, 0.5] }], tag: 'NaN' });
}

// topk: k from 0 to n; ties (few distinct values) must come out lower index first; ±Infinity.
for (const [shape, k] of [[[1], 1], [[5], 5], [[3, 4], 2], [[257], 10], [[6, 256], 1], [[6, 256], 5], [[3, 64], 64],
  [[4, 65], 3], [[2, 63], 17], [[3, 63], 0]] as [number[], number][]) {
  push('topk', [shape], { k }, { tol: EXACT });
  push('topk', [shape], { k }, { tol: EXACT, inputs: [{ kind: 'quant', lo: -2, hi: 3 }], tag: 'ties' });
}
push('topk', [[2, 6]], { k: 4 }, { tol: EXACT, inputs: [{ kind: 'values', values: [-Infinity, 1, Infinity, 1, -0, 0] }], tag: 'infinities' });
push('topk', [[2, 5]], { k: 5 }, { tol: EXACT, inputs: [{ kind: 'values', values: [1, NaN, 3, -Infinity, NaN] }], tag: 'NaN ranks last' });
// long rows (the vector skip of a full heap) with NaNs, ±0 and ties; k beyond the non-NaN count in row 2
const longRow = (r: number) => Array.from({ length: 70 }, (_, i) => (r === 2 && i % 3 ? NaN : i % 7 === 0 ? NaN : i % 11 === 0 ? -0 : ((i * 37 + r) % 13) - 6));
push('topk', [[3, 70]], { k: 30 }, { tol: EXACT, inputs: [{ kind: 'values', values: [0, 1, 2].flatMap(longRow) }], tag: 'long rows, NaN, ±0, ties' });

await runConformance(ops, cases);
