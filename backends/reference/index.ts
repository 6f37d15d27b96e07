/**
 * The reference backend: plain TypeScript, the correctness oracle every other backend is compared with.
 *
 * Every kernel computes in double precision (JS numbers, double accumulators, fixed increasing
 * summation order) and rounds once when it stores its output. In precision 'f64' the f32-dtype
 * buffers are Float64Arrays, so nothing is rounded at all (finite-difference gradient checks).
 * Inputs are checked strictly (ownership, use after free, dtype, sizes, indices): a wrong call fails
 * loudly here instead of producing garbage that another backend might happen to reproduce.
 */
import type {
  AdamArgs, Backend, BinaryOp, DType, MatmulArgs, ReduceOp, Storage, UnaryOp,
} from '../../engine/backend.js';
import { COMPARISON_OPS, binaryFn, fma32, unaryDerivative, unaryFn } from './math.js';
import { RefStorage, checkCounts, checkShape, fail, stridedOffsets, type RefArray } from './storage.js';

export type Precision = 'f32' | 'f64';

export interface ReferenceBackend extends Backend {
  readonly name: 'reference';
  readonly precision: Precision;
  /** An f32-dtype buffer holding these values (rounded to float32 in precision 'f32'). */
  uploadF64(data: Float64Array | Float32Array): Storage;
  /** The buffer's contents as doubles (exact in precision 'f64'). */
  readF64(s: Storage): Float64Array;
  readSync(s: Storage): Float32Array | Int32Array;
}

export function createReferenceBackend(opts: { precision?: Precision } = {}): ReferenceBackend {
  return new Reference(opts.precision ?? 'f32');
}

class Reference implements ReferenceBackend {
  readonly name = 'reference' as const;
  private readonly live = new Set<RefStorage>();

  constructor(readonly precision: Precision) {
    if (precision !== 'f32' && precision !== 'f64') fail('create', `unknown precision '${String(precision)}'`);
  }

  // ---- memory -------------------------------------------------------------------------------------

  private alloc(size: number, dtype: DType): RefStorage {
    const data = dtype === 'i32' ? new Int32Array(size)
      : this.precision === 'f64' ? new Float64Array(size) : new Float32Array(size);
    const s = new RefStorage(size, dtype, data, this);
    this.live.add(s);
    return s;
  }

  /** The array behind an input, after checking it is ours, alive, of `dtype` and of `size` elements. */
  private arr(kernel: string, name: string, s: Storage, dtype?: DType, size?: number): RefArray {
    if (!(s instanceof RefStorage) || s.owner !== this) fail(kernel, `${name} is not a storage of this backend`);
    if (s.data === null) fail(kernel, `${name} was already freed (use after free)`);
    if (dtype !== undefined && s.dtype !== dtype) fail(kernel, `${name} must be ${dtype}, got ${s.dtype}`);
    if (size !== undefined && s.size !== size) fail(kernel, `${name} has ${s.size} elements, expected ${size}`);
    return s.data;
  }

  upload(data: Float32Array | Int32Array): Storage {
    if (data instanceof Int32Array) {
      const s = this.alloc(data.length, 'i32');
      s.data!.set(data);
      return s;
    }
    if (data instanceof Float32Array) return this.uploadF64(data);
    return fail('upload', 'data must be a Float32Array or an Int32Array');
  }

  uploadF64(data: Float64Array | Float32Array): Storage {
    if (!(data instanceof Float64Array || data instanceof Float32Array)) {
      fail('uploadF64', 'data must be a Float64Array or a Float32Array');
    }
    const s = this.alloc(data.length, 'f32');
    s.data!.set(data);
    return s;
  }

  zeros(size: number, dtype: DType): Storage {
    checkCounts('zeros', { size });
    if (dtype !== 'f32' && dtype !== 'i32') fail('zeros', `unknown dtype '${String(dtype)}'`);
    return this.alloc(size, dtype);
  }

  readSync(s: Storage): Float32Array | Int32Array {
    const a = this.arr('read', 'the storage', s);
    if (a instanceof Int32Array) return a.slice();
    return a instanceof Float32Array ? a.slice() : Float32Array.from(a);
  }

  async read(s: Storage): Promise<Float32Array | Int32Array> {
    return this.readSync(s);
  }

  readF64(s: Storage): Float64Array {
    return Float64Array.from(this.arr('readF64', 'the storage', s));
  }

  free(s: Storage): void {
    if (!(s instanceof RefStorage) || s.owner !== this) fail('free', 'the storage does not belong to this backend');
    if (s.data === null) {
      throw new Error(`reference backend: double free of a ${s.dtype} storage of ${s.size} elements`);
    }
    s.data = null;
    this.live.delete(s);
  }

  liveBuffers(): number {
    return this.live.size;
  }

  destroy(): void {
    for (const s of this.live) s.data = null;
    this.live.clear();
  }

  // ---- elementwise --------------------------------------------------------------------------------

  unary(op: UnaryOp, x: Storage): Storage {
    const f = unaryFn(op);
    const X = this.arr('unary', 'x', x, 'f32');
    const out = this.alloc(x.size, 'f32');
    const Y = out.data!;
    for (let i = 0; i < X.length; i++) Y[i] = f(X[i]);
    return out;
  }

  unaryGrad(op: UnaryOp, x: Storage, dy: Storage): Storage {
    const df = unaryDerivative(op);
    const X = this.arr('unaryGrad', 'x', x, 'f32');
    const DY = this.arr('unaryGrad', 'dy', dy, 'f32', x.size);
    const out = this.alloc(x.size, 'f32');
    const DX = out.data!;
    for (let i = 0; i < X.length; i++) DX[i] = df(X[i]) * DY[i];
    return out;
  }

  affine(x: Storage, alpha: number, beta: number): Storage {
    const X = this.arr('affine', 'x', x, 'f32');
    const out = this.alloc(x.size, 'f32');
    const Y = out.data!;
    for (let i = 0; i < X.length; i++) Y[i] = alpha * X[i] + beta;
    return out;
  }

  /** Arithmetic on two i32 inputs stays i32 (stored with ToInt32, so div truncates); otherwise f32. */
  binary(op: BinaryOp, a: Storage, b: Storage, shape: readonly number[],
    aStrides: readonly number[], bStrides: readonly number[]): Storage {
    const f = binaryFn(op);
    const A = this.arr('binary', 'a', a);
    const B = this.arr('binary', 'b', b);
    const oa = stridedOffsets('binary', 'a', shape, aStrides, 0, a.size);
    const ob = stridedOffsets('binary', 'b', shape, bStrides, 0, b.size);
    const intOut = !COMPARISON_OPS.has(op) && a.dtype === 'i32' && b.dtype === 'i32';
    const out = this.alloc(oa.length, intOut ? 'i32' : 'f32');
    const Y = out.data!;
    for (let i = 0; i < oa.length; i++) Y[i] = f(A[oa[i]], B[ob[i]]);
    return out;
  }

  where(cond: Storage, a: Storage, b: Storage): Storage {
    const C = this.arr('where', 'cond', cond);
    const A = this.arr('where', 'a', a, undefined, cond.size);
    const B = this.arr('where', 'b', b, a.dtype, cond.size);
    const out = this.alloc(cond.size, a.dtype);
    const Y = out.data!;
    for (let i = 0; i < C.length; i++) Y[i] = C[i] !== 0 ? A[i] : B[i];
    return out;
  }

  /** f32 → i32 truncates toward zero; NaN gives 0 and out-of-range values wrap (ToInt32). */
  cast(x: Storage, dtype: DType): Storage {
    if (dtype !== 'f32' && dtype !== 'i32') fail('cast', `unknown dtype '${String(dtype)}'`);
    const X = this.arr('cast', 'x', x);
    const out = this.alloc(x.size, dtype);
    const Y = out.data!;
    for (let i = 0; i < X.length; i++) Y[i] = dtype === 'i32' ? Math.trunc(X[i]) : X[i];
    return out;
  }

  // ---- layout -------------------------------------------------------------------------------------

  strided(x: Storage, shape: readonly number[], strides: readonly number[], offset: number): Storage {
    const X = this.arr('strided', 'x', x);
    const ox = stridedOffsets('strided', 'x', shape, strides, offset, x.size);
    const out = this.alloc(ox.length, x.dtype);
    const Y = out.data!;
    for (let i = 0; i < ox.length; i++) Y[i] = X[ox[i]];
    return out;
  }

  /** Where the view repeats an address (stride 0), the last element in row-major order wins. */
  writeStrided(src: Storage, dst: Storage, shape: readonly number[], strides: readonly number[], offset: number): void {
    const size = checkShape('writeStrided', shape);
    const S = this.arr('writeStrided', 'src', src, undefined, size).slice(); // src may alias dst
    const D = this.arr('writeStrided', 'dst', dst, src.dtype);
    const od = stridedOffsets('writeStrided', 'dst', shape, strides, offset, dst.size);
    for (let i = 0; i < od.length; i++) D[od[i]] = S[i];
  }

  // ---- linear algebra -----------------------------------------------------------------------------

  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage {
    const { batch, m, n, k, transA, transB, aBatchStride, bBatchStride } = args;
    checkCounts('matmul', { batch, m, n, k, aBatchStride, bBatchStride });
    // The highest element each operand's batch of matrices reaches (inputs may be larger).
    const need = (stride: number, size: number) => (batch === 0 || size === 0 ? 0 : (batch - 1) * stride + size);
    const A = this.arr('matmul', 'a', a, 'f32');
    const B = this.arr('matmul', 'b', b, 'f32');
    if (a.size < need(aBatchStride, m * k)) fail('matmul', `a has ${a.size} elements, needs ${need(aBatchStride, m * k)}`);
    if (b.size < need(bBatchStride, k * n)) fail('matmul', `b has ${b.size} elements, needs ${need(bBatchStride, k * n)}`);
    // Element strides of op(A) [m, k] and op(B) [k, n] inside one stored matrix.
    const [aRow, aCol] = transA ? [1, m] : [k, 1];
    const [bRow, bCol] = transB ? [1, k] : [n, 1];
    const out = this.alloc(batch * m * n, 'f32');
    const C = out.data!;
    for (let t = 0; t < batch; t++) {
      const a0 = t * aBatchStride;
      const b0 = t * bBatchStride;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += A[a0 + i * aRow + p * aCol] * B[b0 + p * bRow + j * bCol];
          C[(t * m + i) * n + j] = acc;
        }
      }
    }
    return out;
  }

  spmm(indptr: Storage, indices: Storage, values: Storage, dense: Storage, rows: number, d: number): Storage {
    const K = 'spmm';
    checkCounts(K, { rows, d });
    const P = this.arr(K, 'indptr', indptr, 'i32', rows + 1);
    const I = this.arr(K, 'indices', indices, 'i32');
    const V = this.arr(K, 'values', values, 'f32', indices.size);
    const X = this.arr(K, 'dense', dense, 'f32');
    if (d > 0 && dense.size % d !== 0) fail(K, `dense has ${dense.size} elements, not a multiple of d = ${d}`);
    const cols = d > 0 ? dense.size / d : Infinity;
    for (let r = 0; r < rows; r++) {
      if (P[r] < 0 || P[r] > P[r + 1] || P[r + 1] > indices.size) {
        fail(K, `indptr[${r}..${r + 1}] = ${P[r]}..${P[r + 1]} is not a valid range of ${indices.size} non-zeros`);
      }
    }
    const out = this.alloc(rows * d, 'f32');
    const Y = out.data!;
    const acc = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      acc.fill(0);
      for (let e = P[r]; e < P[r + 1]; e++) {
        const c = I[e];
        if (c < 0 || c >= cols) fail(K, `indices[${e}] = ${c} is outside [0, ${cols}) (dense rows)`);
        for (let j = 0; j < d; j++) acc[j] += V[e] * X[c * d + j];
      }
      for (let j = 0; j < d; j++) Y[r * d + j] = acc[j];
    }
    return out;
  }

  // ---- reductions and row ops ---------------------------------------------------------------------

  /** sum of nothing is 0, max −Infinity, min +Infinity; max/min propagate NaN. i32 input gives i32. */
  reduce(op: ReduceOp, x: Storage, outer: number, n: number, inner: number): Storage {
    checkCounts('reduce', { outer, n, inner });
    if (op !== 'sum' && op !== 'max' && op !== 'min') fail('reduce', `unknown op '${String(op)}'`);
    const X = this.arr('reduce', 'x', x, undefined, outer * n * inner);
    const f = op === 'sum' ? (s: number, v: number) => s + v : op === 'max' ? Math.max : Math.min;
    const init = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
    const out = this.alloc(outer * inner, x.dtype);
    const Y = out.data!;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let acc = init;
        for (let t = 0; t < n; t++) acc = f(acc, X[(o * n + t) * inner + j]);
        Y[o * inner + j] = acc;
      }
    }
    return out;
  }

  /** Stable (max subtracted). A row whose max is ±Infinity or NaN (e.g. all −Infinity) gives NaN. */
  softmax(x: Storage, rows: number, n: number): Storage {
    checkCounts('softmax', { rows, n });
    const X = this.arr('softmax', 'x', x, 'f32', rows * n);
    const out = this.alloc(rows * n, 'f32');
    const Y = out.data!;
    const e = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      const mx = rowMax(X, r * n, n);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (e[j] = Math.exp(X[r * n + j] - mx));
      for (let j = 0; j < n; j++) Y[r * n + j] = e[j] / sum;
    }
    return out;
  }

  /** max + log Σ exp(x − max); a row whose max is ±Infinity gives that infinity, empty rows −Infinity. */
  logSumExp(x: Storage, rows: number, n: number): Storage {
    checkCounts('logSumExp', { rows, n });
    const X = this.arr('logSumExp', 'x', x, 'f32', rows * n);
    const out = this.alloc(rows, 'f32');
    const Y = out.data!;
    for (let r = 0; r < rows; r++) {
      const mx = rowMax(X, r * n, n);
      if (!Number.isFinite(mx)) { Y[r] = mx; continue; }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(X[r * n + j] - mx);
      Y[r] = mx + Math.log(sum);
    }
    return out;
  }

  /** NaN ranks below every number (−Infinity included); equal values keep the lower index first. */
  topk(x: Storage, rows: number, n: number, k: number): { values: Storage; indices: Storage } {
    checkCounts('topk', { rows, n, k });
    if (k > n) fail('topk', `k = ${k} exceeds the row length n = ${n}`);
    const X = this.arr('topk', 'x', x, 'f32', rows * n);
    const values = this.alloc(rows * k, 'f32');
    const indices = this.alloc(rows * k, 'i32');
    const V = values.data!;
    const I = indices.data!;
    const order = new Array<number>(n);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) order[j] = j;
      order.sort((p, q) => {
        const a = X[r * n + p];
        const b = X[r * n + q];
        const aNaN = Number.isNaN(a);
        const bNaN = Number.isNaN(b);
        if (aNaN || bNaN) return aNaN === bNaN ? p - q : aNaN ? 1 : -1;
        return a > b ? -1 : a < b ? 1 : p - q;
      });
      for (let j = 0; j < k; j++) {
        V[r * k + j] = X[r * n + order[j]];
        I[r * k + j] = order[j];
      }
    }
    return { values, indices };
  }

  layerNorm(x: Storage, gamma: Storage, beta: Storage, rows: number, d: number, eps: number):
    { y: Storage; mean: Storage; rstd: Storage } {
    checkCounts('layerNorm', { rows, d });
    const X = this.arr('layerNorm', 'x', x, 'f32', rows * d);
    const G = this.arr('layerNorm', 'gamma', gamma, 'f32', d);
    const Bt = this.arr('layerNorm', 'beta', beta, 'f32', d);
    const y = this.alloc(rows * d, 'f32');
    const mean = this.alloc(rows, 'f32');
    const rstd = this.alloc(rows, 'f32');
    const [Y, M, R] = [y.data!, mean.data!, rstd.data!];
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      let mu = 0;
      for (let j = 0; j < d; j++) mu += X[o + j];
      mu /= d;
      let v = 0;
      for (let j = 0; j < d; j++) v += (X[o + j] - mu) ** 2;
      const rs = 1 / Math.sqrt(v / d + eps);
      for (let j = 0; j < d; j++) Y[o + j] = (X[o + j] - mu) * rs * G[j] + Bt[j];
      M[r] = mu;
      R[r] = rs;
    }
    return { y, mean, rstd };
  }

  /** Uses mean and rstd as stored by layerNorm; dgamma and dbeta sum over rows in increasing order. */
  layerNormGrad(dy: Storage, x: Storage, gamma: Storage, mean: Storage, rstd: Storage, rows: number, d: number):
    { dx: Storage; dgamma: Storage; dbeta: Storage } {
    const K = 'layerNormGrad';
    checkCounts(K, { rows, d });
    const DY = this.arr(K, 'dy', dy, 'f32', rows * d);
    const X = this.arr(K, 'x', x, 'f32', rows * d);
    const G = this.arr(K, 'gamma', gamma, 'f32', d);
    const M = this.arr(K, 'mean', mean, 'f32', rows);
    const R = this.arr(K, 'rstd', rstd, 'f32', rows);
    const dx = this.alloc(rows * d, 'f32');
    const DX = dx.data!;
    const dg = new Float64Array(d);
    const db = new Float64Array(d);
    const xhat = new Float64Array(d);
    const dxhat = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      let s1 = 0; // Σ dxhat
      let s2 = 0; // Σ dxhat · xhat
      for (let j = 0; j < d; j++) {
        xhat[j] = (X[o + j] - M[r]) * R[r];
        dxhat[j] = DY[o + j] * G[j];
        s1 += dxhat[j];
        s2 += dxhat[j] * xhat[j];
        dg[j] += DY[o + j] * xhat[j];
        db[j] += DY[o + j];
      }
      for (let j = 0; j < d; j++) DX[o + j] = R[r] * (dxhat[j] - s1 / d - xhat[j] * (s2 / d));
    }
    const dgamma = this.alloc(d, 'f32');
    const dbeta = this.alloc(d, 'f32');
    dgamma.data!.set(dg);
    dbeta.data!.set(db);
    return { dx, dgamma, dbeta };
  }

  // ---- indexing -----------------------------------------------------------------------------------

  gatherRows(table: Storage, idx: Storage, tableRows: number, d: number): Storage {
    checkCounts('gatherRows', { tableRows, d });
    const T = this.arr('gatherRows', 'table', table, undefined, tableRows * d);
    const I = this.arr('gatherRows', 'idx', idx, 'i32');
    checkIndices('gatherRows', I, tableRows);
    const out = this.alloc(idx.size * d, table.dtype);
    const Y = out.data!;
    for (let r = 0; r < I.length; r++) Y.set(T.subarray(I[r] * d, I[r] * d + d), r * d);
    return out;
  }

  scatterAddRows(src: Storage, idx: Storage, outRows: number, d: number): Storage {
    checkCounts('scatterAddRows', { outRows, d });
    const I = this.arr('scatterAddRows', 'idx', idx, 'i32');
    const S = this.arr('scatterAddRows', 'src', src, 'f32', idx.size * d);
    checkIndices('scatterAddRows', I, outRows);
    const acc = new Float64Array(outRows * d);
    for (let r = 0; r < I.length; r++) {
      for (let j = 0; j < d; j++) acc[I[r] * d + j] += S[r * d + j];
    }
    const out = this.alloc(outRows * d, 'f32');
    out.data!.set(acc);
    return out;
  }

  // ---- optimiser ----------------------------------------------------------------------------------

  /**
   * torch 1.13 single-tensor Adam, operation by operation. In precision 'f32' every tensor op rounds
   * to float32 and scalars are converted to float32 as torch does; add-with-alpha and addcmul are
   * fused (fma). In precision 'f64' the same sequence runs unrounded.
   */
  adam(param: Storage, grad: Storage, m: Storage, v: Storage, args: AdamArgs): void {
    const { lr, beta1, beta2, eps, weightDecay, step } = args;
    if (!Number.isSafeInteger(step) || step < 1) fail('adam', `step must be an integer ≥ 1, got ${step}`);
    const P = this.arr('adam', 'param', param, 'f32');
    const G = this.arr('adam', 'grad', grad, 'f32', param.size);
    const Mt = this.arr('adam', 'm', m, 'f32', param.size);
    const Vt = this.arr('adam', 'v', v, 'f32', param.size);
    const f32 = this.precision === 'f32';
    const rd = f32 ? Math.fround : (x: number) => x;
    const fma = f32 ? fma32 : (a: number, b: number, c: number) => a * b + c;
    const bc1 = 1 - beta1 ** step;
    const bc2 = 1 - beta2 ** step;
    const negStep = rd(-(lr / bc1));
    const sqrtBc2 = rd(Math.sqrt(bc2));
    const [b1, b2, omb1, omb2, e, wd] = [beta1, beta2, 1 - beta1, 1 - beta2, eps, weightDecay].map(rd);
    for (let i = 0; i < P.length; i++) {
      let g = G[i];
      if (weightDecay !== 0) g = fma(wd, P[i], g); // grad.add(param, alpha=wd)
      const mi = fma(omb1, g, rd(b1 * Mt[i])); // exp_avg.mul_(b1).add_(grad, alpha=1-b1)
      const vi = fma(rd(omb2 * g), g, rd(b2 * Vt[i])); // exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
      const denom = rd(rd(rd(Math.sqrt(vi)) / sqrtBc2) + e); // (v.sqrt() / sqrt(bc2)).add_(eps)
      P[i] = rd(P[i] + rd(rd(negStep * mi) / denom)); // param.addcdiv_(m, denom, value=-lr/bc1)
      Mt[i] = mi;
      Vt[i] = vi;
    }
  }
}

/** The row maximum, NaN if any element is NaN; −Infinity for an empty row. */
function rowMax(X: RefArray, o: number, n: number): number {
  let mx = -Infinity;
  for (let j = 0; j < n; j++) mx = Math.max(mx, X[o + j]);
  return mx;
}

function checkIndices(kernel: string, I: RefArray, rows: number): void {
  for (let r = 0; r < I.length; r++) {
    if (I[r] < 0 || I[r] >= rows) fail(kernel, `idx[${r}] = ${I[r]} is outside [0, ${rows})`);
  }
}
