// Conformance of the elementwise ops: 17 unary ops (random and edge values), affine and the number
// shortcuts of add/sub/mul/div, 13 binary ops over broadcasting patterns, where, cast.
import { UNARY_OPS, BINARY_OPS, type BinaryOp, type UnaryOp } from '../../engine/backend.js';
import {
  add, affine, binary, cast, div, full, mul, ones, Random, scalar, sub, tensor, unary, where, zeros, type Tensor,
} from '../../engine/index.js';
import { ELEMENTWISE, EDGE_SHAPES, EXACT, runConformance, type Case, type InputSpec, type OpDef } from './harness.js';

const UNARY_INPUT: Record<UnaryOp, InputSpec> = {
  neg: { kind: 'normal' },
  exp: { kind: 'normal', std: 2 },
  log: { kind: 'uniform', lo: 0.05, hi: 4 },
  sqrt: { kind: 'uniform', lo: 0.05, hi: 4 },
  abs: { kind: 'normal' },
  sign: { kind: 'normal' },
  sigmoid: { kind: 'normal', std: 3 },
  tanh: { kind: 'normal', std: 2 },
  relu: { kind: 'normal' },
  gelu: { kind: 'normal', std: 2 },
  erf: { kind: 'normal', std: 1.5 },
  silu: { kind: 'normal', std: 3 },
  softplus: { kind: 'normal', std: 10 }, // crosses torch's threshold of 20
  sin: { kind: 'uniform', lo: -10, hi: 10 },
  cos: { kind: 'uniform', lo: -10, hi: 10 },
  square: { kind: 'normal' },
  reciprocal: { kind: 'signed', lo: 0.25, hi: 4 },
};

/** Special inputs per op: zeros of both signs, tiny and huge values, infinities, NaN, thresholds. */
const COMMON_EDGE = [0, -0, 1e-30, -1e-30, 1e-6, -1e-6, 0.5, -0.5, 6, -6, 19.5, 20, 20.5, 30, -30, 88, -88, 100, -100,
  1e30, -1e30, Infinity, -Infinity, NaN];
const EDGE: Partial<Record<UnaryOp, number[]>> = {
  log: [0, -0, 1e-30, 1e-6, 0.5, 1, 2, 1e30, Infinity, -1, NaN],
  sqrt: [0, -0, 1e-30, 1e-6, 0.5, 1, 2, 1e30, Infinity, -1, NaN],
  sin: [0, -0, 1e-30, 1e-6, -1e-6, 0.5, -0.5, 1.5707964, 3.1415927, 6, 100, -100, NaN, Infinity],
  cos: [0, -0, 1e-30, 1e-6, -1e-6, 0.5, -0.5, 1.5707964, 3.1415927, 6, 100, -100, NaN, Infinity],
  reciprocal: [0, -0, 1e-30, -1e-30, 1e-6, 0.5, -0.5, 6, 1e30, -1e30, Infinity, -Infinity, NaN],
  square: [0, -0, 1e-30, 1e-6, -0.5, 6, 1e19, 1e30, -1e30, Infinity, -Infinity, NaN],
};

const ops: Record<string, OpDef> = {};
const cases: Case[] = [];
let seed = 100;

for (const op of UNARY_OPS) {
  ops[`unary ${op}`] = { inputs: [UNARY_INPUT[op]], run: ([x]) => unary(op, x) };
  for (const shape of [...EDGE_SHAPES, [4099]]) cases.push({ op: `unary ${op}`, shapes: [shape], seed: seed++, tol: ELEMENTWISE });
  const edge = EDGE[op] ?? COMMON_EDGE;
  ops[`unary-edge ${op}`] = { inputs: [{ kind: 'values', values: edge }], run: ([x]) => unary(op, x) };
  cases.push({
    op: `unary-edge ${op}`, shapes: [[edge.length]], seed: seed++,
    // Values span 60 orders of magnitude: relative per element, with an absolute floor at float32 denormals.
    tol: { atol: 1e-37, rtol: 1e-5, relTo: 'element' },
  });
}

// affine and the number operands of add/sub/mul/div (they run as affine kernels).
ops.affine = { inputs: [{ kind: 'normal', std: 3 }], run: ([x], c) => affine(x, c.args!.alpha as number, c.args!.beta as number) };
for (const shape of EDGE_SHAPES) {
  cases.push({ op: 'affine', shapes: [shape], seed: seed++, tol: ELEMENTWISE, args: { alpha: -1.75, beta: 0.3 } });
}
cases.push({ op: 'affine', shapes: [[65]], seed: seed++, tol: ELEMENTWISE, args: { alpha: 0, beta: 2.5 } });
cases.push({ op: 'affine', shapes: [[6, 256]], seed: seed++, tol: ELEMENTWISE, args: { alpha: 1e-3, beta: -1e3 } });
ops['number operands'] = {
  inputs: [{ kind: 'signed', lo: 0.5, hi: 2 }],
  run: ([x]) => [add(x, 0.7), add(-1.5, x), sub(x, 2), sub(3, x), mul(x, -4), mul(0.25, x), div(x, 3), div(2, x)],
};
for (const shape of [[1], [5], [64], [257], [6, 256]]) {
  cases.push({ op: 'number operands', shapes: [shape], seed: seed++, tol: ELEMENTWISE });
}

// Binary ops over broadcasting patterns.
const PATTERNS: [number[], number[], string][] = [
  ...EDGE_SHAPES.map((s): [number[], number[], string] => [s, s, 'same']),
  [[257], [], 'tensor-scalar'],
  [[], [65], 'scalar-tensor'],
  [[1], [63], 'one-vs-n'],
  [[6, 256], [256], 'row'],
  [[65, 3], [3], 'row'],
  [[6, 256], [6, 1], 'column'],
  [[3, 65], [3, 1], 'column'],
  [[63, 1], [1, 65], 'outer'],
  [[4, 1, 5], [3, 1], 'rank-3'],
  [[5, 1, 64], [1, 3, 1], 'rank-3'],
  [[2, 3, 4, 5], [3, 1, 5], 'rank-4'],
  [[2, 1, 3, 1], [1, 4, 1, 5], 'rank-4 interleaved'],
  [[4099], [4099], 'long'],
];
const COMPARISONS = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
function binaryInputs(op: BinaryOp): InputSpec[] {
  switch (op) {
    case 'div': return [{ kind: 'normal' }, { kind: 'signed', lo: 0.5, hi: 2 }];
    case 'pow': return [{ kind: 'uniform', lo: 0.5, hi: 2 }, { kind: 'uniform', lo: -2, hi: 2 }];
    // Small integers: many ties (max/min split the gradient; comparisons must be exact there).
    case 'max': case 'min': return [{ kind: 'quant' }, { kind: 'quant' }];
    default: return COMPARISONS.has(op) ? [{ kind: 'quant' }, { kind: 'quant' }] : [{ kind: 'normal' }, { kind: 'normal' }];
  }
}
for (const op of BINARY_OPS) {
  ops[`binary ${op}`] = { inputs: binaryInputs(op), run: ([a, b]) => binary(op, a, b) };
  for (const [a, b, tag] of PATTERNS) {
    cases.push({ op: `binary ${op}`, shapes: [a, b], seed: seed++, tol: COMPARISONS.has(op) ? EXACT : ELEMENTWISE, tag });
  }
}
// max/min away from ties too; pow of negative bases with integral exponents (gradient in b masked to 0).
for (const op of ['max', 'min'] as const) {
  cases.push({ op: `binary ${op}`, shapes: [[257], [257]], seed: seed++, tol: ELEMENTWISE, tag: 'no ties',
    inputs: [{ kind: 'normal' }, { kind: 'normal' }] });
}
cases.push({ op: 'binary pow', shapes: [[65], [65]], seed: seed++, tol: ELEMENTWISE, tag: 'negative base',
  inputs: [{ kind: 'signed', lo: 0.5, hi: 2 }, { kind: 'quant', lo: -2, hi: 4 }] });
cases.push({ op: 'binary div', shapes: [[8], [8]], seed: seed++, tol: { atol: 1e-37, rtol: 1e-6, relTo: 'element' }, tag: 'edge',
  inputs: [{ kind: 'values', values: [1, -1, 0, 3, 1e30, -0, 5, NaN] }, { kind: 'values', values: [0, 0, 0, -0, 1e-30, 2, Infinity, 1] }] });

// where: condition of 0/1 (and one of arbitrary non-zero values), gradient into a and b.
ops.where = { inputs: [{ kind: 'mask' }, { kind: 'normal' }, { kind: 'normal' }], run: ([c, a, b]) => where(c, a, b), grad: [1, 2] };
for (const shape of EDGE_SHAPES) cases.push({ op: 'where', shapes: [shape, shape, shape], seed: seed++, tol: EXACT });
cases.push({ op: 'where', shapes: [[65], [65], [65]], seed: seed++, tol: EXACT, tag: 'non-binary cond',
  inputs: [{ kind: 'quant', lo: -2, hi: 3 }, { kind: 'normal' }, { kind: 'normal' }] });

// cast f32 → i32 (toward zero, in-range values) and i32 → f32 (exact up to 2^24, then rounded).
ops['cast f32->i32'] = { inputs: [{ kind: 'normal', std: 100 }], run: ([x]) => cast(x, 'i32'), grad: [] };
ops['cast i32->f32'] = { inputs: [{ kind: 'int', lo: -1000, hi: 1000 }], run: ([x]) => cast(x, 'f32'), grad: [] };
ops['cast i32->i32'] = { inputs: [{ kind: 'int', lo: -5, hi: 5 }], run: ([x]): Tensor => cast(x, 'i32'), grad: [] };
for (const shape of EDGE_SHAPES) {
  cases.push({ op: 'cast f32->i32', shapes: [shape], seed: seed++, tol: EXACT });
  cases.push({ op: 'cast i32->f32', shapes: [shape], seed: seed++, tol: EXACT });
}
cases.push({ op: 'cast f32->i32', shapes: [[12]], seed: seed++, tol: EXACT, tag: 'edge',
  inputs: [{ kind: 'values', values: [0, -0, 0.5, -0.5, 2.7, -2.7, 1e-30, 16777216, -16777216, 2147483520, -2147483648, 99.999] }] });
cases.push({ op: 'cast i32->f32', shapes: [[8]], seed: seed++, tol: EXACT, tag: 'edge',
  inputs: [{ kind: 'intValues', values: [0, 1, -1, 16777217, -16777217, 2147483647, -2147483648, 123456789] }] });
cases.push({ op: 'cast i32->i32', shapes: [[5]], seed: seed++, tol: EXACT });

// Creation: zeros (f32 and i32), full, ones, scalar, host arrays, and the Random tensors.
ops.create = {
  inputs: [], grad: [],
  run: (_, c) => {
    const shape = c.args!.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const rng = new Random(c.seed);
    return [zeros(shape), zeros(shape, 'i32'), full(shape, -2.5), ones(shape), scalar(3), scalar(-7, 'i32'),
      tensor(Int32Array.from({ length: n }, (_, i) => i - 3), shape), rng.randn(shape, 2), rng.rand(shape)];
  },
};
for (const shape of [[], ...EDGE_SHAPES]) cases.push({ op: 'create', shapes: [], seed: seed++, tol: EXACT, args: { shape } });

await runConformance(ops, cases);
