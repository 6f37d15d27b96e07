// Indexing kernels: row gathers, ordered scatter-add, CSR × dense, and the index checks that guard them
// (run before any kernel writes, so a bad index never touches memory outside its buffers).
import { at, at64, hi64, lo64, pack32 } from './util';

/** Position of the first idx[i] outside [0, limit), or −1. */
export function firstBadIndex(idx: usize, n: i32, limit: i32): i32 {
  for (let i = 0; i < n; i++) {
    if (<u32>load<i32>(at(idx, i)) >= <u32>limit) return i;
  }
  return -1;
}

/** Position of the first indptr entry breaking 0 ≤ indptr[0] ≤ … ≤ indptr[rows] ≤ nnz, or −1. */
export function firstBadIndptr(indptr: usize, rows: i32, nnz: i32): i32 {
  let prev = 0;
  for (let r = 0; r <= rows; r++) {
    const v = load<i32>(at(indptr, r));
    if (v < prev || v > nnz) return r;
    prev = v;
  }
  return -1;
}

/** out[r] = table[idx[r]], rows of d 32-bit elements. */
export function gatherRows(table: usize, idx: usize, out: usize, rows: i32, d: i32): void {
  const bytes = <usize>d << 2;
  for (let r = 0; r < rows; r++) memory.copy(at(out, r * d), table + <usize>load<i32>(at(idx, r)) * bytes, bytes);
}

/** out[idx[r]] += src[r] for r in increasing order, accumulated in f64 (acc: outRows·d f64), rounded once. */
export function scatterAddRows(src: usize, idx: usize, out: usize, rows: i32, outRows: i32, d: i32, acc: usize): void {
  memory.fill(acc, 0, <usize>(outRows * d) << 3);
  for (let r = 0; r < rows; r++) {
    const s = at(src, r * d), a = at64(acc, load<i32>(at(idx, r)) * d);
    let j = 0;
    for (; j + 4 <= d; j += 4) {
      const v = v128.load(at(s, j));
      v128.store(at64(a, j), f64x2.add(v128.load(at64(a, j)), lo64(v)));
      v128.store(at64(a, j + 2), f64x2.add(v128.load(at64(a, j + 2)), hi64(v)));
    }
    for (; j < d; j++) store<f64>(at64(a, j), load<f64>(at64(a, j)) + <f64>load<f32>(at(s, j)));
  }
  demote(acc, out, outRows * d);
}

/** out[i] = f32(acc[i]) for i < n. */
function demote(acc: usize, out: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(at(out, j), pack32(v128.load(at64(acc, j)), v128.load(at64(acc, j + 2))));
  for (; j < n; j++) store<f32>(at(out, j), <f32>load<f64>(at64(acc, j)));
}

/**
 * out[r] = Σ_p values[p]·dense[indices[p]] over p in [indptr[r], indptr[r+1]), in f64 and in order of p.
 * Columns go 8 at a time so the four f64x2 accumulators stay in registers across the non-zeros.
 */
export function spmm(indptr: usize, indices: usize, values: usize, dense: usize, out: usize, rows: i32, d: i32): void {
  for (let r = 0; r < rows; r++) {
    const p0 = load<i32>(at(indptr, r)), p1 = load<i32>(at(indptr, r + 1));
    const o = at(out, r * d);
    let j = 0;
    for (; j + 8 <= d; j += 8) {
      let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let p = p0; p < p1; p++) {
        const w = f64x2.splat(<f64>load<f32>(at(values, p)));
        const x = at(dense, load<i32>(at(indices, p)) * d + j);
        const u = v128.load(x), v = v128.load(x, 16);
        a0 = f64x2.add(a0, f64x2.mul(lo64(u), w)); a1 = f64x2.add(a1, f64x2.mul(hi64(u), w));
        a2 = f64x2.add(a2, f64x2.mul(lo64(v), w)); a3 = f64x2.add(a3, f64x2.mul(hi64(v), w));
      }
      v128.store(at(o, j), pack32(a0, a1));
      v128.store(at(o, j), pack32(a2, a3), 16);
    }
    for (; j < d; j++) {
      let a = 0.0;
      for (let p = p0; p < p1; p++) a += <f64>load<f32>(at(values, p)) * <f64>load<f32>(at(dense, load<i32>(at(indices, p)) * d + j));
      store<f32>(at(o, j), <f32>a);
    }
  }
}
