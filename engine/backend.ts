/**
 * The backend contract: the only thing a backend implements.
 *
 * A backend owns flat buffers (`Storage`) of f32 or i32 elements and runs kernels over them. It knows
 * nothing about shapes beyond the integers each kernel takes, nothing about autodiff and nothing about
 * scopes: the engine (tensor.ts, ops.ts, grad.ts) does all of that once, above every backend.
 *
 * Rules every backend follows:
 * - Kernels are dispatched synchronously and return fresh storage; only `read` may be asynchronous.
 * - Every kernel is deterministic: the same inputs give the same bits (fixed summation order, no atomics).
 * - Inputs are never modified, except the explicit in-place kernels `writeStrided` and `adam`.
 * - Strides and offsets are in elements. A stride of 0 broadcasts.
 */
export type DType = 'f32' | 'i32';

/** An opaque buffer owned by one backend. */
export interface Storage {
  readonly size: number;
  readonly dtype: DType;
}

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'sigmoid' | 'tanh' | 'relu' | 'gelu' | 'erf'
  | 'silu' | 'softplus' | 'sin' | 'cos' | 'square' | 'reciprocal';
export const UNARY_OPS: readonly UnaryOp[] = [
  'neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'sigmoid', 'tanh', 'relu', 'gelu', 'erf',
  'silu', 'softplus', 'sin', 'cos', 'square', 'reciprocal',
];

/** Comparisons produce 1 or 0 as f32. `pow` is a^b for a > 0 or integral b, as Math.pow. */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
export const BINARY_OPS: readonly BinaryOp[] = [
  'add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
];

export type ReduceOp = 'sum' | 'max' | 'min';

/**
 * C[b] = op(A[b]) · op(B[b]) for b < batch, row-major, op = transpose when the flag is set.
 * A[b] starts at b·aBatchStride (0 broadcasts one matrix over the batch); likewise B. C is [batch, m, n].
 * Stored shapes: A is [m, k] (or [k, m] when transA), B is [k, n] (or [n, k] when transB).
 */
export interface MatmulArgs {
  batch: number; m: number; n: number; k: number;
  transA: boolean; transB: boolean;
  aBatchStride: number; bBatchStride: number;
}

export interface AdamArgs {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** 1-based step count, after increment. */
  step: number;
}

export interface Backend {
  readonly name: string;

  // ---- memory -------------------------------------------------------------------------------
  /** Copies host data into a new buffer; the dtype follows the array type. */
  upload(data: Float32Array | Int32Array): Storage;
  /** A new buffer of `size` elements, all zero. */
  zeros(size: number, dtype: DType): Storage;
  /** A new buffer whose contents are unspecified, for a caller that writes every element (else zeros). */
  empty?(size: number, dtype: DType): Storage;
  /** The buffer's contents, copied to the host. */
  read(s: Storage): Promise<Float32Array | Int32Array>;
  /** Synchronous read, where the backend can do it (CPU backends). */
  readSync?(s: Storage): Float32Array | Int32Array;
  free(s: Storage): void;
  /** How many buffers are allocated and not yet freed (leak checks). */
  liveBuffers(): number;
  /** Releases everything the backend holds. */
  destroy(): void;

  // ---- elementwise ------------------------------------------------------------------------------
  unary(op: UnaryOp, x: Storage): Storage;
  /** dx = f'(x) · dy, elementwise, for every unary op. */
  unaryGrad(op: UnaryOp, x: Storage, dy: Storage): Storage;
  /**
   * Optional: unary(op, x) and f'(x) in one pass, for the ops whose derivative falls out of the value's
   * work (null for the others). dy · dydx then has unaryGrad(op, x, dy)'s bits.
   */
  unaryWithDerivative?(op: UnaryOp, x: Storage): { y: Storage; dydx: Storage } | null;
  /** y = alpha · x + beta. */
  affine(x: Storage, alpha: number, beta: number): Storage;
  /**
   * out[i] = a[offset(i, aStrides)] op b[offset(i, bStrides)] over the row-major index space `shape`.
   * The output is contiguous with `shape`.
   */
  binary(op: BinaryOp, a: Storage, b: Storage, shape: readonly number[],
    aStrides: readonly number[], bStrides: readonly number[]): Storage;
  /** out[i] = cond[i] != 0 ? a[i] : b[i]; all the same size. */
  where(cond: Storage, a: Storage, b: Storage): Storage;
  /** Converts between f32 and i32 (f32 → i32 truncates toward zero). */
  cast(x: Storage, dtype: DType): Storage;

  // ---- layout -----------------------------------------------------------------------------------
  /** Materialises a strided view: out[i] = x[offset + Σ idx_k · strides_k], out contiguous with `shape`. */
  strided(x: Storage, shape: readonly number[], strides: readonly number[], offset: number): Storage;
  /** In place: dst[offset + Σ idx_k · strides_k] = src[i] for every i of the row-major space `shape`. */
  writeStrided(src: Storage, dst: Storage, shape: readonly number[], strides: readonly number[], offset: number): void;

  // ---- linear algebra ---------------------------------------------------------------------------
  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage;
  /** matmul with the row `bias` [n] added to every row of the result, the bits of a separate add (optional). */
  matmulBias?(a: Storage, b: Storage, bias: Storage, args: MatmulArgs): Storage;
  /** CSR [rows × cols] times dense [cols × d]; indptr and indices are i32, values f32. */
  spmm(indptr: Storage, indices: Storage, values: Storage, dense: Storage, rows: number, d: number): Storage;

  // ---- reductions and row ops -------------------------------------------------------------------
  /** x viewed as [outer, n, inner] reduced over n: out is [outer, inner]. */
  reduce(op: ReduceOp, x: Storage, outer: number, n: number, inner: number): Storage;
  /** Row-wise softmax of x [rows, n]. */
  softmax(x: Storage, rows: number, n: number): Storage;
  /** Row-wise log Σ exp of x [rows, n]: out is [rows]. */
  logSumExp(x: Storage, rows: number, n: number): Storage;
  /** The k largest of each row of x [rows, n], best first; ties keep the lower index first. */
  topk(x: Storage, rows: number, n: number, k: number): { values: Storage; indices: Storage };
  /** y = (x − mean) · rstd · gamma + beta per row of x [rows, d] (biased variance). */
  layerNorm(x: Storage, gamma: Storage, beta: Storage, rows: number, d: number, eps: number):
    { y: Storage; mean: Storage; rstd: Storage };
  layerNormGrad(dy: Storage, x: Storage, gamma: Storage, mean: Storage, rstd: Storage, rows: number, d: number):
    { dx: Storage; dgamma: Storage; dbeta: Storage };

  // ---- indexing ---------------------------------------------------------------------------------
  /** out[r] = table[idx[r]] for table [tableRows, d]; an index outside [0, tableRows) throws. */
  gatherRows(table: Storage, idx: Storage, tableRows: number, d: number): Storage;
  /** out [outRows, d] = Σ over r with idx[r] = row of src[r], summed in increasing r (deterministic). */
  scatterAddRows(src: Storage, idx: Storage, outRows: number, d: number): Storage;

  // ---- optimiser ----------------------------------------------------------------------------------
  /**
   * In place, PyTorch's Adam (and AdamW-free L2 weight decay: g += wd · p), in float32 with torch's order:
   * m = fma(1−b1, g, b1·m); v = fma((1−b2)·g, g, b2·v); p += (−lr/(1−b1^t))·m / (sqrt(v)/sqrt(1−b2^t) + eps),
   * bias corrections computed in double and rounded to float32.
   */
  adam(param: Storage, grad: Storage, m: Storage, v: Storage, args: AdamArgs): void;

  // ---- optional fused kernels: the engine composes the same result from the kernels above when a
  // ---- backend lacks one, so they only ever make things faster ---------------------------------------
  /**
   * Softmax cross-entropy over dot-product scores, without materialising the [rows, n] score matrix:
   * for each row i of Q [rows, d], lse_i = log Σ_j exp(q_i·k_j) over K [n, d] (j ascending, running
   * max) and loss_i = lse_i − q_i·k_{t_i}, t an i32 [rows] of targets in [0, n).
   */
  dotCrossEntropy?(q: Storage, k: Storage, targets: Storage, rows: number, n: number, d: number, keepScores?: boolean):
    { loss: Storage; lse: Storage; scores?: Storage };
  /**
   * Gradients of Σ_i dy_i · loss_i with p_ij = exp(q_i·k_j − lse_i):
   * dq_i = dy_i (Σ_j p_ij k_j − k_{t_i}), dk_j = Σ_i dy_i (p_ij − [t_i = j]) q_i, each summed in ascending order.
   * `scores` is what the forward returned when asked to keep its scores (in a layout of the backend's own,
   * bounded in size, or nothing): the gradient then reads the scores instead of recomputing them, with the
   * same result up to rounding.
   */
  dotCrossEntropyGrad?(q: Storage, k: Storage, targets: Storage, lse: Storage, dy: Storage, rows: number, n: number, d: number,
    scores?: Storage): { dq: Storage; dk: Storage };
  /**
   * n floats uniform in [0, 1): element i is (w >>> 8) · 2^-24 for word w = position + i of the
   * Philox4x32-10 stream under key (k0, k1), word w being word (w mod 4) of block ⌊w/4⌋ with counter
   * (⌊w/4⌋ mod 2^32, ⌊w/2^34⌋, 0, 0) — bit-identical to the host `Random.uniform`.
   */
  philoxUniform?(k0: number, k1: number, position: number, n: number): Storage;
  /**
   * n floats, a dropout mask: `scale` (rounded to float32) where the 16-bit draw h_i ≥ threshold (an
   * integer in [0, 65536]), else 0. The draws are the halves of philoxUniform's stream words from `position`
   * on, low half first: h_{2j} = w_j & 0xffff, h_{2j+1} = w_j >>> 16, ⌈n/2⌉ words in all.
   */
  philoxMask?(k0: number, k1: number, position: number, n: number, threshold: number, scale: number): Storage;
  /**
   * n normal floats: `boxMuller` (engine/random.ts) over philoxUniform(k0, k1, position, 2⌈n/2⌉) —
   * bit-identical to the host `Random.normal`.
   */
  philoxNormal?(k0: number, k1: number, position: number, n: number, mean: number, std: number): Storage;
  /** XᵀX of X [rows, d] accumulated in float64 (rows ascending), returned to the host (CPU backends). */
  gramF64?(x: Storage, rows: number, d: number): Float64Array;
  /** engine/linalg/svd.ts symmetricEigen, bit for bit, on host arrays (CPU backends with faster float64). */
  symmetricEigen?(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array };
}
