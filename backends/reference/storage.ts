/** Buffers of the reference backend and the argument checks its kernels share. */
import type { DType, Storage } from '../../engine/backend.js';

export type RefArray = Float32Array | Float64Array | Int32Array;

export class RefStorage implements Storage {
  /** Null once freed, so a use after free cannot silently read stale data. */
  data: RefArray | null;
  constructor(readonly size: number, readonly dtype: DType, data: RefArray, readonly owner: object) {
    this.data = data;
  }
}

export function fail(kernel: string, what: string): never {
  throw new Error(`reference backend: ${kernel}: ${what}`);
}

/** Checks that each named value is a non-negative safe integer (sizes, counts, strides of batches). */
export function checkCounts(kernel: string, counts: Record<string, number>): void {
  for (const [name, v] of Object.entries(counts)) {
    if (!Number.isSafeInteger(v) || v < 0) fail(kernel, `${name} must be a non-negative integer, got ${v}`);
  }
}

export function checkShape(kernel: string, shape: readonly number[]): number {
  let size = 1;
  shape.forEach((s, i) => {
    if (!Number.isSafeInteger(s) || s < 0) fail(kernel, `shape[${i}] must be a non-negative integer, got ${s}`);
    size *= s;
  });
  return size;
}

/**
 * The address of every element of the row-major index space `shape`, in order:
 * offset + Σ idx_k · strides_k. Rank 0 gives the single address `offset`.
 * Checks every address against [0, limit) (`what` names the operand in the error).
 */
export function stridedOffsets(kernel: string, what: string, shape: readonly number[],
  strides: readonly number[], offset: number, limit: number): Float64Array {
  const size = checkShape(kernel, shape);
  if (strides.length !== shape.length) {
    fail(kernel, `${what} has ${strides.length} strides for a rank-${shape.length} shape`);
  }
  strides.forEach((s, i) => {
    if (!Number.isSafeInteger(s)) fail(kernel, `${what} stride ${i} must be an integer, got ${s}`);
  });
  if (!Number.isSafeInteger(offset)) fail(kernel, `${what} offset must be an integer, got ${offset}`);
  const out = new Float64Array(size);
  if (size === 0) return out;
  // Lowest and highest address reached: each axis contributes 0 or (extent − 1) · stride.
  let lo = offset;
  let hi = offset;
  shape.forEach((n, k) => {
    const reach = (n - 1) * strides[k];
    if (reach < 0) lo += reach; else hi += reach;
  });
  if (lo < 0 || hi >= limit) {
    fail(kernel, `${what} addresses [${lo}, ${hi}] fall outside its storage of ${limit} elements`);
  }
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let addr = offset;
  for (let i = 0; i < size; i++) {
    out[i] = addr;
    // Odometer: bump the last axis, carrying into earlier ones.
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]++;
      addr += strides[k];
      if (idx[k] < shape[k]) break;
      addr -= idx[k] * strides[k];
      idx[k] = 0;
    }
  }
  return out;
}
