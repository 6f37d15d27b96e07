/**
 * The gradient table: one entry per recorded op, built from the public ops (so every backend gets
 * every gradient). Typing it `Record<OpName, GradFn>` makes a missing gradient a compile error.
 */
import type { BinaryOp, UnaryOp } from './backend.js';
import {
  add, broadcastTo, div, equal, gatherRows, less, softmax, log, matmul, mul, neg, pad, permute,
  reshape, scatterAddRows, slice, spmm, sub, sum, sumTo, where, type CsrMatrix, zeros, pow, affine, greater,
} from './ops/index.js';
import { svdBackward } from './linalg/svd.js';
import type { TapeNode } from './tape.js';
import { Tensor } from './tensor.js';

export type OpName =
  | 'unary' | 'affine' | 'binary' | 'where' | 'reshape' | 'permute' | 'slice' | 'pad' | 'concat' | 'broadcastTo'
  | 'reduce' | 'softmax' | 'logSumExp' | 'matmul' | 'spmm' | 'gatherRows' | 'scatterAddRows' | 'layerNorm' | 'svd'
  | 'dotCrossEntropy' | 'linear';

/**
 * The gradients of an op's inputs from those of its outputs (null: none flowed). `needs[i]` says whether input
 * i wants one: an op may return null for the others instead of computing what nobody reads.
 */
export type GradFn = (dys: (Tensor | null)[], node: TapeNode, needs: readonly boolean[]) => (Tensor | null)[];

const dyOf = (dys: (Tensor | null)[], node: TapeNode, i = 0): Tensor => dys[i] ?? zeros(node.outputs[i].shape);

function binaryGrad(op: BinaryOp, dy: Tensor, a: Tensor, b: Tensor, y: Tensor, [needA, needB]: readonly boolean[]): (Tensor | null)[] {
  const to = (g: Tensor, t: Tensor) => sumTo(g, t.shape);
  switch (op) {
    case 'add': return [needA ? to(dy, a) : null, needB ? to(dy, b) : null];
    case 'sub': return [needA ? to(dy, a) : null, needB ? to(neg(dy), b) : null];
    case 'mul': return [needA ? to(mul(dy, b), a) : null, needB ? to(mul(dy, a), b) : null];
    case 'div': return [needA ? to(div(dy, b), a) : null, needB ? to(neg(div(mul(dy, y), b)), b) : null];
    case 'max':
    case 'min': {
      // As PyTorch: a tie splits the gradient in half.
      const wins = op === 'max' ? greater(a, b) : less(a, b);
      const ties = equal(a, b);
      const wa = add(wins, mul(ties, 0.5));
      return [to(mul(dy, wa), a), to(mul(dy, sub(1, wa)), b)];
    }
    case 'pow': {
      const da = mul(dy, mul(b, pow(a, sub(b, 1))));
      const pos = greater(a, 0);
      const logA = log(where(pos, a, add(zeros(pos.shape), 1)));
      const db = mul(mul(dy, y), mul(pos, logA));
      return [to(da, a), to(db, b)];
    }
    default: return [null, null];
  }
}

function matmulGrad(dy: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean, [needA, needB]: readonly boolean[]): (Tensor | null)[] {
  const da = !needA ? null : !transA ? matmul(dy, b, { transB: !transB }) : matmul(b, dy, { transA: transB, transB: true });
  const db = !needB ? null : !transB ? matmul(a, dy, { transA: !transA }) : matmul(dy, a, { transA: true, transB: transA });
  // A rank-2 operand shared across a batch receives the sum over the batch.
  return [da && da.rank > a.rank ? sum(da, 0) : da, db && db.rank > b.rank ? sum(db, 0) : db];
}

function reduceGrad(dy: Tensor, x: Tensor, y: Tensor, attrs: Record<string, unknown>): Tensor {
  const axis = attrs.axis as number;
  const kept = x.shape.map((d, i) => (i === axis ? 1 : d));
  const g = broadcastTo(reshape(dy, kept), x.shape);
  if (attrs.op === 'sum') return g;
  // max / min: ties share the gradient evenly (as torch.amax).
  const mask = equal(x, broadcastTo(reshape(y, kept), x.shape));
  const count = broadcastTo(sum(mask, axis, true), x.shape);
  return div(mul(g, mask), count);
}

export const GRADIENTS: Record<OpName, GradFn> = {
  unary: (dys, { inputs: [x], outputs: [, dydx], attrs }) => [dydx ? mul(dys[0]!, dydx)
    : new Tensor(x.backend.unaryGrad(attrs.op as UnaryOp, x.storage, dys[0]!.storage), x.shape, 'f32', x.backend)],
  affine: (dys, { attrs }) => [affine(dys[0]!, attrs.alpha as number, 0)],
  binary: (dys, { inputs: [a, b], outputs: [y], attrs }, needs) => binaryGrad(attrs.op as BinaryOp, dys[0]!, a, b, y, needs),
  where: (dys, { inputs: [c] }, needs) => {
    const z = zeros(c.shape);
    return [null, needs[1] ? where(c, dys[0]!, z) : null, needs[2] ? where(c, z, dys[0]!) : null];
  },
  reshape: (dys, { inputs: [x] }) => [reshape(dys[0]!, x.shape)],
  permute: (dys, { attrs }) => {
    const perm = attrs.perm as number[];
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [permute(dys[0]!, inv)];
  },
  slice: (dys, { inputs: [x], attrs }) => [pad(dys[0]!, attrs.begin as number[], x.shape)],
  pad: (dys, { inputs: [x], attrs }) => [slice(dys[0]!, attrs.begin as number[], x.shape as number[])],
  concat: (dys, { inputs, attrs }, needs) => {
    const axis = attrs.axis as number;
    let at = 0;
    return inputs.map((x, i) => {
      const begin = x.shape.map((_, k) => (k === axis ? at : 0));
      at += x.shape[axis];
      return needs[i] ? slice(dys[0]!, begin, x.shape as number[]) : null;
    });
  },
  broadcastTo: (dys, { inputs: [x] }) => [sumTo(dys[0]!, x.shape)],
  reduce: (dys, { inputs: [x], outputs: [y], attrs }) => [reduceGrad(dys[0]!, x, y, attrs)],
  softmax: (dys, { outputs: [y] }) => {
    const dy = dys[0]!;
    return [mul(y, sub(dy, sum(mul(dy, y), -1, true)))];
  },
  logSumExp: (dys, { inputs: [x], outputs: [y] }) => [mul(softmax(x), reshape(dys[0]!, [...y.shape, 1]))],
  matmul: (dys, { inputs: [a, b], attrs }, needs) => matmulGrad(dys[0]!, a, b, attrs.transA as boolean, attrs.transB as boolean, needs),
  // the gradients of matmul(x, w, { transB: true }) and of the bias add, as the unfused ops would give them
  linear: (dys, { inputs: [x, w, b] }, needs) => [...matmulGrad(dys[0]!, x, w, false, true, needs), needs[2] ? sumTo(dys[0]!, b.shape) : null],
  spmm: (dys, { attrs }) => [spmm((attrs.a as CsrMatrix).T, dys[0]!)],
  gatherRows: (dys, { inputs: [table, idx] }) => [scatterAddRows(dys[0]!, idx, table.shape[0]), null],
  scatterAddRows: (dys, { inputs: [, idx] }) => [gatherRows(dys[0]!, idx), null],
  layerNorm: (dys, node) => {
    const [x, gamma] = node.inputs;
    const [, mean, rstd] = node.outputs;
    const dy = dyOf(dys, node);
    const d = x.shape[x.rank - 1];
    const r = x.backend.layerNormGrad(dy.storage, x.storage, gamma.storage, mean.storage, rstd.storage, x.size / d, d);
    return [new Tensor(r.dx, x.shape, 'f32', x.backend), new Tensor(r.dgamma, gamma.shape, 'f32', x.backend),
      new Tensor(r.dbeta, gamma.shape, 'f32', x.backend)];
  },
  svd: (dys, node) => [svdBackward(dys, node)],
  dotCrossEntropy: (dys, node) => {
    const [q, k, t] = node.inputs;
    const [, lse, scores] = node.outputs;
    const dy = dyOf(dys, node);
    const r = q.backend.dotCrossEntropyGrad!(q.storage, k.storage, t.storage, lse.storage, dy.storage, q.shape[0], k.shape[0], q.shape[1],
      scores?.storage);
    return [new Tensor(r.dq, q.shape, 'f32', q.backend), new Tensor(r.dk, k.shape, 'f32', q.backend), null];
  },
};
