/** Creating tensors from host values. */
import type { DType } from '../backend.js';
import { checkShape, fmt, sizeOf, type Shape } from '../shape.js';
import { getBackend, Tensor } from '../tensor.js';

export type HostData = Float32Array | Int32Array | number[];

/**
 * A tensor from host values (copied). The dtype follows the array type (number[] → f32 unless `dtype`).
 *
 * @example
 * const x = tensor([1, 2, 3, 4], [2, 2]);
 * const ids = tensor(new Int32Array([0, 3, 1]));
 */
export function tensor(values: HostData, shape?: Shape, dtype?: DType): Tensor {
  const dt: DType = dtype ?? (values instanceof Int32Array ? 'i32' : 'f32');
  const s = shape ?? [values.length];
  checkShape(s, 'tensor');
  if (sizeOf(s) !== values.length) {
    throw new Error(`tensor: ${values.length} values do not fill shape ${fmt(s)} (${sizeOf(s)} elements)`);
  }
  const data = dt === 'f32'
    ? (values instanceof Float32Array ? values : Float32Array.from(values))
    : (values instanceof Int32Array ? values : Int32Array.from(values, (v) => {
      if (!Number.isInteger(v)) throw new Error(`tensor: i32 tensor given the non-integer value ${v}`);
      return v;
    }));
  return new Tensor(getBackend().upload(data), s, dt);
}

export function scalar(value: number, dtype: DType = 'f32'): Tensor {
  return tensor([value], [], dtype);
}

export function zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
  checkShape(shape, 'zeros');
  return new Tensor(getBackend().zeros(sizeOf(shape), dtype), shape, dtype);
}

/** A tensor of `shape` filled with `value` (f32). */
export function full(shape: Shape, value: number): Tensor {
  checkShape(shape, 'full');
  const b = getBackend();
  const z = b.zeros(sizeOf(shape), 'f32');
  if (value === 0) return new Tensor(z, shape, 'f32');
  const s = b.affine(z, 0, value);
  b.free(z);
  return new Tensor(s, shape, 'f32');
}

export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}
