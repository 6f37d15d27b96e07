/** Layout ops: reshape (a free view), permute, slice, pad, concat and broadcast. */
import { broadcastStrides, checkShape, collapseDims, fmt, normAxis, sizeOf, stridesOf, type Shape } from '../shape.js';
import { record } from '../tape.js';
import { Tensor } from '../tensor.js';
import { checkTensor, sameBackend } from './check.js';
import { zeros } from './create.js';

/** Same values, new shape (one dimension may be -1). Shares storage with `x`. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkTensor(x, 'reshape', 'x');
  const free = shape.indexOf(-1);
  let s = [...shape];
  if (free >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== free));
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot infer -1 reshaping ${fmt(x.shape)} to ${fmt(shape)}`);
    s[free] = x.size / known;
  }
  checkShape(s, 'reshape');
  if (sizeOf(s) !== x.size) throw new Error(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(s)}`);
  const y = x.view(s);
  record('reshape', [x], [y]);
  return y;
}

function stridedCopy(x: Tensor, shape: Shape, strides: number[], offset: number): Tensor {
  const c = collapseDims(shape, [strides, stridesOf(shape)]);
  return new Tensor(x.backend.strided(x.storage, c.shape, c.strides[0], offset), shape, x.dtype, x.backend);
}

/** Reorders dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkTensor(x, 'permute', 'x');
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`permute: ${fmt(perm)} is not a permutation of the ${x.rank} axes of ${fmt(x.shape)}`);
  }
  const st = stridesOf(x.shape);
  const y = stridedCopy(x, perm.map((p) => x.shape[p]), perm.map((p) => st[p]), 0);
  record('permute', [x], [y], { perm });
  return y;
}

/** Swaps the last two dimensions. */
export function transpose(x: Tensor): Tensor {
  checkTensor(x, 'transpose', 'x');
  if (x.rank < 2) throw new Error(`transpose: needs rank ≥ 2, got ${fmt(x.shape)}`);
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return permute(x, perm);
}

/** The block starting at `begin` with `size` (−1 = to the end) along each axis. */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  checkTensor(x, 'slice', 'x');
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new Error(`slice: begin ${fmt(begin)} and size ${fmt(size)} must have one entry per axis of ${fmt(x.shape)}`);
  }
  const sz = size.map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s));
  sz.forEach((s, i) => {
    if (begin[i] < 0 || s < 0 || begin[i] + s > x.shape[i]) {
      throw new Error(`slice: begin ${fmt(begin)} size ${fmt(size)} is out of bounds for ${fmt(x.shape)} (axis ${i})`);
    }
  });
  const st = stridesOf(x.shape);
  const offset = begin.reduce((acc, b, i) => acc + b * st[i], 0);
  const y = stridedCopy(x, sz, st, offset);
  record('slice', [x], [y], { begin });
  return y;
}

/** Zeros of `shape` with `x` written at `begin` (the adjoint of slice). */
export function pad(x: Tensor, begin: readonly number[], shape: Shape): Tensor {
  checkTensor(x, 'pad', 'x');
  if (begin.length !== x.rank || shape.length !== x.rank || x.shape.some((d, i) => begin[i] < 0 || begin[i] + d > shape[i])) {
    throw new Error(`pad: ${fmt(x.shape)} at ${fmt(begin)} does not fit in ${fmt(shape)}`);
  }
  const y = zeros(shape, x.dtype);
  writeInto(x, y, begin);
  record('pad', [x], [y], { begin });
  return y;
}

function writeInto(src: Tensor, dst: Tensor, begin: readonly number[]): void {
  const st = stridesOf(dst.shape);
  const offset = begin.reduce((acc, b, i) => acc + b * st[i], 0);
  const c = collapseDims(src.shape, [stridesOf(src.shape), st]);
  dst.backend.writeStrided(src.storage, dst.storage, c.shape, c.strides[1], offset);
}

/** Joins tensors along `axis`; every other dimension must agree. */
export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  xs.forEach((x, i) => checkTensor(x, 'concat', `xs[${i}]`));
  sameBackend('concat', ...xs);
  const first = xs[0];
  const ax = normAxis(axis, first.rank, 'concat');
  xs.forEach((x, i) => {
    if (x.rank !== first.rank || x.dtype !== first.dtype || x.shape.some((d, k) => k !== ax && d !== first.shape[k])) {
      throw new Error(`concat: xs[${i}] ${x.dtype}${fmt(x.shape)} does not match xs[0] ${first.dtype}${fmt(first.shape)} off axis ${ax}`);
    }
  });
  const shape = [...first.shape];
  shape[ax] = xs.reduce((acc, x) => acc + x.shape[ax], 0);
  // every element is written below: no zero fill where the backend can skip it
  const b = first.backend;
  const y = b.empty ? new Tensor(b.empty(sizeOf(shape), first.dtype), shape, first.dtype, b) : zeros(shape, first.dtype);
  let at = 0;
  for (const x of xs) {
    const begin = shape.map((_, k) => (k === ax ? at : 0));
    writeInto(x, y, begin);
    at += x.shape[ax];
  }
  record('concat', xs, [y], { axis: ax });
  return y;
}

/** Materialises `x` broadcast to `shape` (NumPy rules). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  checkTensor(x, 'broadcastTo', 'x');
  const off = shape.length - x.rank;
  if (off < 0 || x.shape.some((d, i) => d !== 1 && d !== shape[i + off])) {
    throw new Error(`broadcastTo: cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
  }
  const y = stridedCopy(x, shape, broadcastStrides(x.shape, shape), 0);
  record('broadcastTo', [x], [y]);
  return y;
}
