/** Reductions and row-wise ops: sum/mean/max/min, softmax, log-sum-exp, top-k. */
import type { ReduceOp } from '../backend.js';
import { fmt, normAxis, sizeOf, type Shape } from '../shape.js';
import { record } from '../tape.js';
import { Tensor } from '../tensor.js';
import { checkDtype } from './check.js';
import { affine, sub } from './elementwise.js';
import { reshape } from './layout.js';

function reduceAxis(op: ReduceOp, x: Tensor, axis: number, keepDims: boolean): Tensor {
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const shape = keepDims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  const y = new Tensor(x.backend.reduce(op, x.storage, outer, x.shape[axis], inner), shape, 'f32', x.backend);
  record('reduce', [x], [y], { op, axis, keepDims });
  return y;
}

function reduce(op: ReduceOp, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  checkDtype(x, 'f32', op, 'x');
  // Intermediates are freed at once unless a tape recorded them: max/min gradients read their input
  // and output (freeing them made the backward pass fail with a use after dispose).
  const drop = (t: Tensor, next: Tensor) => { if (!next.requiresGrad) t.dispose(); };
  if (axes === undefined) {
    const flat = reshape(x, [x.size]);
    const y = reduceAxis(op, flat, 0, false);
    drop(flat, y);
    if (!keepDims) return y;
    const out = reshape(y, x.shape.map(() => 1));
    drop(y, out);
    return out;
  }
  const list = (typeof axes === 'number' ? [axes] : [...axes]).map((a) => normAxis(a, x.rank, op));
  const sorted = [...new Set(list)].sort((a, b) => b - a);
  let y = x;
  for (const a of sorted) {
    const next = reduceAxis(op, y, a, keepDims);
    if (y !== x) drop(y, next);
    y = next;
  }
  return y;
}

/** Σ over `axes` (all when omitted). */
export const sum = (x: Tensor, axes?: number | readonly number[], keepDims = false) => reduce('sum', x, axes, keepDims);
export const max = (x: Tensor, axes?: number | readonly number[], keepDims = false) => reduce('max', x, axes, keepDims);
export const min = (x: Tensor, axes?: number | readonly number[], keepDims = false) => reduce('min', x, axes, keepDims);

export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const s = sum(x, axes, keepDims);
  const m = affine(s, s.size / Math.max(1, x.size) || 0);
  s.dispose();
  return m;
}

/** Sums `x` down to `shape` (the adjoint of broadcasting to x.shape). */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  const off = x.rank - shape.length;
  const axes: number[] = [];
  x.shape.forEach((d, i) => {
    if (i < off || (shape[i - off] === 1 && d !== 1)) axes.push(i);
  });
  if (axes.length === 0) return reshape(x, shape);
  const s = sum(x, axes, true);
  const y = reshape(s, shape);
  s.dispose();
  return y;
}

function rowsOf(x: Tensor, op: string): [number, number] {
  checkDtype(x, 'f32', op, 'x');
  if (x.rank < 1) throw new Error(`${op}: needs rank ≥ 1, got a scalar`);
  const n = x.shape[x.rank - 1];
  return [x.size / Math.max(1, n) | 0, n];
}

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const [rows, n] = rowsOf(x, 'softmax');
  const y = new Tensor(x.backend.softmax(x.storage, rows, n), x.shape, 'f32', x.backend);
  record('softmax', [x], [y]);
  return y;
}

/** log Σ exp over the last axis (that axis is dropped). */
export function logSumExp(x: Tensor): Tensor {
  const [rows, n] = rowsOf(x, 'logSumExp');
  const y = new Tensor(x.backend.logSumExp(x.storage, rows, n), x.shape.slice(0, -1), 'f32', x.backend);
  record('logSumExp', [x], [y]);
  return y;
}

/** log softmax over the last axis: x − logSumExp(x). */
export function logSoftmax(x: Tensor): Tensor {
  const l = logSumExp(x);
  const lk = reshape(l, [...l.shape, 1]);
  const y = sub(x, lk);
  // The logSumExp gradient reads l: keep it (and its view) while a tape holds them.
  if (!y.requiresGrad) {
    l.dispose();
    lk.dispose();
  }
  return y;
}

/** The k largest values of each row (last axis), best first, with their i32 indices. Not differentiable. */
export function topk(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const [rows, n] = rowsOf(x, 'topk');
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`topk: k = ${k} must be an integer in [0, ${n}] for ${fmt(x.shape)}`);
  const r = x.backend.topk(x.storage, rows, n, k);
  const shape = [...x.shape.slice(0, -1), k];
  return { values: new Tensor(r.values, shape, 'f32', x.backend), indices: new Tensor(r.indices, shape, 'i32', x.backend) };
}
