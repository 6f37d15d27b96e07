/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend: every kernel of the backend contract as a WGSL compute shader (kernels/), recorded
 * into one command encoder and submitted in short batches (device.ts). Only `read` is asynchronous.
 *
 * The GPU object is injected: `navigator.gpu` in Deno and browsers, Dawn's `create()` from the npm
 * package `webgpu` in Node (imported lazily, only when no GPU object is given or found).
 *
 * @example
 * const backend = await createWebGpuBackend();                       // Node: Dawn; Deno: navigator.gpu
 * const backend = await createWebGpuBackend({ gpu: navigator.gpu, allowFallback: false });
 */
import type {
  AdamArgs, Backend, BinaryOp, DType, MatmulArgs, ReduceOp, Storage, UnaryOp,
} from '../../engine/backend.js';
import { Gpu, GpuError, type Binding, type GpuOptions, type Kernel } from './device.js';
import { groups1d, groupsRows } from './kernels/common.js';
import {
  affineSource, binarySource, castSource, MAX_RANK, stridedCopySource, unaryGradSource, unarySource, whereSource,
} from './kernels/elementwise.js';
import { adamSource, bitonicSource, gatherSource, scatterKeysSource, segmentSumSource } from './kernels/indexing.js';
import { matmulSource, spmmSource, TILE } from './kernels/linalg.js';
import {
  layerNormGradColumnsSource, layerNormGradRowsSource, layerNormSource, reduceColumnsSource, reduceRowsSource,
  softmaxSource, topkSource,
} from './kernels/rows.js';

export interface WebGpuOptions extends GpuOptions {
  /** The GPU entry point; default `navigator.gpu`, else Dawn from the `webgpu` package (Node). */
  gpu?: GPU;
  adapterOptions?: GPURequestAdapterOptions;
  /** Accept a fallback (software) adapter such as lavapipe or SwiftShader (default true). */
  allowFallback?: boolean;
}

export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  /** True on a software (fallback) adapter. */
  readonly fallback: boolean;
  readonly adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  /** Submits recorded work and resolves when the GPU has finished it. */
  sync(): Promise<void>;
  /** The runtime (batches, pool), for tests and the stress script. */
  readonly gpu: Gpu;
}

let nodeGpu: Promise<GPU> | null = null;

/**
 * Dawn's GPU object, created once per process and never released (Node only; the import is what pulls
 * in the addon). It must stay referenced while any device made from it lives: once the GPU object is
 * garbage-collected Dawn frees its instance, yet the binding keeps polling `instance.ProcessEvents()`
 * while a promise is pending: segfaults, aborts and hangs (benchmarks/webgpu/crash-repro.ts).
 */
async function dawn(): Promise<GPU> {
  nodeGpu ??= (async () => {
    const mod = await import('webgpu') as unknown as { create(flags: string[]): GPU };
    return mod.create([]);
  })();
  return nodeGpu;
}

export async function createWebGpuBackend(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const gpu = opts.gpu ?? nav?.gpu ?? await dawn();
  const adapter = await gpu.requestAdapter(opts.adapterOptions);
  if (!adapter) {
    throw new Error('webgpu backend: no WebGPU adapter found (no GPU driver; on Linux without a GPU, install ' +
      "Mesa's lavapipe: mesa-vulkan-drivers ≥ 24, e.g. from bookworm-backports)");
  }
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const fallback = Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter
    ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  if (fallback && opts.allowFallback === false) {
    throw new Error(`webgpu backend: only a fallback (software) adapter is available (${info.description || info.vendor || 'unknown'})`);
  }
  const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension'] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredLimits });
  const adapterInfo = {
    vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '',
  };
  // The runtime holds the GPU object and the adapter for as long as the device (see dawn()).
  return new WebGpu(new Gpu(device, fallback, opts, [gpu, adapter]), adapterInfo);
}

class GpuStorage implements Storage {
  constructor(readonly owner: WebGpu, public buffer: GPUBuffer | null, readonly size: number, readonly dtype: DType,
    /** A host copy of uploaded i32 data (index arrays): lets index checks throw at dispatch time. */
    readonly host: Int32Array | null = null) {}
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const f32Bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];
/** Host copies kept for i32 uploads up to this many elements. */
const HOST_SHADOW_MAX = 1 << 22;
const ERR_NAMES: [number, string][] = [[1, 'spmm (a column index)'], [2, 'gatherRows'], [4, 'scatterAddRows']];

class WebGpu implements WebGpuBackend {
  readonly name = 'webgpu' as const;
  readonly fallback: boolean;
  private live = new Set<GpuStorage>();
  private readonly err: GPUBuffer;
  private errDirty = false;

  constructor(readonly gpu: Gpu, readonly adapterInfo: WebGpuBackend['adapterInfo']) {
    this.fallback = gpu.fallback;
    this.err = gpu.acquire(4).buffer;
    gpu.clear(this.err, 4);
  }

  // ---- memory -------------------------------------------------------------------------------------

  private alloc(size: number, dtype: DType, host: Int32Array | null = null): GpuStorage & { fresh: boolean } {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`webgpu backend: bad buffer size ${size}`);
    this.gpu.check();
    const { buffer, fresh } = this.gpu.acquire(Math.max(4, size * 4));
    const s = Object.assign(new GpuStorage(this, buffer, size, dtype, host), { fresh });
    this.live.add(s);
    return s;
  }

  /** The buffer of a live storage of this backend, after checking dtype and minimum size. */
  private buf(s: Storage, what: string, dtype?: DType, minSize = 0): GPUBuffer {
    if (!(s instanceof GpuStorage) || s.owner !== this) throw new Error(`webgpu backend: ${what} is not a storage of this backend`);
    if (!s.buffer) throw new Error(`webgpu backend: ${what} used after free`);
    if (dtype && s.dtype !== dtype) throw new Error(`webgpu backend: ${what} must be ${dtype}, got ${s.dtype}`);
    if (s.size < minSize) throw new Error(`webgpu backend: ${what} has ${s.size} elements, needs ${minSize}`);
    return s.buffer;
  }

  private bind(s: Storage, what: string, dtype?: DType, minSize = 0): Binding {
    return { buffer: this.buf(s, what, dtype, minSize), size: Math.max(4, s.size * 4) };
  }

  private out(s: GpuStorage): Binding {
    return { buffer: s.buffer!, size: Math.max(4, s.size * 4) };
  }

  private get errBinding(): Binding {
    return { buffer: this.err, size: 4 };
  }

  upload(data: Float32Array | Int32Array): Storage {
    const int = data instanceof Int32Array;
    if (!int && !(data instanceof Float32Array)) throw new Error('webgpu backend: upload needs a Float32Array or an Int32Array');
    const s = this.alloc(data.length, int ? 'i32' : 'f32', int && data.length <= HOST_SHADOW_MAX ? data.slice() : null);
    if (data.length > 0) this.gpu.upload(s.buffer!, data);
    return s;
  }

  zeros(size: number, dtype: DType): Storage {
    if (dtype !== 'f32' && dtype !== 'i32') throw new Error(`webgpu backend: unknown dtype '${String(dtype)}'`);
    const s = this.alloc(size, dtype);
    if (!s.fresh && size > 0) this.gpu.clear(s.buffer!, size * 4);
    return s;
  }

  async read(s: Storage): Promise<Float32Array | Int32Array> {
    const buffer = this.buf(s, 'read source');
    const st = s as GpuStorage; // holds the buffer referenced while the copy is in flight
    const bytes = await this.gpu.read(buffer, st.size * 4);
    await this.checkIndexErrors();
    return st.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /** Reports (and clears) out-of-range indices met by kernels since the last read. */
  private async checkIndexErrors(): Promise<void> {
    if (!this.errDirty) return;
    this.errDirty = false;
    const flags = new Uint32Array(await this.gpu.read(this.err, 4))[0];
    if (!flags) return;
    this.gpu.clear(this.err, 4);
    const kernels = ERR_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name).join(', ');
    throw new Error(`webgpu backend: ${kernels}: an index computed on the device was out of range ` +
      '(the kernel skipped it; detected at this read)');
  }

  async sync(): Promise<void> {
    await this.gpu.sync();
  }

  free(s: Storage): void {
    if (s instanceof GpuStorage && s.owner === this && !s.buffer) throw new Error('webgpu backend: double free');
    const buffer = this.buf(s, 'freed storage');
    const g = s as GpuStorage;
    g.buffer = null;
    this.live.delete(g);
    this.gpu.release(buffer);
  }

  liveBuffers(): number {
    return this.live.size;
  }

  destroy(): void {
    for (const s of this.live) s.buffer = null;
    this.live.clear();
    this.gpu.destroy();
  }

  // ---- dispatch helpers ---------------------------------------------------------------------------

  private k(key: string, writes: readonly boolean[], source: () => string): Kernel {
    return this.gpu.kernel(key, writes, source);
  }

  private run1d(kernel: Kernel, n: number, params: number[], bindings: Binding[]): void {
    if (n === 0) return;
    this.gpu.dispatch(kernel, params, bindings, groups1d(n, this.gpu.maxGroups));
  }

  /**
   * A row-per-workgroup kernel (params start with the row count). `perRow[i]` is how many elements of
   * binding i each row owns (0: bound whole). Operands past the storage-binding limit are split into
   * chunks of rows, a multiple of 64 rows each so that every slice starts on a 256-byte boundary.
   */
  private runRows(kernel: Kernel, rows: number, params: number[], bindings: Binding[], perRow: number[]): void {
    if (rows === 0) return;
    let chunk = rows;
    if (bindings.some((b, i) => perRow[i] > 0 && b.size > this.gpu.maxBinding)) {
      const widest = Math.max(...perRow) * 4;
      chunk = Math.floor(this.gpu.maxBinding / widest / 64) * 64;
      if (chunk === 0) {
        throw new GpuError(`webgpu backend: ${kernel.name}: 64 rows of ${widest} bytes exceed the device's ` +
          `maxStorageBufferBindingSize (${this.gpu.maxBinding})`);
      }
    }
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const count = Math.min(chunk, rows - r0);
      const slices = bindings.map((b, i) => (perRow[i] > 0 && chunk < rows
        ? { buffer: b.buffer, offset: r0 * perRow[i] * 4, size: Math.max(4, count * perRow[i] * 4) } : b));
      this.gpu.dispatch(kernel, [count, ...params.slice(1)], slices, groupsRows(count, this.gpu.maxGroups));
    }
  }

  /**
   * A flat elementwise kernel over n elements, split into chunks that fit the storage-binding limit
   * (each chunk binds its slice of every operand; slices start on 256-byte boundaries).
   */
  private flat(kernel: Kernel, n: number, operands: GPUBuffer[], params: (count: number) => number[]): void {
    const chunk = Math.floor(this.gpu.maxBinding / 256) * 64;
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      this.run1d(kernel, count, params(count), operands.map((buffer) => ({ buffer, offset: start * 4, size: count * 4 })));
    }
  }

  // ---- elementwise --------------------------------------------------------------------------------

  unary(op: UnaryOp, x: Storage): Storage {
    const kernel = this.k(`unary ${checkOp(UNARY, op, 'unary')}`, [false, true], () => unarySource(op));
    const bx = this.buf(x, 'unary input', 'f32');
    const out = this.alloc(x.size, 'f32');
    this.flat(kernel, x.size, [bx, out.buffer!], (n) => [n]);
    return out;
  }

  unaryGrad(op: UnaryOp, x: Storage, dy: Storage): Storage {
    const kernel = this.k(`unaryGrad ${checkOp(UNARY, op, 'unaryGrad')}`, [false, false, true], () => unaryGradSource(op));
    const bx = this.buf(x, 'unaryGrad x', 'f32');
    const bdy = this.buf(dy, 'unaryGrad dy', 'f32', x.size);
    const out = this.alloc(x.size, 'f32');
    this.flat(kernel, x.size, [bx, bdy, out.buffer!], (n) => [n]);
    return out;
  }

  affine(x: Storage, alpha: number, beta: number): Storage {
    const kernel = this.k('affine', [false, true], affineSource);
    const bx = this.buf(x, 'affine input', 'f32');
    const out = this.alloc(x.size, 'f32');
    this.flat(kernel, x.size, [bx, out.buffer!], (n) => [n, f32Bits(alpha), f32Bits(beta)]);
    return out;
  }

  /** Arithmetic on two i32 inputs stays i32 (wrapping); comparisons and mixed dtypes give f32. */
  binary(op: BinaryOp, a: Storage, b: Storage, shape: readonly number[],
    aStrides: readonly number[], bStrides: readonly number[]): Storage {
    checkOp(BINARY, op, 'binary');
    const ba = this.bind(a, 'binary a'), bb = this.bind(b, 'binary b');
    checkSpan('binary a', a.size, shape, aStrides, 0);
    checkSpan('binary b', b.size, shape, bStrides, 0);
    const aInt = a.dtype === 'i32', bInt = b.dtype === 'i32';
    const intOut = aInt && bInt && !COMPARE.has(op);
    const n = prod(shape);
    const out = this.alloc(n, intOut ? 'i32' : 'f32');
    if (n === 0) return out;
    const kernel = this.k(`binary ${op} ${a.dtype} ${b.dtype}`, [false, false, true], () => binarySource(op, aInt, bInt));
    this.run1d(kernel, n, stridedParams(n, shape, [aStrides, bStrides], [0, 0]), [ba, bb, this.out(out)]);
    return out;
  }

  where(cond: Storage, a: Storage, b: Storage): Storage {
    const n = cond.size;
    const bc = this.bind(cond, 'where cond');
    const ba = this.bind(a, 'where a', undefined, n), bb = this.bind(b, 'where b', a.dtype, n);
    const out = this.alloc(n, a.dtype);
    const kernel = this.k('where', [false, false, false, true], whereSource);
    this.run1d(kernel, n, [n, cond.dtype === 'f32' ? 1 : 0], [bc, ba, bb, this.out(out)]);
    return out;
  }

  cast(x: Storage, dtype: DType): Storage {
    if (dtype !== 'f32' && dtype !== 'i32') throw new Error(`webgpu backend: cast: unknown dtype '${String(dtype)}'`);
    const bx = this.buf(x, 'cast input');
    const out = this.alloc(x.size, dtype);
    if (x.dtype === dtype) this.gpu.copy(bx, 0, out.buffer!, 0, x.size * 4);
    else this.flat(this.k('cast', [false, true], castSource), x.size, [bx, out.buffer!], (n) => [n, dtype === 'f32' ? 1 : 0]);
    return out;
  }

  // ---- layout -------------------------------------------------------------------------------------

  strided(x: Storage, shape: readonly number[], strides: readonly number[], offset: number): Storage {
    const bx = this.bind(x, 'strided input');
    checkSpan('strided input', x.size, shape, strides, offset);
    const n = prod(shape);
    const out = this.alloc(n, x.dtype);
    this.copyStrided(bx, this.out(out), n, shape, [strides, contiguous(shape)], [offset, 0]);
    return out;
  }

  /**
   * Where the view repeats an address (stride 0 over an extent > 1) the last element in row-major order
   * wins: such axes are dropped and the source starts at their last index. (Overlapping non-zero strides
   * are not resolved.)
   */
  writeStrided(src: Storage, dst: Storage, shape: readonly number[], strides: readonly number[], offset: number): void {
    const n = prod(shape);
    this.buf(src, 'writeStrided src', dst.dtype, n);
    const bd = this.bind(dst, 'writeStrided dst');
    checkSpan('writeStrided dst', dst.size, shape, strides, offset);
    if (n === 0) return;
    let source: Binding = this.bind(src, 'writeStrided src');
    let temp: GPUBuffer | null = null;
    if (src === dst) {
      temp = this.gpu.acquire(n * 4).buffer;
      this.gpu.copy(source.buffer, 0, temp, 0, n * 4);
      source = { buffer: temp, size: n * 4 };
    }
    const srcStrides = contiguous(shape);
    let srcOffset = 0;
    const keep: number[] = [];
    shape.forEach((e, k) => {
      if (strides[k] === 0 && e > 1) srcOffset += (e - 1) * srcStrides[k];
      else keep.push(k);
    });
    const sub = keep.map((k) => shape[k]);
    this.copyStrided(source, bd, prod(sub), sub, [keep.map((k) => srcStrides[k]), keep.map((k) => strides[k])], [srcOffset, offset]);
    if (temp) this.gpu.release(temp);
  }

  private copyStrided(src: Binding, dst: Binding, n: number, shape: readonly number[],
    strides: [readonly number[], readonly number[]], offsets: [number, number]): void {
    if (n === 0) return;
    const kernel = this.k('stridedCopy', [false, true], stridedCopySource);
    this.run1d(kernel, n, stridedParams(n, shape, strides, offsets), [src, dst]);
  }

  // ---- linear algebra -----------------------------------------------------------------------------

  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage {
    const { batch, m, n, k, transA, transB, aBatchStride, bBatchStride } = args;
    counts('matmul', { batch, m, n, k, aBatchStride, bBatchStride });
    const need = (stride: number, size: number) => (batch === 0 || size === 0 ? 0 : (batch - 1) * stride + size);
    const ba = this.bind(a, 'matmul a', 'f32', need(aBatchStride, m * k));
    const bb = this.bind(b, 'matmul b', 'f32', need(bBatchStride, k * n));
    if (k === 0 || batch * m * n === 0) return this.zeros(batch * m * n, 'f32');
    const out = this.alloc(batch * m * n, 'f32');
    const kernel = this.k('matmul', [false, false, true], matmulSource);
    const strides = [transA ? 1 : k, transA ? m : 1, transB ? 1 : n, transB ? k : 1];
    const gx = Math.ceil(n / TILE);
    const c = this.out(out);
    if (batch === 1 && !transA && (ba.size > this.gpu.maxBinding || c.size > this.gpu.maxBinding)) {
      // One matrix too large to bind: row blocks of A and C (multiples of 64 rows: aligned offsets).
      const chunk = Math.floor(this.gpu.maxBinding / (4 * Math.max(k, n)) / 64) * 64;
      if (chunk === 0) throw new GpuError(`webgpu backend: matmul: 64 rows of A or C exceed maxStorageBufferBindingSize (${this.gpu.maxBinding})`);
      for (let r0 = 0; r0 < m; r0 += chunk) {
        const rows = Math.min(chunk, m - r0);
        const a0: Binding = { buffer: ba.buffer, offset: r0 * k * 4, size: rows * k * 4 };
        const c0: Binding = { buffer: c.buffer, offset: r0 * n * 4, size: rows * n * 4 };
        this.gpu.dispatch(kernel, [rows, n, k, ...strides, 0, 0, 0], [a0, bb, c0], [gx, Math.ceil(rows / TILE), 1]);
      }
      return out;
    }
    for (let b0 = 0; b0 < batch; b0 += this.gpu.maxGroups) {
      const nb = Math.min(this.gpu.maxGroups, batch - b0);
      this.gpu.dispatch(kernel, [m, n, k, ...strides, aBatchStride, bBatchStride, b0], [ba, bb, c], [gx, Math.ceil(m / TILE), nb]);
    }
    return out;
  }

  spmm(indptr: Storage, indices: Storage, values: Storage, dense: Storage, rows: number, d: number): Storage {
    counts('spmm', { rows, d });
    const bp = this.bind(indptr, 'spmm indptr', 'i32', rows + 1);
    const bi = this.bind(indices, 'spmm indices', 'i32');
    const bv = this.bind(values, 'spmm values', 'f32', indices.size);
    const bx = this.bind(dense, 'spmm dense', 'f32');
    const cols = d > 0 ? Math.floor(dense.size / d) : 0;
    const P = (indptr as GpuStorage).host, I = (indices as GpuStorage).host;
    if (P) {
      for (let r = 0; r < rows; r++) {
        if (P[r] < 0 || P[r] > P[r + 1] || P[r + 1] > indices.size) {
          throw new Error(`webgpu backend: spmm indptr[${r}..${r + 1}] = ${P[r]}..${P[r + 1]} is not a valid range of ${indices.size} non-zeros`);
        }
      }
    }
    if (P && I && d > 0) {
      for (let e = P[0]; e < P[rows]; e++) {
        if (I[e] < 0 || I[e] >= cols) throw new Error(`webgpu backend: spmm indices[${e}] = ${I[e]} is out of range [0, ${cols})`);
      }
    } else {
      this.errDirty = true;
    }
    const out = this.alloc(rows * d, 'f32');
    const kernel = this.k('spmm', [false, false, false, false, true, true], spmmSource);
    this.run1d(kernel, rows * d, [rows, d, cols], [bp, bi, bv, bx, this.out(out), this.errBinding]);
    return out;
  }

  // ---- reductions and row ops ---------------------------------------------------------------------

  /** sum of nothing is 0, max −Infinity, min +Infinity; max/min propagate NaN; i32 in, i32 out. */
  reduce(op: ReduceOp, x: Storage, outer: number, n: number, inner: number): Storage {
    if (op !== 'sum' && op !== 'max' && op !== 'min') throw new Error(`webgpu backend: unknown reduce op '${String(op)}'`);
    counts('reduce', { outer, n, inner });
    const bx = this.bind(x, 'reduce input', undefined, outer * n * inner);
    const out = this.alloc(outer * inner, x.dtype);
    const dt = x.dtype;
    if (inner === 1 && n >= 64) {
      const kernel = this.k(`reduceRows ${op} ${dt}`, [false, true], () => reduceRowsSource(op, dt));
      this.runRows(kernel, outer, [outer, n], [bx, this.out(out)], [n, 1]);
    } else {
      const kernel = this.k(`reduceColumns ${op} ${dt}`, [false, true], () => reduceColumnsSource(op, dt));
      this.run1d(kernel, outer * inner, [outer * inner, n, inner], [bx, this.out(out)]);
    }
    return out;
  }

  softmax(x: Storage, rows: number, n: number): Storage {
    counts('softmax', { rows, n });
    const bx = this.bind(x, 'softmax input', 'f32', rows * n);
    const out = this.alloc(rows * n, 'f32');
    if (n > 0) this.runRows(this.k('softmax', [false, true], softmaxSource), rows, [rows, n, 0], [bx, this.out(out)], [n, n]);
    return out;
  }

  logSumExp(x: Storage, rows: number, n: number): Storage {
    counts('logSumExp', { rows, n });
    const bx = this.bind(x, 'logSumExp input', 'f32', rows * n);
    const out = this.alloc(rows, 'f32');
    this.runRows(this.k('softmax', [false, true], softmaxSource), rows, [rows, n, 1], [bx, this.out(out)], [n, 1]);
    return out;
  }

  topk(x: Storage, rows: number, n: number, k: number): { values: Storage; indices: Storage } {
    counts('topk', { rows, n, k });
    if (k > n) throw new Error(`webgpu backend: topk k = ${k} exceeds the row length n = ${n}`);
    const bx = this.bind(x, 'topk input', 'f32', rows * n);
    const values = this.alloc(rows * k, 'f32'), indices = this.alloc(rows * k, 'i32');
    if (k > 0) {
      const kernel = this.k('topk', [false, true, true], topkSource);
      this.runRows(kernel, rows, [rows, n, k], [bx, this.out(values), this.out(indices)], [n, k, k]);
    }
    return { values, indices };
  }

  layerNorm(x: Storage, gamma: Storage, beta: Storage, rows: number, d: number, eps: number):
    { y: Storage; mean: Storage; rstd: Storage } {
    counts('layerNorm', { rows, d });
    const bx = this.bind(x, 'layerNorm x', 'f32', rows * d);
    const bg = this.bind(gamma, 'layerNorm gamma', 'f32', d), bb = this.bind(beta, 'layerNorm beta', 'f32', d);
    const y = this.alloc(rows * d, 'f32'), mean = this.alloc(rows, 'f32'), rstd = this.alloc(rows, 'f32');
    const kernel = this.k('layerNorm', [false, false, false, true, true, true], layerNormSource);
    this.runRows(kernel, rows, [rows, d, f32Bits(eps)], [bx, bg, bb, this.out(y), this.out(mean), this.out(rstd)], [d, 0, 0, d, 1, 1]);
    return { y, mean, rstd };
  }

  layerNormGrad(dy: Storage, x: Storage, gamma: Storage, mean: Storage, rstd: Storage, rows: number, d: number):
    { dx: Storage; dgamma: Storage; dbeta: Storage } {
    counts('layerNormGrad', { rows, d });
    const bdy = this.bind(dy, 'layerNormGrad dy', 'f32', rows * d), bx = this.bind(x, 'layerNormGrad x', 'f32', rows * d);
    const bg = this.bind(gamma, 'layerNormGrad gamma', 'f32', d);
    const bm = this.bind(mean, 'layerNormGrad mean', 'f32', rows), br = this.bind(rstd, 'layerNormGrad rstd', 'f32', rows);
    const dx = this.alloc(rows * d, 'f32'), dgamma = this.alloc(d, 'f32'), dbeta = this.alloc(d, 'f32');
    const rowsK = this.k('layerNormGradRows', [false, false, false, false, false, true], layerNormGradRowsSource);
    this.runRows(rowsK, rows, [rows, d], [bdy, bx, bg, bm, br, this.out(dx)], [d, d, 0, 1, 1, d]);
    const colsK = this.k('layerNormGradColumns', [false, false, false, false, true, true], layerNormGradColumnsSource);
    this.run1d(colsK, d, [d, rows], [bdy, bx, bm, br, this.out(dgamma), this.out(dbeta)]);
    return { dx, dgamma, dbeta };
  }

  // ---- indexing -----------------------------------------------------------------------------------

  /** Host-side check of uploaded indices (throws naming the first bad one); device-side otherwise. */
  private checkIndices(kernel: string, idx: Storage, limit: number): void {
    const host = (idx as GpuStorage).host;
    if (!host) { this.errDirty = true; return; }
    for (let r = 0; r < host.length; r++) {
      if (host[r] < 0 || host[r] >= limit) {
        throw new Error(`webgpu backend: ${kernel} index ${host[r]} at position ${r} is out of range [0, ${limit})`);
      }
    }
  }

  gatherRows(table: Storage, idx: Storage, tableRows: number, d: number): Storage {
    counts('gatherRows', { tableRows, d });
    const bt = this.bind(table, 'gatherRows table', undefined, tableRows * d);
    const bi = this.bind(idx, 'gatherRows idx', 'i32');
    this.checkIndices('gatherRows', idx, tableRows);
    const out = this.alloc(idx.size * d, table.dtype);
    const kernel = this.k('gather', [false, false, true, true], gatherSource);
    this.run1d(kernel, idx.size * d, [idx.size, d, tableRows], [bt, bi, this.out(out), this.errBinding]);
    return out;
  }

  /**
   * Sorts (idx[r], r) by row (on the host for uploaded indices, else on the device with a bitonic
   * network: fixed, so deterministic), then each output element sums its row's segment in increasing r.
   */
  scatterAddRows(src: Storage, idx: Storage, outRows: number, d: number): Storage {
    counts('scatterAddRows', { outRows, d });
    const bi = this.bind(idx, 'scatterAddRows idx', 'i32');
    const bs = this.bind(src, 'scatterAddRows src', 'f32', idx.size * d);
    this.checkIndices('scatterAddRows', idx, outRows);
    const out = this.alloc(outRows * d, 'f32');
    const count = idx.size;
    if (outRows * d === 0) return out;
    if (count === 0) { this.gpu.clear(out.buffer!, outRows * d * 4); return out; }
    const host = (idx as GpuStorage).host;
    const padded = host ? count : 2 ** Math.ceil(Math.log2(Math.max(2, count)));
    const keys = this.gpu.acquire(padded * 8).buffer;
    const kb: Binding = { buffer: keys, size: padded * 8 };
    if (host) {
      // Indices uploaded from the host (the usual case): a stable counting sort here, one upload.
      this.gpu.upload(keys, sortedKeys(host, outRows));
    } else {
      this.run1d(this.k('scatterKeys', [false, true, true], scatterKeysSource), padded, [count, padded, outRows], [bi, kb, this.errBinding]);
      const step = this.k('bitonic', [true], bitonicSource);
      for (let k = 2; k <= padded; k *= 2) {
        for (let j = k / 2; j >= 1; j /= 2) this.run1d(step, padded, [padded, k, j], [kb]);
      }
    }
    const sum = this.k('segmentSum', [false, false, true], segmentSumSource);
    this.run1d(sum, outRows * d, [outRows, d, count], [kb, bs, this.out(out)]);
    this.gpu.release(keys);
    return out;
  }

  // ---- optimiser ----------------------------------------------------------------------------------

  adam(param: Storage, grad: Storage, m: Storage, v: Storage, args: AdamArgs): void {
    const { lr, beta1, beta2, eps, weightDecay, step } = args;
    if (!Number.isSafeInteger(step) || step < 1) throw new Error(`webgpu backend: adam step must be an integer ≥ 1, got ${step}`);
    const n = param.size;
    const bp = this.buf(param, 'adam param', 'f32'), bg = this.buf(grad, 'adam grad', 'f32', n);
    const bm = this.buf(m, 'adam m', 'f32', n), bv = this.buf(v, 'adam v', 'f32', n);
    const params = [beta1, 1 - beta1, beta2, 1 - beta2, -(lr / (1 - beta1 ** step)), Math.sqrt(1 - beta2 ** step), eps, weightDecay]
      .map(f32Bits);
    this.flat(this.k('adam', [true, false, true, true], adamSource), n, [bp, bg, bm, bv],
      (count) => [count, ...params, weightDecay !== 0 ? 1 : 0]);
  }
}

// ---- argument checks and strided parameters ----------------------------------------------------------

const UNARY = new Set<string>(['neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'sigmoid', 'tanh', 'relu', 'gelu', 'erf',
  'silu', 'softplus', 'sin', 'cos', 'square', 'reciprocal']);
const BINARY = new Set<string>(['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'eq', 'ne', 'lt', 'le', 'gt', 'ge']);
const COMPARE = new Set<string>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

function checkOp<T extends string>(set: Set<string>, op: T, kernel: string): T {
  if (!set.has(op)) throw new Error(`webgpu backend: unknown ${kernel} op '${String(op)}'`);
  return op;
}

/** (row, r) pairs ordered by row, r ascending within a row: a stable counting sort of checked indices. */
function sortedKeys(idx: Int32Array, rows: number): Uint32Array {
  const start = new Uint32Array(rows + 1);
  for (let r = 0; r < idx.length; r++) start[idx[r] + 1]++;
  for (let i = 0; i < rows; i++) start[i + 1] += start[i];
  const keys = new Uint32Array(idx.length * 2);
  for (let r = 0; r < idx.length; r++) {
    const at = start[idx[r]]++;
    keys[2 * at] = idx[r];
    keys[2 * at + 1] = r;
  }
  return keys;
}

function counts(kernel: string, xs: Record<string, number>): void {
  for (const [key, v] of Object.entries(xs)) {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new Error(`webgpu backend: ${kernel} ${key} = ${v}`);
  }
}

function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) { s[k] = acc; acc *= shape[k]; }
  return s;
}

/** Throws unless every offset + Σ idx·stride over `shape` lies in [0, size). */
function checkSpan(what: string, size: number, shape: readonly number[], strides: readonly number[], offset: number): void {
  if (shape.length !== strides.length) throw new Error(`webgpu backend: ${what} shape [${shape}] vs strides [${strides}]`);
  for (const v of [...shape, ...strides, offset]) {
    if (!Number.isInteger(v)) throw new Error(`webgpu backend: ${what} has a non-integer shape, stride or offset`);
  }
  if (shape.some((s) => s < 0)) throw new Error(`webgpu backend: ${what} has a negative dimension`);
  if (prod(shape) === 0) return;
  let lo = offset, hi = offset;
  shape.forEach((s, i) => { const e = (s - 1) * strides[i]; if (e < 0) lo += e; else hi += e; });
  if (lo < 0 || hi >= size) throw new Error(`webgpu backend: ${what} view reaches [${lo}, ${hi}] outside its ${size} elements`);
}

/**
 * [n, rank, offA, offB, shape×8, stridesA×8, stridesB×8] after dropping size-1 axes and merging
 * neighbours that are contiguous in both operands (same-shape contiguous operands become one axis).
 */
function stridedParams(n: number, shape: readonly number[], strides: readonly (readonly number[])[], offsets: [number, number]): number[] {
  const dims: number[] = [];
  const st: number[][] = [[], []];
  shape.forEach((s, i) => {
    if (s === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && st.every((x, j) => x[last] === strides[j][i] * s)) {
      dims[last] *= s;
      st.forEach((x, j) => { x[last] = strides[j][i]; });
    } else {
      dims.push(s);
      st.forEach((x, j) => x.push(strides[j][i]));
    }
  });
  if (dims.length > MAX_RANK) throw new Error(`webgpu backend: a strided view of rank ${dims.length} (after merging axes) exceeds ${MAX_RANK}`);
  const pad = (xs: number[]) => [...xs, ...new Array(MAX_RANK - xs.length).fill(0)];
  return [n, dims.length, offsets[0], offsets[1], ...pad(dims), ...pad(st[0]), ...pad(st[1])];
}

export { GpuError };
