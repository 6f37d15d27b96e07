// Conformance of the nn helpers and modules: dropout with a fixed rng, l2Normalize, dotCrossEntropy, Adam, and
// Linear / Embedding / LayerNorm / TransformerEncoderLayer (eval and, with a fixed rng, training).
import {
  Adam, affine, dotCrossEntropy, dropout, Embedding, l2Normalize, LayerNorm, Linear, Random, tensor, TransformerEncoderLayer,
} from '../../engine/index.js';
import { ACCUM, EDGE_SHAPES, ELEMENTWISE, EXACT, runConformance, type Case, type OpDef } from './harness.js';
import { randn, randu } from '../helpers.js';

const normal = { kind: 'normal' } as const;

const ops: Record<string, OpDef> = {
  dropout: { inputs: [normal], run: ([x], c) => dropout(x, c.args!.p as number, new Random(c.seed)) },
  l2Normalize: { inputs: [normal], run: ([x]) => l2Normalize(x) },
  adam: {
    inputs: [normal, normal, { kind: 'normal', std: 0.1 }, { kind: 'normal', std: 3 }],
    grad: [],
    run: async ([p0, g1, g2, g3], c) => {
      const p = affine(p0, 1, 0); // a copy: Adam updates in place
      const opt = new Adam([p], c.args as Record<string, number>);
      opt.step([g1]);
      const afterOne = affine(p, 1, 0);
      opt.step([g2]);
      opt.step([g3]);
      const [slot] = await opt.state();
      const m = tensor(slot!.m, p.shape);
      const v = tensor(slot!.v, p.shape);
      opt.dispose();
      return [afterOne, p, m, v];
    },
  },
  // The fused kernel where a backend has one, the composed path (matmul, logSumExp, gather) elsewhere.
  dotCrossEntropy: {
    inputs: (c) => [normal, normal, { kind: 'int', lo: 0, hi: c.shapes[1][0] }],
    grad: [0, 1],
    run: ([q, k, t]) => dotCrossEntropy(q, k, t),
  },
  Linear: {
    inputs: [normal],
    build: ([x], c) => {
      const lin = new Linear(x.shape[x.rank - 1], c.args!.out as number, new Random(c.seed), c.args!.bias as boolean);
      return { fn: () => lin.forward(x), wrt: [x, ...lin.parameters()], dispose: () => lin.dispose() };
    },
  },
  Embedding: {
    inputs: (c) => [{ kind: 'int', lo: 0, hi: c.args!.count as number }],
    build: ([ids], c) => {
      const emb = new Embedding(c.args!.count as number, c.args!.dim as number, new Random(c.seed), 0.5);
      return { fn: () => emb.forward(ids), wrt: emb.parameters(), dispose: () => emb.dispose() };
    },
  },
  LayerNorm: {
    inputs: [{ kind: 'normal', std: 2 }],
    build: ([x], c) => {
      const d = x.shape[x.rank - 1];
      const ln = new LayerNorm(d);
      ln.setParameter('weight', randu(c.seed, d, 0.5, 1.5));
      ln.setParameter('bias', randn(c.seed + 1, d));
      return { fn: () => ln.forward(x), wrt: [x, ...ln.parameters()], dispose: () => ln.dispose() };
    },
  },
  TransformerEncoderLayer: {
    inputs: [normal],
    build: ([x], c) => {
      const { heads, ffn, training } = c.args as { heads: number; ffn: number; training: boolean };
      const layer = new TransformerEncoderLayer(x.shape[2], { heads, ffn, dropout: 0.1 }, new Random(c.seed));
      // Non-trivial biases and norms (they start at 0 / 1).
      for (const [name, p] of layer.namedParameters()) {
        if (/bias|norm/.test(name)) layer.setParameter(name, randn(c.seed + p.size, p.size, 0.3).map((v) => (/norm\d\.weight/.test(name) ? 1 + v : v)));
      }
      return {
        fn: () => layer.forward(x, training, training ? new Random(c.seed + 7) : undefined),
        wrt: [x, ...layer.parameters()],
        dispose: () => layer.dispose(),
      };
    },
  },
};

let seed = 5000;
const cases: Case[] = [];
const push = (op: string, shapes: number[][], tol: Case['tol'], args?: Record<string, unknown>, extra: Partial<Case> = {}) =>
  cases.push({ op, shapes, seed: seed++, tol, args, ...extra });

for (const p of [0, 0.1, 0.5]) for (const shape of [[1], [5], [64], [257], [6, 256]]) push('dropout', [shape], ELEMENTWISE, { p });

for (const shape of [[1, 64], [4, 5], [65, 3], [6, 256], [3, 63], [2, 2, 65], [257]]) push('l2Normalize', [shape], ACCUM);
push('l2Normalize', [[3, 4]], ACCUM, undefined, { tag: 'zero row', inputs: [{ kind: 'values', values: [1, -2, 0.5, 3, 0, 0, 0, 0, 1e-3, 0, 0, 0] }] });

// Adam: three steps (gradients of different scales), with and without L2 weight decay.
// Against float64: within float32 rounding. Against the float32 reference: bit-exact, since the contract
// fixes torch's float32 operation order (fma included).
const ADAM_TOL = { atol: 1e-7, rtol: 1e-6 };
const adamExtra = { backendTol: EXACT };
for (const shape of EDGE_SHAPES) {
  push('adam', [shape, shape, shape, shape], ADAM_TOL, { lr: 0.01 }, adamExtra);
}
push('adam', [[65], [65], [65], [65]], ADAM_TOL, { lr: 0.005, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.01 }, adamExtra);
push('adam', [[257], [257], [257], [257]], ADAM_TOL, { lr: 0.1, weightDecay: 0.5 }, adamExtra);
// Gradients near eps, where float32 rounding decides most (float64 differs by up to ~lr·1e-2 there).
push('adam', [[257], [257], [257], [257]], { atol: 1e-4, rtol: 0 }, { lr: 0.01 }, {
  ...adamExtra, tag: 'gradients near eps',
  inputs: [normal, { kind: 'normal', std: 1e-8 }, { kind: 'normal', std: 3e-8 }, { kind: 'normal', std: 1e-7 }],
});

for (const [rows, n, d] of [[1, 1, 1], [3, 5, 4], [5, 63, 5], [4, 65, 64], [63, 257, 3], [65, 4, 64], [6, 300, 64]]) {
  push('dotCrossEntropy', [[rows, d], [n, d], [rows]], ACCUM);
}

const MODULE_TOL = { atol: 1e-5, rtol: 1e-4 };
push('Linear', [[5, 63]], MODULE_TOL, { out: 65, bias: true });
push('Linear', [[2, 3, 4]], MODULE_TOL, { out: 64, bias: true });
push('Linear', [[257, 3]], MODULE_TOL, { out: 5, bias: false });
push('Embedding', [[9]], MODULE_TOL, { count: 6, dim: 65 });
push('LayerNorm', [[4, 64]], MODULE_TOL);
push('LayerNorm', [[2, 3, 65]], MODULE_TOL);
for (const training of [false, true]) {
  push('TransformerEncoderLayer', [[2, 3, 16]], MODULE_TOL, { heads: 4, ffn: 32, training });
  push('TransformerEncoderLayer', [[5, 1, 16]], MODULE_TOL, { heads: 4, ffn: 32, training });
}
push('TransformerEncoderLayer', [[1, 4, 64]], MODULE_TOL, { heads: 4, ffn: 256, training: false });

await runConformance(ops, cases);
