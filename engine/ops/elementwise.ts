/** Elementwise ops: unary functions, affine maps, broadcasting binary ops, where, cast. */
import type { BinaryOp, DType, UnaryOp } from '../backend.js';
import { broadcastShapes, broadcastStrides, collapseDims, fmt, sameShape } from '../shape.js';
import { isRecording, record } from '../tape.js';
import { Tensor } from '../tensor.js';
import { checkDtype, checkTensor, sameBackend } from './check.js';
import { scalar } from './create.js';

export function unary(op: UnaryOp, x: Tensor): Tensor {
  checkDtype(x, 'f32', op, 'x');
  const b = x.backend;
  // On the tape, keep f'(x) where the backend makes it with the value: the gradient is then one product.
  const r = x.requiresGrad && isRecording() ? b.unaryWithDerivative?.(op, x.storage) : null;
  if (!r) {
    const y = new Tensor(b.unary(op, x.storage), x.shape, 'f32', b);
    record('unary', [x], [y], { op });
    return y;
  }
  const y = new Tensor(r.y, x.shape, 'f32', b), dydx = new Tensor(r.dydx, x.shape, 'f32', b);
  record('unary', [x], [y, dydx], { op });
  return y;
}

export const neg = (x: Tensor) => unary('neg', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const abs = (x: Tensor) => unary('abs', x);
export const sign = (x: Tensor) => unary('sign', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const relu = (x: Tensor) => unary('relu', x);
/** Exact GELU: 0.5 · x · (1 + erf(x / √2)). */
export const gelu = (x: Tensor) => unary('gelu', x);
export const erf = (x: Tensor) => unary('erf', x);
export const silu = (x: Tensor) => unary('silu', x);
export const softplus = (x: Tensor) => unary('softplus', x);
export const sin = (x: Tensor) => unary('sin', x);
export const cos = (x: Tensor) => unary('cos', x);
export const square = (x: Tensor) => unary('square', x);
export const reciprocal = (x: Tensor) => unary('reciprocal', x);

/** alpha · x + beta, in one kernel. */
export function affine(x: Tensor, alpha: number, beta = 0): Tensor {
  checkDtype(x, 'f32', 'affine', 'x');
  const y = new Tensor(x.backend.affine(x.storage, alpha, beta), x.shape, 'f32', x.backend);
  record('affine', [x], [y], { alpha });
  return y;
}

export function binary(op: BinaryOp, a: Tensor | number, b: Tensor | number): Tensor {
  const ta = a instanceof Tensor ? a : scalar(a);
  const tb = b instanceof Tensor ? b : scalar(b);
  checkDtype(ta, 'f32', op, 'a');
  checkDtype(tb, 'f32', op, 'b');
  sameBackend(op, ta, tb);
  const shape = broadcastShapes(ta.shape, tb.shape, op);
  const c = collapseDims(shape, [broadcastStrides(ta.shape, shape), broadcastStrides(tb.shape, shape)]);
  const out = ta.backend.binary(op, ta.storage, tb.storage, c.shape, c.strides[0], c.strides[1]);
  const y = new Tensor(out, shape, 'f32', ta.backend);
  record('binary', [ta, tb], [y], { op });
  // A number operand became a scalar tensor: free it now unless the tape keeps it for the backward pass.
  if (!y.requiresGrad) {
    if (!(a instanceof Tensor)) ta.dispose();
    if (!(b instanceof Tensor)) tb.dispose();
  }
  return y;
}

/** a + b with broadcasting; a number operand costs no extra tensor. */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return affine(a, 1, b);
  if (typeof a === 'number' && b instanceof Tensor) return affine(b, 1, a);
  return binary('add', a, b);
}
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return affine(a, 1, -b);
  if (typeof a === 'number' && b instanceof Tensor) return affine(b, -1, a);
  return binary('sub', a, b);
}
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return affine(a, b, 0);
  if (typeof a === 'number' && b instanceof Tensor) return affine(b, a, 0);
  return binary('mul', a, b);
}
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return affine(a, 1 / b, 0);
  return binary('div', a, b);
}
export const maximum = (a: Tensor | number, b: Tensor | number) => binary('max', a, b);
export const minimum = (a: Tensor | number, b: Tensor | number) => binary('min', a, b);
export const pow = (a: Tensor | number, b: Tensor | number) => binary('pow', a, b);
export const equal = (a: Tensor | number, b: Tensor | number) => binary('eq', a, b);
export const notEqual = (a: Tensor | number, b: Tensor | number) => binary('ne', a, b);
export const less = (a: Tensor | number, b: Tensor | number) => binary('lt', a, b);
export const lessEqual = (a: Tensor | number, b: Tensor | number) => binary('le', a, b);
export const greater = (a: Tensor | number, b: Tensor | number) => binary('gt', a, b);
export const greaterEqual = (a: Tensor | number, b: Tensor | number) => binary('ge', a, b);

/** cond ≠ 0 ? a : b, elementwise; all three the same shape. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  checkDtype(cond, 'f32', 'where', 'cond');
  checkDtype(a, 'f32', 'where', 'a');
  checkDtype(b, 'f32', 'where', 'b');
  sameBackend('where', cond, a, b);
  if (!sameShape(cond.shape, a.shape) || !sameShape(a.shape, b.shape)) {
    throw new Error(`where: cond ${fmt(cond.shape)}, a ${fmt(a.shape)} and b ${fmt(b.shape)} must have the same shape`);
  }
  const y = new Tensor(a.backend.where(cond.storage, a.storage, b.storage), a.shape, 'f32', a.backend);
  record('where', [cond, a, b], [y]);
  return y;
}

/** Converts between f32 and i32 (toward zero); not differentiable. */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor(x, 'cast', 'x');
  return new Tensor(x.backend.cast(x.storage, dtype), x.shape, dtype, x.backend);
}
