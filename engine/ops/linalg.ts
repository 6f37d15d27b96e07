/** Matrix products, sparse products, embedding gathers and layer norm. */
import { fmt } from '../shape.js';
import { record } from '../tape.js';
import { keep, Tensor } from '../tensor.js';
import { checkDtype, sameBackend } from './check.js';
import { tensor } from './create.js';
import { add } from './elementwise.js';

export interface MatmulOptions { transA?: boolean; transB?: boolean }

/**
 * op(a) · op(b) for rank-2 or batched rank-3 operands (a rank-2 operand is shared across the batch).
 *
 * @example
 * const scores = matmul(users, items, { transB: true });   // [B, d] · [N, d]ᵀ → [B, N]
 */
export function matmul(a: Tensor, b: Tensor, { transA = false, transB = false }: MatmulOptions = {}): Tensor {
  checkDtype(a, 'f32', 'matmul', 'a');
  checkDtype(b, 'f32', 'matmul', 'b');
  sameBackend('matmul', a, b);
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new Error(`matmul: operands must have rank 2 or 3, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [k2, n] = transB ? [bc, br] : [br, bc];
  const batchA = a.rank === 3 ? a.shape[0] : 0;
  const batchB = b.rank === 3 ? b.shape[0] : 0;
  if (k !== k2 || (batchA && batchB && batchA !== batchB)) {
    throw new Error(`matmul: shapes ${fmt(a.shape)}${transA ? 'ᵀ' : ''} and ${fmt(b.shape)}${transB ? 'ᵀ' : ''} do not agree (inner ${k} vs ${k2})`);
  }
  const batch = Math.max(batchA, batchB, 1);
  const out = a.backend.matmul(a.storage, b.storage, {
    batch, m, n, k, transA, transB,
    aBatchStride: batchA ? m * k : 0, bBatchStride: batchB ? k * n : 0,
  });
  const y = new Tensor(out, batchA || batchB ? [batch, m, n] : [m, n], 'f32', a.backend);
  record('matmul', [a, b], [y], { transA, transB });
  return y;
}

/**
 * x·wᵀ + b, a Linear layer's product: x [m, k], w [n, k] (PyTorch layout), b [n]. One backend call where the
 * backend adds the bias inside its product (matmulBias), else matmul then add: the same values either way.
 *
 * @example
 * const y = linear(x, weight, bias);   // [B, 64] · [128, 64]ᵀ + [128] → [B, 128]
 */
export function linear(x: Tensor, w: Tensor, b: Tensor): Tensor {
  for (const [t, name] of [[x, 'x'], [w, 'w'], [b, 'b']] as const) checkDtype(t, 'f32', 'linear', name);
  sameBackend('linear', x, w, b);
  if (x.rank !== 2 || w.rank !== 2 || b.rank !== 1 || x.shape[1] !== w.shape[1] || b.shape[0] !== w.shape[0]) {
    throw new Error(`linear: needs x [m, k], w [n, k] and b [n], got ${fmt(x.shape)}, ${fmt(w.shape)} and ${fmt(b.shape)}`);
  }
  const be = x.backend;
  if (!be.matmulBias) return add(matmul(x, w, { transB: true }), b);
  const [m, k] = x.shape, n = w.shape[0];
  const out = be.matmulBias(x.storage, w.storage, b.storage,
    { batch: 1, m, n, k, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 });
  const y = new Tensor(out, [m, n], 'f32', be);
  record('linear', [x, w, b], [y]);
  return y;
}

/** A CSR sparse matrix held on the backend (its transpose too, for gradients). */
export class CsrMatrix {
  private constructor(
    readonly rows: number, readonly cols: number,
    readonly indptr: Tensor, readonly indices: Tensor, readonly values: Tensor,
    private transposed: CsrMatrix | null,
  ) {}

  /** Uploads a CSR matrix; `symmetric` skips building the transpose (LightGCN's Â is symmetric). */
  static fromHost(rows: number, cols: number, indptr: Int32Array, indices: Int32Array, values: Float32Array, symmetric = false): CsrMatrix {
    if (indptr.length !== rows + 1 || indptr[0] !== 0 || indptr[rows] !== indices.length || indices.length !== values.length) {
      throw new Error(`CsrMatrix: inconsistent CSR arrays (rows ${rows}, indptr ${indptr.length}, indices ${indices.length}, values ${values.length})`);
    }
    for (let r = 0; r < rows; r++) {
      if (indptr[r + 1] < indptr[r]) throw new Error(`CsrMatrix: indptr decreases at row ${r}`);
    }
    for (let i = 0; i < indices.length; i++) {
      if (indices[i] < 0 || indices[i] >= cols) throw new Error(`CsrMatrix: column index ${indices[i]} at position ${i} is outside [0, ${cols})`);
    }
    const m = new CsrMatrix(rows, cols, keep(tensor(indptr)), keep(tensor(indices)), keep(tensor(values)), null);
    m.transposed = symmetric ? m : CsrMatrix.fromHost(cols, rows, ...transposeCsr(rows, cols, indptr, indices, values), true);
    if (!symmetric) m.transposed.transposed = m;
    return m;
  }

  get T(): CsrMatrix {
    return this.transposed!;
  }

  dispose(): void {
    for (const t of [this.indptr, this.indices, this.values]) t.dispose();
    if (this.transposed && this.transposed !== this) {
      const t = this.transposed;
      this.transposed = null;
      t.dispose();
    }
  }
}

function transposeCsr(rows: number, cols: number, indptr: Int32Array, indices: Int32Array, values: Float32Array): [Int32Array, Int32Array, Float32Array] {
  const tp = new Int32Array(cols + 1);
  for (const c of indices) tp[c + 1]++;
  for (let c = 0; c < cols; c++) tp[c + 1] += tp[c];
  const fill = tp.slice(0, cols);
  const ti = new Int32Array(indices.length);
  const tv = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      const dst = fill[indices[p]]++;
      ti[dst] = r;
      tv[dst] = values[p];
    }
  }
  return [tp, ti, tv];
}

/** A · dense for CSR A [rows, cols] and dense [cols, d]; differentiable in `dense`. */
export function spmm(a: CsrMatrix, dense: Tensor): Tensor {
  checkDtype(dense, 'f32', 'spmm', 'dense');
  if (dense.rank !== 2 || dense.shape[0] !== a.cols) {
    throw new Error(`spmm: dense must be [${a.cols}, d] for a ${a.rows}×${a.cols} sparse matrix, got ${fmt(dense.shape)}`);
  }
  const d = dense.shape[1];
  const out = dense.backend.spmm(a.indptr.storage, a.indices.storage, a.values.storage, dense.storage, a.rows, d);
  const y = new Tensor(out, [a.rows, d], 'f32', dense.backend);
  record('spmm', [dense], [y], { a });
  return y;
}

/** Rows of `table` [n, d] at i32 `idx` [m] → [m, d] (an embedding lookup). */
export function gatherRows(table: Tensor, idx: Tensor): Tensor {
  checkDtype(table, 'f32', 'gatherRows', 'table');
  checkDtype(idx, 'i32', 'gatherRows', 'idx');
  sameBackend('gatherRows', table, idx);
  if (table.rank !== 2 || idx.rank !== 1) {
    throw new Error(`gatherRows: table must be [n, d] and idx [m], got ${fmt(table.shape)} and ${fmt(idx.shape)}`);
  }
  const [n, d] = table.shape;
  const y = new Tensor(table.backend.gatherRows(table.storage, idx.storage, n, d), [idx.size, d], 'f32', table.backend);
  record('gatherRows', [table, idx], [y]);
  return y;
}

/** out [n, d] with out[idx[r]] += src[r] (the adjoint of gatherRows). */
export function scatterAddRows(src: Tensor, idx: Tensor, n: number): Tensor {
  checkDtype(src, 'f32', 'scatterAddRows', 'src');
  checkDtype(idx, 'i32', 'scatterAddRows', 'idx');
  sameBackend('scatterAddRows', src, idx);
  if (src.rank !== 2 || idx.rank !== 1 || idx.size !== src.shape[0]) {
    throw new Error(`scatterAddRows: src must be [m, d] and idx [m], got ${fmt(src.shape)} and ${fmt(idx.shape)}`);
  }
  const d = src.shape[1];
  const y = new Tensor(src.backend.scatterAddRows(src.storage, idx.storage, n, d), [n, d], 'f32', src.backend);
  record('scatterAddRows', [src, idx], [y], { n });
  return y;
}

/** Layer normalisation over the last axis (biased variance), scaled by gamma and shifted by beta. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  checkDtype(x, 'f32', 'layerNorm', 'x');
  checkDtype(gamma, 'f32', 'layerNorm', 'gamma');
  checkDtype(beta, 'f32', 'layerNorm', 'beta');
  sameBackend('layerNorm', x, gamma, beta);
  const d = x.shape[x.rank - 1];
  if (gamma.size !== d || beta.size !== d) {
    throw new Error(`layerNorm: gamma ${fmt(gamma.shape)} and beta ${fmt(beta.shape)} must have ${d} elements for x ${fmt(x.shape)}`);
  }
  const rows = x.size / d;
  const r = x.backend.layerNorm(x.storage, gamma.storage, beta.storage, rows, d, eps);
  const y = new Tensor(r.y, x.shape, 'f32', x.backend);
  const mean = new Tensor(r.mean, [rows], 'f32', x.backend);
  const rstd = new Tensor(r.rstd, [rows], 'f32', x.backend);
  record('layerNorm', [x, gamma, beta], [y, mean, rstd]);
  if (!y.requiresGrad) {
    // Not on a tape: the statistics are only needed by the backward pass.
    mean.dispose();
    rstd.dispose();
  }
  return y;
}
