/**
 * The WebAssembly SIMD backend: AssemblyScript kernels (wasm/assembly) over one linear memory that this
 * side manages (heap.ts). Kernels never allocate; every buffer and scratch area is handed to them as a
 * byte pointer. Shapes are checked here, before a kernel can read or write outside its buffers.
 * It provides every optional kernel of the contract: dotCrossEntropy and its gradient (wasm/assembly/fused.ts,
 * with the forward's scores kept for the gradient), philoxUniform and philoxMask (philox.ts), philoxNormal
 * (normal.ts), gramF64 (gram.ts), symmetricEigen (eigen.ts), unaryWithDerivative (GELU: vmath.ts), matmulBias
 * and empty.
 *
 * With worker threads (threads.ts) the large calls are split into disjoint blocks of their output, each
 * computed exactly as the whole call computes it: the bits never depend on the thread count.
 */
import type {
  AdamArgs, Backend, BinaryOp, DType, MatmulArgs, ReduceOp, Storage, UnaryOp,
} from '../../engine/backend.js';
import { Heap } from './heap.js';
import { importsMemory, loadKernelFile, relaxedSimdSupported, SHARED_MEMORY, type SimdLevel } from './load.js';
import { defaultThreadCount, MAX_PARTS, startThreads, threadsUnavailable, type ThreadPool } from './threads.js';

// Op codes, mirrored by the constants at the top of wasm/assembly/elementwise.ts and rows.ts.
const UNARY_CODES: Record<UnaryOp, number> = {
  neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, sign: 5, sigmoid: 6, tanh: 7, relu: 8, gelu: 9, erf: 10,
  silu: 11, softplus: 12, sin: 13, cos: 14, square: 15, reciprocal: 16,
};
const BINARY_CODES: Record<BinaryOp, number> = {
  add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12,
};
const REDUCE_CODES: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2 };

/** The module's exports (pointers are byte offsets; sizes and strides in elements). */
interface Kernels {
  memory: WebAssembly.Memory;
  MR: WebAssembly.Global; NR: WebAssembly.Global; MC: WebAssembly.Global; KC: WebAssembly.Global; NC: WebAssembly.Global;
  CE_NB: WebAssembly.Global; CE_RB: WebAssembly.Global;
  LOCAL_BYTES: WebAssembly.Global;
  heapBase(): number;
  setLocal(p: number): void;
  matmul(a: number, b: number, c: number, batch: number, m: number, n: number, k: number,
    rsA: number, csA: number, rsB: number, csB: number, aBS: number, bBS: number, ldc: number, cBS: number,
    ap: number, bp: number, bias: number): void;
  addBlocks(c: number, s: number, count: number, stride: number, n: number): void;
  addRowVector(c: number, v: number, rows: number, n: number): void;
  unary(op: number, x: number, out: number, n: number): void;
  unaryGrad(op: number, x: number, dy: number, out: number, n: number): void;
  geluAndDerivative(x: number, y: number, d: number, n: number): void;
  affine(x: number, out: number, n: number, alpha: number, beta: number): void;
  binary(op: number, a: number, b: number, out: number, rank: number, meta: number): void;
  binaryMixed(op: number, a: number, aI32: number, b: number, bI32: number, out: number, outI32: number,
    rank: number, meta: number): void;
  strided(x: number, out: number, rank: number, meta: number, offset: number): void;
  writeStrided(src: number, dst: number, rank: number, meta: number, offset: number): void;
  where(cond: number, condF32: number, a: number, b: number, out: number, n: number): void;
  cast(x: number, out: number, n: number, toI32: number): void;
  fillZero(p: number, bytes: number): void;
  reduce(op: number, x: number, out: number, outer: number, n: number, inner: number, acc: number): void;
  sumColumns(x: number, out: number, n: number, inner: number, j0: number, j1: number, acc: number): void;
  reduceInt(op: number, x: number, out: number, outer: number, n: number, inner: number): void;
  softmax(x: number, out: number, rows: number, n: number, e: number): void;
  logSumExp(x: number, out: number, rows: number, n: number): void;
  layerNorm(x: number, gamma: number, beta: number, y: number, mean: number, rstd: number,
    rows: number, d: number, eps: number): void;
  layerNormGradRows(dy: number, x: number, gamma: number, mean: number, rstd: number, dx: number, rows: number, d: number): void;
  layerNormGradCols(dy: number, x: number, mean: number, rstd: number, dgamma: number, dbeta: number, rows: number, d: number,
    j0: number, j1: number): void;
  topk(x: number, values: number, indices: number, rows: number, n: number, k: number, heap: number): void;
  firstBadIndex(idx: number, n: number, limit: number): number;
  firstBadIndptr(indptr: number, rows: number, nnz: number): number;
  gatherRows(table: number, idx: number, out: number, rows: number, d: number): void;
  scatterAddRows(src: number, idx: number, out: number, rows: number, outRows: number, d: number, acc: number): void;
  spmm(indptr: number, indices: number, values: number, dense: number, out: number, rows: number, d: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, b1: number, oneMinusB1: number,
    b2: number, oneMinusB2: number, stepSize: number, bc2Sqrt: number, eps: number, wd: number, fused: number): void;
  maddFused(a: number, b: number, c: number): number;
  dotCrossEntropyScratch(rows: number, n: number, d: number): number;
  dotCrossEntropy(q: number, k: number, t: number, loss: number, lse: number, rows: number, n: number, d: number,
    scratch: number, cache: number, row0: number, allRows: number): void;
  packA(a: number, rsA: number, csA: number, mc: number, kc: number, ap: number): void;
  ceGradPartScratch(d: number, groupKeys: number): number;
  ceGradPartialBytes(d: number, groupKeys: number): number;
  ceGradRows(qa: number, qt: number, k: number, t: number, lse: number, dy: number, dq: number, rows: number, d: number,
    k0: number, k1: number, r0: number, r1: number, cache: number, n: number, partials: number, scratch: number): void;
  ceGradKeys(partials: number, dk: number, rows: number, d: number, k0: number, nk: number,
    j0a: number, j0b: number, scratch: number): void;
  philoxUniform(k0: number, k1: number, position: number, n: number, out: number): void;
  philoxMask(k0: number, k1: number, position: number, n: number, out: number, threshold: number, scale: number): void;
  boxMuller(u: number, out: number, start: number, end: number, n: number, mean: number, std: number): void;
  gramF64Rows(x: number, d: number, xd: number, r0: number, r1: number): void;
  gramF64Tiles(xd: number, rows: number, d: number, g: number, t0: number, t1: number): void;
  symmetricEigen(a: number, n: number, values: number, vectors: number, scratch: number): number;
}

class WasmStorage implements Storage {
  freed = false;
  constructor(readonly owner: WasmBackend, readonly ptr: number, readonly size: number, readonly dtype: DType) {}
}

export interface WasmBackendOptions {
  /** A kernel build to run as is, compiled or raw (e.g. bundled for an edge runtime); default: wasm/build. */
  module?: WebAssembly.Module | BufferSource;
  /** Threads, the caller's included (default: every core, at most 8; 1 where the runtime has no threads). */
  threads?: number;
  /** 'relaxed' = fused multiply-add kernels; default: relaxed where the runtime validates it, else plain. */
  simd?: 'auto' | SimdLevel;
  /** Scales the least work a call needs before it is split over threads (0: split every call; for tests). */
  splitScale?: number;
  /** Told when threads were asked for but cannot run, and why. */
  log?: (message: string) => void;
}

/**
 * @example
 * const backend = await createWasmBackend({ threads: 2 });
 * backend.build; // { simd: 'relaxed', threads: 2 }
 */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  let threads = opts.threads ?? await defaultThreadCount();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`wasm backend: threads must be a positive integer, got ${threads}`);
  const why = threads > 1 ? threadsUnavailable() : null;
  if (why) { opts.log?.(`wasm backend: one thread (${why})`); threads = 1; }
  const simd: SimdLevel = opts.simd === 'plain' || opts.simd === 'relaxed' ? opts.simd : relaxedSimdSupported() ? 'relaxed' : 'plain';
  const source = opts.module ?? await loadKernelFile(threads > 1, simd);
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  const shared = importsMemory(module);
  const memory = shared ? new WebAssembly.Memory({ ...SHARED_MEMORY, shared: true }) : undefined;
  const instance = await WebAssembly.instantiate(module, memory ? { env: { memory } } : {});
  const backend = new WasmBackend(instance.exports as unknown as Kernels, shared ? threads : 1, opts.module ? 'given' : simd,
    opts.splitScale ?? 1);
  if (backend.threads > 1) {
    try {
      backend.attach(await startThreads(module, memory!, threads, backend.locals, THREADED, instance.exports as never));
    } catch (e) {
      opts.log?.(`wasm backend: one thread (${e instanceof Error ? e.message : String(e)})`);
      backend.attach(null);
    }
  }
  return backend;
}

/** The kernels that calls may split over threads. */
const THREADED = ['matmul', 'unary', 'unaryGrad', 'geluAndDerivative', 'affine', 'binary', 'adam', 'philoxUniform',
  'philoxMask', 'boxMuller', 'reduce', 'sumColumns', 'topk', 'softmax', 'logSumExp', 'layerNorm', 'layerNormGradRows',
  'layerNormGradCols', 'spmm', 'dotCrossEntropy', 'ceGradRows', 'ceGradKeys', 'gramF64Rows', 'gramF64Tiles'];

/** Below this much work (≈ tens of microseconds on one thread) a call stays on the calling thread. */
const SPLIT_FLOPS = 1 << 20;
const SPLIT_ELEMENTS = 1 << 15;
/** Products with at most this many outputs and a long depth split the depth (matmulByDepth). */
const DEPTH_SPLIT_OUTPUT = 256 * 256;

/** Bound on the cross-entropy gradient's dkᵀ partials (one per block of rows, over a group of keys). */
const CE_PARTIAL_BYTES = 8 << 20;

/**
 * Largest score cache that a training forward keeps for its gradient (which then skips one of its three
 * products and every exp): 20 MB for Office's 2000 × 2420. Past it the gradient recomputes the scores, so
 * memory stays bounded whatever the catalogue size.
 */
const CE_CACHE_BYTES = 64 << 20;

/** Parts per thread of a split call: taken dynamically, so a thread that falls behind gets fewer. */
const PARTS_PER_THREAD = 4;

/**
 * At most `count` [start, end) parts of [0, total), each start a multiple of `align`. Sizes fall linearly
 * (count, count − 1, …, 1 shares): the threads start on big parts and the last ones taken are small, so
 * nobody waits long for a straggler.
 */
function parts(total: number, count: number, align: number): [number, number][] {
  const units = Math.ceil(total / align), n = Math.max(1, Math.min(count, units));
  const out: [number, number][] = [];
  for (let i = 0, start = 0, shares = 0; start < total; i++) {
    shares += n - i;
    const end = i >= n - 1 ? total : Math.min(total, Math.round((units * shares) / ((n * (n + 1)) / 2)) * align);
    if (end > start) out.push([start, end]);
    start = Math.max(start, end);
  }
  return out;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const largest = (ranges: [number, number][]) => Math.max(...ranges.map(([s, e]) => e - s));
const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/** Scratch kept between calls (the threaded InfoNCE gradient's panels need up to ~11 MB at batch 2000). */
const SCRATCH_KEEP = 16 << 20;

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  private kernels: Kernels | null;
  private memory: Heap | null;
  private live = new Set<WasmStorage>();
  private scratchPtr = 0;
  private scratchBytes = 0;
  private pool: ThreadPool | null = null;
  /** Each thread's block for the kernels' small per-thread tiles (wasm/assembly/local.ts). */
  readonly locals: number[];
  /** 1 where the build's relaxed multiply-add rounds once: Adam's fma32 steps then take that instruction. */
  private readonly fusedMadd: number;

  /** `threads` is what the build allows; attach() then sets how many actually run. */
  constructor(kernels: Kernels, public threads: number, readonly simd: SimdLevel | 'given', private splitScale = 1) {
    this.kernels = kernels;
    this.memory = new Heap(kernels.memory, kernels.heapBase());
    const bytes = kernels.LOCAL_BYTES.value;
    this.locals = Array.from({ length: threads }, () => this.heap.alloc(bytes));
    kernels.setLocal(this.locals[0]);
    this.fusedMadd = kernels.maddFused(1 + 2 ** -23, 1 - 2 ** -23, -1) ? 1 : 0;
  }

  /** The worker threads (null: run on the calling thread only). */
  attach(pool: ThreadPool | null): void {
    this.pool = pool;
    this.threads = pool?.size ?? 1;
  }

  /** The kernel build and threads in use. */
  get build(): { simd: SimdLevel | 'given'; threads: number } {
    return { simd: this.simd, threads: this.threads };
  }

  /**
   * Calls kernel `name` once per part: on the threads when there are several parts, else here.
   * `args(start, end, t)` gives thread t's arguments for its part [start, end).
   */
  private split(name: keyof Kernels, ranges: [number, number][], args: (start: number, end: number, t: number) => number[]): void {
    const all = ranges.map(([s, e], t) => args(s, e, t));
    if (this.pool && all.length > 1) this.pool.run(name, all);
    else for (const a of all) (this.k[name] as (...x: number[]) => void)(...a);
  }

  /** Bytes of one part's matmul packing buffers for an mp × np block of C over depth kc (matmul.ts: MC×KC, KC×NC at most). */
  private packingBytes(mp: number, np: number, kc: number): [ap: number, bp: number] {
    const K = this.k;
    return [roundUp(4 * kc * roundUp(Math.min(K.MC.value, mp), K.MR.value), 64),
      roundUp(4 * kc * roundUp(Math.min(K.NC.value, np), K.NR.value), 64)];
  }

  /** Parts of [0, total) for the threads when `work` is worth splitting, else one part. */
  private ranges(total: number, work: number, min: number, align = 16): [number, number][] {
    if (!this.pool || work < min * this.splitScale || total <= align) return [[0, total]];
    const T = this.threads;
    return parts(total, Math.max(T, Math.min(T * PARTS_PER_THREAD, Math.floor(work / min))), align);
  }

  // destroy() drops the instance and its memory; any later use lands here and throws.
  private get k(): Kernels { return this.kernels ?? destroyed(); }
  private get heap(): Heap { return this.memory ?? destroyed(); }

  // ---- memory -------------------------------------------------------------------------------

  private alloc(size: number, dtype: DType): WasmStorage {
    if (!Number.isInteger(size) || size < 0) throw new Error(`wasm backend: bad buffer size ${size}`);
    const s = new WasmStorage(this, this.heap.alloc(size * 4), size, dtype);
    this.live.add(s);
    return s;
  }

  /** Byte pointer of a live storage of this backend, optionally checking dtype and minimum size. */
  private ptr(s: Storage, what: string, dtype?: DType, minSize = 0): number {
    if (!this.kernels) destroyed();
    if (!(s instanceof WasmStorage) || s.owner !== this) throw new Error(`wasm backend: ${what} is not a wasm storage of this backend`);
    if (s.freed) throw new Error(`wasm backend: ${what} used after free`);
    if (dtype && s.dtype !== dtype) throw new Error(`wasm backend: ${what} must be ${dtype}, got ${s.dtype}`);
    if (s.size < minSize) throw new Error(`wasm backend: ${what} has ${s.size} elements, needs ${minSize}`);
    return s.ptr;
  }

  /**
   * A per-call scratch area of `bytes` (16-aligned), reused across calls and grown on demand. Take it
   * after allocating outputs or temporaries in the same call: growing it may move it.
   */
  private scratch(bytes: number): number {
    // Grow by doubling; a large area (e.g. a big scatter-add's f64 accumulator) is handed back to the
    // heap at the next ordinary call instead of being held for good.
    const shrink = this.scratchBytes > SCRATCH_KEEP && bytes <= SCRATCH_KEEP;
    if (bytes > this.scratchBytes || shrink) {
      if (this.scratchBytes) this.heap.release(this.scratchPtr, this.scratchBytes);
      this.scratchBytes = shrink ? SCRATCH_KEEP : Math.max(bytes, 2 * this.scratchBytes);
      this.scratchPtr = this.heap.alloc(this.scratchBytes);
    }
    return this.scratchPtr;
  }

  upload(data: Float32Array | Int32Array): Storage {
    const s = this.alloc(data.length, data instanceof Int32Array ? 'i32' : 'f32');
    (s.dtype === 'i32' ? this.heap.i32 : this.heap.f32).set(data, s.ptr >>> 2);
    return s;
  }

  empty(size: number, dtype: DType): Storage {
    return this.alloc(size, dtype);
  }

  zeros(size: number, dtype: DType): Storage {
    const s = this.alloc(size, dtype);
    this.k.fillZero(s.ptr, size * 4);
    return s;
  }

  readSync(s: Storage): Float32Array | Int32Array {
    const p = this.ptr(s, 'read source') >>> 2;
    return copyOut(s.dtype === 'i32' ? this.heap.i32 : this.heap.f32, p, s.size);
  }

  async read(s: Storage): Promise<Float32Array | Int32Array> {
    return this.readSync(s);
  }

  free(s: Storage): void {
    if (s instanceof WasmStorage && s.owner === this && s.freed) throw new Error('wasm backend: double free');
    this.ptr(s, 'freed storage');
    const w = s as WasmStorage;
    w.freed = true;
    this.live.delete(w);
    this.heap.release(w.ptr, w.size * 4);
  }

  liveBuffers(): number {
    return this.live.size;
  }

  /** The wasm memory's size and the allocator's high-water mark in it (bytes): flat in a steady state. */
  memoryStats(): { memoryBytes: number; highWater: number } {
    return { memoryBytes: this.heap.memory.buffer.byteLength, highWater: this.heap.highWater };
  }

  destroy(): void {
    this.pool?.close();
    this.pool = null;
    for (const s of this.live) s.freed = true;
    this.live.clear();
    this.kernels = null;
    this.memory = null;
  }

  // ---- elementwise --------------------------------------------------------------------------

  unary(op: UnaryOp, x: Storage): Storage {
    const code = code_(UNARY_CODES, op, 'unary');
    const p = this.ptr(x, 'unary input', 'f32');
    const out = this.alloc(x.size, 'f32');
    this.split('unary', this.ranges(x.size, x.size, SPLIT_ELEMENTS), (s, e) => [code, p + 4 * s, out.ptr + 4 * s, e - s]);
    return out;
  }

  /** GELU's value and derivative in one pass (wasm/assembly/vmath.ts); null for the other ops. */
  unaryWithDerivative(op: UnaryOp, x: Storage): { y: Storage; dydx: Storage } | null {
    if (op !== 'gelu') return null;
    const p = this.ptr(x, 'unaryWithDerivative input', 'f32');
    const y = this.alloc(x.size, 'f32'), d = this.alloc(x.size, 'f32');
    this.split('geluAndDerivative', this.ranges(x.size, x.size, SPLIT_ELEMENTS),
      (s, e) => [p + 4 * s, y.ptr + 4 * s, d.ptr + 4 * s, e - s]);
    return { y, dydx: d };
  }

  unaryGrad(op: UnaryOp, x: Storage, dy: Storage): Storage {
    const code = code_(UNARY_CODES, op, 'unaryGrad');
    const p = this.ptr(x, 'unaryGrad x', 'f32'), g = this.ptr(dy, 'unaryGrad dy', 'f32', x.size);
    const out = this.alloc(x.size, 'f32');
    this.split('unaryGrad', this.ranges(x.size, x.size, SPLIT_ELEMENTS),
      (s, e) => [code, p + 4 * s, g + 4 * s, out.ptr + 4 * s, e - s]);
    return out;
  }

  affine(x: Storage, alpha: number, beta: number): Storage {
    const p = this.ptr(x, 'affine input', 'f32');
    const out = this.alloc(x.size, 'f32');
    this.split('affine', this.ranges(x.size, x.size, SPLIT_ELEMENTS), (s, e) => [p + 4 * s, out.ptr + 4 * s, e - s, alpha, beta]);
    return out;
  }

  /**
   * f32 ⊕ f32 runs the SIMD kernel. Any i32 operand goes through the scalar double-precision kernel,
   * as the reference: arithmetic on two i32 stays i32 (ToInt32), everything else gives f32.
   */
  binary(op: BinaryOp, a: Storage, b: Storage, shape: readonly number[],
    aStrides: readonly number[], bStrides: readonly number[]): Storage {
    const code = code_(BINARY_CODES, op, 'binary');
    if (aStrides.length !== shape.length || bStrides.length !== shape.length) {
      throw new Error(`wasm backend: binary shape [${shape}] with strides [${aStrides}] / [${bStrides}]`);
    }
    const total = prod(shape);
    checkSpan('binary a', a.size, shape, aStrides, 0);
    checkSpan('binary b', b.size, shape, bStrides, 0);
    const pa = this.ptr(a, 'binary a'), pb = this.ptr(b, 'binary b');
    const aI32 = a.dtype === 'i32', bI32 = b.dtype === 'i32';
    const outI32 = aI32 && bI32 && code < BINARY_CODES.eq;
    const out = this.alloc(total, outI32 ? 'i32' : 'f32');
    if (total > 0) {
      const dims = collapse(shape, [aStrides, bStrides]);
      const rank = dims.shape.length;
      if (aI32 || bI32) this.k.binaryMixed(code, pa, +aI32, pb, +bI32, out.ptr, +outI32, rank, this.meta(dims));
      else {
        // split the outermost dimension; every part walks with metadata of its own (the kernel keeps counters there)
        const outer = dims.shape[0], inner = total / outer;
        const ranges = this.ranges(outer, total, SPLIT_ELEMENTS, Math.max(1, Math.ceil(16 / inner)));
        const meta = this.meta(dims, 16 * rank * (ranges.length - 1));
        for (let t = 1; t < ranges.length; t++) this.heap.u8.copyWithin(meta + 16 * rank * t, meta, meta + 16 * rank);
        const [sa, sb] = [dims.strides[0][0], dims.strides[1][0]];
        this.split('binary', ranges, (s, e, t) => {
          const m = meta + 16 * rank * t;
          this.heap.i32[m >>> 2] = e - s;
          return [code, pa + 4 * s * sa, pb + 4 * s * sb, out.ptr + 4 * s * inner, rank, m];
        });
      }
    }
    return out;
  }

  /**
   * Writes [shape | strides… | counters] (i32) to scratch for the strided walkers; returns its pointer.
   * `extra` bytes after those 16·rank stay free for the caller.
   */
  private meta(dims: { shape: number[]; strides: number[][] }, extra = 0): number {
    const rank = dims.shape.length;
    const p = this.scratch(16 * rank + extra);
    const v = this.heap.i32, base = p >>> 2;
    v.set(dims.shape, base);
    v.set(dims.strides[0], base + rank);
    v.set(dims.strides[1] ?? new Array(rank).fill(0), base + 2 * rank);
    return p;
  }

  where(cond: Storage, a: Storage, b: Storage): Storage {
    const n = cond.size;
    const pc = this.ptr(cond, 'where cond');
    const pa = this.ptr(a, 'where a', undefined, n), pb = this.ptr(b, 'where b', a.dtype, n);
    const out = this.alloc(n, a.dtype);
    this.k.where(pc, cond.dtype === 'f32' ? 1 : 0, pa, pb, out.ptr, n);
    return out;
  }

  cast(x: Storage, dtype: DType): Storage {
    const p = this.ptr(x, 'cast input');
    const out = this.alloc(x.size, dtype);
    if (x.dtype === dtype) this.heap.u8.copyWithin(out.ptr, p, p + x.size * 4);
    else this.k.cast(p, out.ptr, x.size, dtype === 'i32' ? 1 : 0);
    return out;
  }

  // ---- layout -------------------------------------------------------------------------------

  strided(x: Storage, shape: readonly number[], strides: readonly number[], offset: number): Storage {
    const p = this.ptr(x, 'strided input');
    checkSpan('strided input', x.size, shape, strides, offset);
    const total = prod(shape);
    const out = this.alloc(total, x.dtype);
    if (total > 0) {
      const dims = collapse(shape, [strides]);
      this.k.strided(p, out.ptr, dims.shape.length, this.meta(dims), offset);
    }
    return out;
  }

  writeStrided(src: Storage, dst: Storage, shape: readonly number[], strides: readonly number[], offset: number): void {
    const total = prod(shape);
    let ps = this.ptr(src, 'writeStrided src', dst.dtype, total);
    const pd = this.ptr(dst, 'writeStrided dst');
    checkSpan('writeStrided dst', dst.size, shape, strides, offset);
    if (total === 0) return;
    const dims = collapse(shape, [strides]);
    const alias = src === dst; // then read from a copy, placed in scratch after the walker's metadata
    const meta = this.meta(dims, alias ? total * 4 : 0);
    if (alias) {
      const copy = meta + 16 * dims.shape.length;
      this.heap.u8.copyWithin(copy, ps, ps + total * 4);
      ps = copy;
    }
    this.k.writeStrided(ps, pd, dims.shape.length, meta, offset);
  }

  // ---- linear algebra -----------------------------------------------------------------------

  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage {
    return this.product(a, b, args, 0);
  }

  /** matmul, then the row `bias` [n] added to every row of C (the bits of a separate add), in one pass. */
  matmulBias(a: Storage, b: Storage, bias: Storage, args: MatmulArgs): Storage {
    const pbias = this.ptr(bias, 'matmulBias bias', 'f32', args.n);
    if (args.k > 0) return this.product(a, b, args, pbias);
    const zero = this.product(a, b, args, 0); // no product to fuse into: 0 + bias as add gives it (−0 → +0)
    try {
      return this.binary('add', zero, bias, [args.batch * args.m, args.n], [args.n, 1], [0, 1]);
    } finally {
      this.free(zero);
    }
  }

  private product(a: Storage, b: Storage, args: MatmulArgs, bias: number): Storage {
    let { batch, m, n, k, transA, transB, aBatchStride, bBatchStride } = args;
    counts('matmul', { batch, m, n, k, aBatchStride, bBatchStride });
    const pa = this.ptr(a, 'matmul a', 'f32', batch && m * k ? (batch - 1) * aBatchStride + m * k : 0);
    const pb = this.ptr(b, 'matmul b', 'f32', batch && k * n ? (batch - 1) * bBatchStride + k * n : 0);
    if (k === 0 || batch * m * n === 0) return this.zeros(batch * m * n, 'f32');
    const out = this.alloc(batch * m * n, 'f32');
    // One shared B and back-to-back row-major A matrices are a single [batch·m, k] matrix.
    if (batch > 1 && bBatchStride === 0 && !transA && aBatchStride === m * k) { m *= batch; batch = 1; }
    const K = this.k;
    const rsA = transA ? 1 : k, csA = transA ? m : 1, rsB = transB ? 1 : n, csB = transB ? k : 1;
    const work = batch * m * n * k, T = this.threads;
    if (this.pool && work >= SPLIT_FLOPS * this.splitScale && batch === 1 && m * n <= DEPTH_SPLIT_OUTPUT &&
      k >= 2 * T * K.KC.value && k <= MAX_PARTS * K.KC.value) {
      this.matmulByDepth(pa, pb, out.ptr, m, n, k, rsA, csA, rsB, csB);
      if (bias) K.addRowVector(out.ptr, bias, m, n);
      return out;
    }
    // Threads take whole matrices of a batch, else blocks of rows or of columns (the longer side).
    const along = batch >= T ? 'batch' : m >= n ? 'rows' : 'cols';
    const ranges = this.ranges(along === 'batch' ? batch : along === 'rows' ? m : n, work, SPLIT_FLOPS,
      along === 'batch' ? 1 : along === 'rows' ? K.MR.value : K.NR.value);
    // Packing buffers per part, as large as its largest block of C needs.
    const [mp, np] = along === 'rows' ? [largest(ranges), n] : along === 'cols' ? [m, largest(ranges)] : [m, n];
    const [apBytes, bpBytes] = this.packingBytes(mp, np, Math.min(K.KC.value, k));
    const sp = this.scratch((apBytes + bpBytes) * ranges.length);
    this.split('matmul', ranges, (s, e, t) => {
      const ap = sp + (apBytes + bpBytes) * t, bp = ap + apBytes;
      if (along === 'batch') {
        return [pa + 4 * s * aBatchStride, pb + 4 * s * bBatchStride, out.ptr + 4 * s * m * n, e - s, m, n, k,
          rsA, csA, rsB, csB, aBatchStride, bBatchStride, n, m * n, ap, bp, bias];
      }
      const [a0, b0, c0, mm, nn] = along === 'rows' ? [pa + 4 * s * rsA, pb, out.ptr + 4 * s * n, e - s, n]
        : [pa, pb + 4 * s * csB, out.ptr + 4 * s, m, e - s];
      const b1 = bias && along === 'cols' ? bias + 4 * s : bias;
      return [a0, b0, c0, batch, mm, nn, k, rsA, csA, rsB, csB, aBatchStride, bBatchStride, n, m * n, ap, bp, b1];
    });
    return out;
  }

  /**
   * A small product over a long depth (a weight gradient Xᵀ·dY: 64×64 over 2000 rows), one part per KC block
   * of the depth: part 0 writes C, the others a buffer each, then the buffers are added to C in block order,
   * as matmul.ts's flush adds them (the same bits). Split by rows instead, every part would pack all of B.
   */
  private matmulByDepth(pa: number, pb: number, c: number, m: number, n: number, k: number,
    rsA: number, csA: number, rsB: number, csB: number): void {
    const K = this.k, KC = K.KC.value, blocks = Math.ceil(k / KC);
    const [apBytes, bpBytes] = this.packingBytes(m, n, KC);
    const cBytes = roundUp(4 * m * n, 64);
    const sp = this.scratch((apBytes + bpBytes + cBytes) * blocks), cs = sp + (apBytes + bpBytes) * blocks;
    this.split('matmul', Array.from({ length: blocks }, (_, b): [number, number] => [b * KC, Math.min(k, (b + 1) * KC)]), (s, e, t) => {
      const ap = sp + (apBytes + bpBytes) * t;
      return [pa + 4 * s * csA, pb + 4 * s * rsB, t === 0 ? c : cs + cBytes * t, 1, m, n, e - s,
        rsA, csA, rsB, csB, 0, 0, n, m * n, ap, ap + apBytes, 0];
    });
    K.addBlocks(c, cs + cBytes, blocks - 1, cBytes / 4, m * n);
  }

  spmm(indptr: Storage, indices: Storage, values: Storage, dense: Storage, rows: number, d: number): Storage {
    counts('spmm', { rows, d });
    const pp = this.ptr(indptr, 'spmm indptr', 'i32', rows + 1);
    const pi = this.ptr(indices, 'spmm indices', 'i32'), pv = this.ptr(values, 'spmm values', 'f32');
    const pd = this.ptr(dense, 'spmm dense', 'f32');
    const nnz = Math.min(indices.size, values.size);
    const badPtr = this.k.firstBadIndptr(pp, rows, nnz);
    if (badPtr >= 0) {
      throw new Error(`wasm backend: spmm indptr[${badPtr}] = ${this.heap.i32[(pp >>> 2) + badPtr]} is decreasing or beyond nnz ${nnz}`);
    }
    const start = this.heap.i32[pp >>> 2], end = this.heap.i32[(pp >>> 2) + rows];
    const cols = d > 0 ? Math.floor(dense.size / d) : 0;
    if (d > 0) {
      const bad = this.k.firstBadIndex(pi + start * 4, end - start, cols);
      if (bad >= 0) {
        const pos = start + bad;
        throw new Error(`wasm backend: spmm indices[${pos}] = ${this.heap.i32[(pi >>> 2) + pos]} is out of range [0, ${cols})`);
      }
    }
    const out = this.alloc(rows * d, 'f32');
    if (rows * d > 0) {
      this.split('spmm', this.ranges(rows, (end - start) * d, SPLIT_ELEMENTS, 1),
        (s, e) => [pp + 4 * s, pi, pv, pd, out.ptr + 4 * s * d, e - s, d]);
    }
    return out;
  }

  // ---- reductions and row ops ---------------------------------------------------------------

  reduce(op: ReduceOp, x: Storage, outer: number, n: number, inner: number): Storage {
    const code = code_(REDUCE_CODES, op, 'reduce');
    counts('reduce', { outer, n, inner });
    const p = this.ptr(x, 'reduce input', undefined, outer * n * inner);
    const out = this.alloc(outer * inner, x.dtype); // i32 in, i32 out (as the reference)
    if (outer * inner === 0) return out;
    if (x.dtype === 'i32') {
      this.k.reduceInt(code, p, out.ptr, outer, n, inner);
      return out;
    }
    // Threads take whole output rows, or the columns of one matrix's column sums (each sum in the same order)
    const acc = this.scratch(inner * 8), work = outer * n * inner;
    if (outer === 1 && inner >= 16 && op === 'sum') {
      this.split('sumColumns', this.ranges(inner, work, SPLIT_ELEMENTS, 8), (s, e) => [p, out.ptr, n, inner, s, e, acc]);
    } else if (inner === 1) {
      this.split('reduce', this.ranges(outer, work, SPLIT_ELEMENTS, 1),
        (s, e) => [code, p + 4 * s * n, out.ptr + 4 * s, e - s, n, 1, acc]);
    } else this.k.reduce(code, p, out.ptr, outer, n, inner, acc);
    return out;
  }

  softmax(x: Storage, rows: number, n: number): Storage {
    counts('softmax', { rows, n });
    const p = this.ptr(x, 'softmax input', 'f32', rows * n);
    const out = this.alloc(rows * n, 'f32');
    const ranges = this.ranges(rows, rows * n, SPLIT_ELEMENTS, 1);
    const sp = this.scratch(n * 8 * ranges.length);
    this.split('softmax', ranges, (s, e, t) => [p + 4 * s * n, out.ptr + 4 * s * n, e - s, n, sp + n * 8 * t]);
    return out;
  }

  logSumExp(x: Storage, rows: number, n: number): Storage {
    counts('logSumExp', { rows, n });
    const p = this.ptr(x, 'logSumExp input', 'f32', rows * n);
    const out = this.alloc(rows, 'f32');
    this.split('logSumExp', this.ranges(rows, rows * n, SPLIT_ELEMENTS, 1), (s, e) => [p + 4 * s * n, out.ptr + 4 * s, e - s, n]);
    return out;
  }

  topk(x: Storage, rows: number, n: number, k: number): { values: Storage; indices: Storage } {
    counts('topk', { rows, n, k });
    if (k > n) throw new Error(`wasm backend: topk k = ${k} exceeds the row length n = ${n}`);
    const p = this.ptr(x, 'topk input', 'f32', rows * n);
    const values = this.alloc(rows * k, 'f32'), indices = this.alloc(rows * k, 'i32');
    const ranges = this.ranges(rows, rows * n, SPLIT_ELEMENTS, 1);
    const heapBytes = Math.ceil(k / 2) * 16, sp = this.scratch(heapBytes * ranges.length);
    this.split('topk', ranges, (s, e, t) => [p + 4 * s * n, values.ptr + 4 * s * k, indices.ptr + 4 * s * k, e - s, n, k, sp + heapBytes * t]);
    return { values, indices };
  }

  layerNorm(x: Storage, gamma: Storage, beta: Storage, rows: number, d: number, eps: number):
    { y: Storage; mean: Storage; rstd: Storage } {
    counts('layerNorm', { rows, d });
    const px = this.ptr(x, 'layerNorm x', 'f32', rows * d);
    const pg = this.ptr(gamma, 'layerNorm gamma', 'f32', d), pb = this.ptr(beta, 'layerNorm beta', 'f32', d);
    const y = this.alloc(rows * d, 'f32'), mean = this.alloc(rows, 'f32'), rstd = this.alloc(rows, 'f32');
    this.split('layerNorm', this.ranges(rows, rows * d, SPLIT_ELEMENTS, 1),
      (s, e) => [px + 4 * s * d, pg, pb, y.ptr + 4 * s * d, mean.ptr + 4 * s, rstd.ptr + 4 * s, e - s, d, eps]);
    return { y, mean, rstd };
  }

  layerNormGrad(dy: Storage, x: Storage, gamma: Storage, mean: Storage, rstd: Storage, rows: number, d: number):
    { dx: Storage; dgamma: Storage; dbeta: Storage } {
    counts('layerNormGrad', { rows, d });
    const pdy = this.ptr(dy, 'layerNormGrad dy', 'f32', rows * d), px = this.ptr(x, 'layerNormGrad x', 'f32', rows * d);
    const pg = this.ptr(gamma, 'layerNormGrad gamma', 'f32', d);
    const pm = this.ptr(mean, 'layerNormGrad mean', 'f32', rows), pr = this.ptr(rstd, 'layerNormGrad rstd', 'f32', rows);
    const dx = this.alloc(rows * d, 'f32'), dgamma = this.alloc(d, 'f32'), dbeta = this.alloc(d, 'f32');
    // dx by rows, then dgamma and dbeta by columns (each column summed over the rows in order)
    this.split('layerNormGradRows', this.ranges(rows, 4 * rows * d, SPLIT_ELEMENTS, 1),
      (s, e) => [pdy + 4 * s * d, px + 4 * s * d, pg, pm + 4 * s, pr + 4 * s, dx.ptr + 4 * s * d, e - s, d]);
    this.split('layerNormGradCols', this.ranges(d, 2 * rows * d, SPLIT_ELEMENTS, 1),
      (s, e) => [pdy, px, pm, pr, dgamma.ptr, dbeta.ptr, rows, d, s, e]);
    return { dx, dgamma, dbeta };
  }

  // ---- indexing -----------------------------------------------------------------------------

  /** Throws naming the first idx entry outside [0, limit). */
  private checkIndices(what: string, pIdx: number, n: number, limit: number): void {
    const bad = this.k.firstBadIndex(pIdx, n, limit);
    if (bad >= 0) {
      throw new Error(`wasm backend: ${what} index ${this.heap.i32[(pIdx >>> 2) + bad]} at position ${bad} is out of range [0, ${limit})`);
    }
  }

  gatherRows(table: Storage, idx: Storage, tableRows: number, d: number): Storage {
    counts('gatherRows', { tableRows, d });
    const pt = this.ptr(table, 'gatherRows table', undefined, tableRows * d);
    const pi = this.ptr(idx, 'gatherRows idx', 'i32');
    this.checkIndices('gatherRows', pi, idx.size, tableRows);
    const out = this.alloc(idx.size * d, table.dtype);
    this.k.gatherRows(pt, pi, out.ptr, idx.size, d);
    return out;
  }

  scatterAddRows(src: Storage, idx: Storage, outRows: number, d: number): Storage {
    counts('scatterAddRows', { outRows, d });
    const pi = this.ptr(idx, 'scatterAddRows idx', 'i32');
    const ps = this.ptr(src, 'scatterAddRows src', 'f32', idx.size * d);
    this.checkIndices('scatterAddRows', pi, idx.size, outRows);
    const out = this.alloc(outRows * d, 'f32');
    this.k.scatterAddRows(ps, pi, out.ptr, idx.size, outRows, d, this.scratch(outRows * d * 8));
    return out;
  }

  // ---- fused kernels --------------------------------------------------------------------------

  /** Shape checks shared by dotCrossEntropy and its gradient; returns the three input pointers. */
  private crossEntropyArgs(kernel: string, q: Storage, k: Storage, targets: Storage, rows: number, n: number, d: number): [number, number, number] {
    counts(kernel, { rows, n, d, 'rows·d': rows * d, 'n·d': n * d });
    const pq = this.ptr(q, `${kernel} q`, 'f32', rows * d), pk = this.ptr(k, `${kernel} k`, 'f32', n * d);
    const pt = this.ptr(targets, `${kernel} targets`, 'i32', rows);
    this.checkIndices(`${kernel} target`, pt, rows, n);
    return [pq, pk, pt];
  }

  /**
   * Bytes of the forward's score cache (fused.ts: a P region per key block and block of rows, then each
   * row's running max per key block), in float64 here so that no size overflows.
   */
  private scoreCacheBytes(rows: number, n: number): number {
    const NB = this.k.CE_NB.value, blocks = Math.ceil(Math.max(n, 1) / NB);
    return 4 * roundUp(rows, this.k.CE_RB.value) * blocks * (NB + 1);
  }

  dotCrossEntropy(q: Storage, k: Storage, targets: Storage, rows: number, n: number, d: number, keepScores = false):
    { loss: Storage; lse: Storage; scores?: Storage } {
    const [pq, pk, pt] = this.crossEntropyArgs('dotCrossEntropy', q, k, targets, rows, n, d);
    const loss = this.alloc(rows, 'f32'), lse = this.alloc(rows, 'f32');
    if (rows === 0) return { loss, lse };
    const cacheBytes = this.scoreCacheBytes(rows, n);
    const scores = keepScores && cacheBytes <= CE_CACHE_BYTES ? this.alloc(cacheBytes / 4, 'f32') : undefined;
    const ranges = this.ranges(rows, rows * n * d, SPLIT_FLOPS, this.k.MR.value);
    const bytes = this.k.dotCrossEntropyScratch(largest(ranges), n, d), sp = this.scratch(bytes * ranges.length);
    this.split('dotCrossEntropy', ranges, (s, e, t) => [pq + 4 * s * d, pk, pt + 4 * s, loss.ptr + 4 * s, lse.ptr + 4 * s,
      e - s, n, d, sp + bytes * t, scores?.ptr ?? 0, s, rows]);
    return { loss, lse, scores };
  }

  dotCrossEntropyGrad(q: Storage, k: Storage, targets: Storage, lse: Storage, dy: Storage, rows: number, n: number, d: number,
    scores?: Storage): { dq: Storage; dk: Storage } {
    const [pq, pk, pt] = this.crossEntropyArgs('dotCrossEntropyGrad', q, k, targets, rows, n, d);
    const pl = this.ptr(lse, 'dotCrossEntropyGrad lse', 'f32', rows), pd = this.ptr(dy, 'dotCrossEntropyGrad dy', 'f32', rows);
    const cache = scores ? this.ptr(scores, 'dotCrossEntropyGrad scores', 'f32', this.scoreCacheBytes(rows, n) / 4) : 0;
    const dq = this.alloc(rows * d, 'f32');
    if (rows === 0) return { dq, dk: this.zeros(n * d, 'f32') };
    const dk = this.alloc(n * d, 'f32');
    // By groups of key blocks whose dkᵀ partials fit CE_PARTIAL_BYTES: P and dq by blocks of rows, then dk by
    // keys from the partials (wasm/assembly/fused.ts); each element comes out the same on any number of threads.
    const K = this.k, [MR, NR, RB, nb] = [K.MR.value, K.NR.value, K.CE_RB.value, K.CE_NB.value];
    const perKey = 4 * roundUp(d, MR) * Math.ceil(rows / RB);
    const group = Math.min(roundUp(n, nb), nb * Math.max(1, Math.floor(CE_PARTIAL_BYTES / Math.max(1, perKey * nb))));
    const qaBytes = cache ? 0 : roundUp(4 * roundUp(rows, MR) * d, 64), qtBytes = roundUp(4 * roundUp(d, MR) * rows, 64);
    const partials = Math.ceil(rows / RB) * K.ceGradPartialBytes(d, group), partBytes = K.ceGradPartScratch(d, group);
    const count = this.pool && rows * n * d >= SPLIT_FLOPS * this.splitScale ? this.threads * PARTS_PER_THREAD : 1;
    const qa = this.scratch(qaBytes + qtBytes + partials + partBytes * count), qt = qa + qaBytes, pp = qt + qtBytes;
    const part = (t: number) => pp + partials + partBytes * t;
    if (!cache) K.packA(pq, d, 1, rows, d, qa);
    K.packA(pq, 1, d, d, rows, qt);
    for (let k0 = 0; k0 < n; k0 += group) {
      const k1 = Math.min(n, k0 + group);
      this.split('ceGradRows', parts(rows, count, RB),
        (s, e, t) => [qa, qt, pk, pt, pl, pd, dq.ptr, rows, d, k0, k1, s, e, cache, n, pp, part(t)]);
      this.split('ceGradKeys', parts(roundUp(k1 - k0, NR), count, NR),
        (s, e, t) => [pp, dk.ptr, rows, d, k0, k1 - k0, s, e, part(t)]);
    }
    return { dq, dk };
  }

  philoxNormal(k0: number, k1: number, position: number, n: number, mean: number, std: number): Storage {
    const words = 2 * Math.ceil(n / 2);
    const u = this.philoxUniform(k0, k1, position, words);
    try {
      const out = this.alloc(n, 'f32');
      // Box–Muller as engine/random.ts does it (the host's bits), pairs split over the threads
      if (n > 0) this.split('boxMuller', this.ranges(words, 16 * words, SPLIT_ELEMENTS, 2), (s, e) => [u.ptr, out.ptr, s, e, n, mean, std]);
      return out;
    } finally {
      this.free(u);
    }
  }

  philoxUniform(k0: number, k1: number, position: number, n: number): WasmStorage {
    this.philoxArgs('philoxUniform', k0, k1, position, n);
    const out = this.alloc(n, 'f32');
    if (n > 0) this.split('philoxUniform', this.ranges(n, n, SPLIT_ELEMENTS), (s, e) => [k0, k1, position + s, e - s, out.ptr + 4 * s]);
    return out;
  }

  philoxMask(k0: number, k1: number, position: number, n: number, threshold: number, scale: number): WasmStorage {
    this.philoxArgs('philoxMask', k0, k1, position, n);
    if (!Number.isInteger(threshold) || threshold < 0 || threshold > 65536) {
      throw new Error(`wasm backend: philoxMask threshold = ${threshold} is not an integer in [0, 65536]`);
    }
    const out = this.alloc(n, 'f32');
    // parts start at even values (align 16): value s is the low half of word position + s/2
    if (n > 0) {
      this.split('philoxMask', this.ranges(n, n, SPLIT_ELEMENTS),
        (s, e) => [k0, k1, position + s / 2, e - s, out.ptr + 4 * s, threshold, scale]);
    }
    return out;
  }

  private philoxArgs(kernel: string, k0: number, k1: number, position: number, n: number): void {
    for (const [key, v] of [['k0', k0], ['k1', k1]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`wasm backend: ${kernel} ${key} = ${v} is not a uint32`);
    }
    if (!Number.isSafeInteger(position) || position < 0) throw new Error(`wasm backend: ${kernel} position = ${position}`);
    counts(kernel, { n });
  }

  gramF64(x: Storage, rows: number, d: number): Float64Array {
    counts('gramF64', { rows, d, 'rows·d': rows * d });
    const px = this.ptr(x, 'gramF64 x', 'f32', rows * d);
    if (d === 0) return new Float64Array(0);
    const gBytes = d * d * 8, dp = roundUp(d, 4), tiles = (dp / 4) * (dp / 4 + 1) / 2;
    const sp = this.scratch(gBytes + rows * dp * 8), xd = sp + gBytes;
    this.split('gramF64Rows', this.ranges(rows, rows * d, SPLIT_ELEMENTS, 1), (s, e) => [px, d, xd, s, e]);
    this.split('gramF64Tiles', this.ranges(tiles, tiles * rows * 32, SPLIT_FLOPS, 1), (s, e) => [xd, rows, d, sp, s, e]);
    return copyOut(this.heap.f64, sp / 8, d * d);
  }

  symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
    if (!Number.isInteger(n) || n < 0 || a.length !== n * n) throw new Error(`wasm backend: symmetricEigen needs n × n = ${n * n} values, got ${a.length}`);
    counts('symmetricEigen', { n });
    if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
    // a, values, vectors, then the kernel's scratch: d, e (n each), Vᵀ (n²), the order (n i32)
    const nn = 8 * n * n;
    const pa = this.scratch(3 * nn + 28 * n), pval = pa + nn, pvec = pval + 8 * n;
    this.heap.f64.set(a, pa / 8);
    if (this.k.symmetricEigen(pa, n, pval, pvec, pvec + nn)) throw new Error('symmetricEigen: the QL iteration did not converge');
    const f64 = this.heap.f64;
    return { values: copyOut(f64, pval / 8, n), vectors: copyOut(f64, pvec / 8, n * n) };
  }

  // ---- optimiser ------------------------------------------------------------------------------

  adam(param: Storage, grad: Storage, m: Storage, v: Storage, args: AdamArgs): void {
    const n = param.size;
    const pp = this.ptr(param, 'adam param', 'f32'), pg = this.ptr(grad, 'adam grad', 'f32', n);
    const pm = this.ptr(m, 'adam m', 'f32', n), pv = this.ptr(v, 'adam v', 'f32', n);
    const { lr, beta1, beta2, eps, weightDecay, step } = args;
    const f = Math.fround;
    const consts = [f(beta1), f(1 - beta1), f(beta2), f(1 - beta2), f(-lr / (1 - beta1 ** step)),
      f(Math.sqrt(1 - beta2 ** step)), f(eps), f(weightDecay)];
    this.split('adam', this.ranges(n, 4 * n, SPLIT_ELEMENTS),
      (s, e) => [pp + 4 * s, pg + 4 * s, pm + 4 * s, pv + 4 * s, e - s, ...consts, this.fusedMadd]);
  }
}

/**
 * A copy of view[start, start + length) in a new array. Over a shared memory, slice() copies element by
 * element (about 50× slower than this bulk set).
 */
function copyOut<T extends Float32Array | Int32Array | Float64Array>(view: T, start: number, length: number): T {
  const out = new (view.constructor as new (n: number) => T)(length);
  out.set(view.subarray(start, start + length));
  return out;
}

function destroyed(): never {
  throw new Error('wasm backend: used after destroy()');
}

/** Throws unless every count is a non-negative integer that fits the kernels' i32 arguments. */
function counts(kernel: string, xs: Record<string, number>): void {
  for (const key in xs) {
    const v = xs[key];
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new Error(`wasm backend: ${kernel} ${key} = ${v}`);
  }
}

function code_<K extends string>(codes: Record<K, number>, op: K, kernel: string): number {
  const c = codes[op];
  if (c === undefined) throw new Error(`wasm backend: unknown ${kernel} op '${op}'`);
  return c;
}

/** Throws unless every offset + Σ idx·stride over `shape` lies in [0, size). */
function checkSpan(what: string, size: number, shape: readonly number[], strides: readonly number[], offset: number): void {
  if (shape.length !== strides.length) throw new Error(`wasm backend: ${what} shape [${shape}] vs strides [${strides}]`);
  for (const v of [...shape, ...strides, offset]) {
    if (!Number.isInteger(v)) throw new Error(`wasm backend: ${what} has a non-integer shape, stride or offset`);
  }
  if (shape.some((s) => s < 0)) throw new Error(`wasm backend: ${what} has a negative dimension`);
  if (prod(shape) === 0) return;
  let lo = offset, hi = offset;
  shape.forEach((s, i) => { const e = (s - 1) * strides[i]; if (e < 0) lo += e; else hi += e; });
  if (lo < 0 || hi >= size) throw new Error(`wasm backend: ${what} view reaches [${lo}, ${hi}] outside its ${size} elements`);
}

/**
 * Drops size-1 dims and merges neighbours that are contiguous for every stride list, so the kernels'
 * inner loop is as long as possible (same-shape contiguous operands become one flat run). Never rank 0.
 */
function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  shape.forEach((s, i) => {
    if (s === 1) return;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((st, j) => outStrides[j][last] === st[i] * s)) {
      outShape[last] *= s;
      strides.forEach((st, j) => { outStrides[j][last] = st[i]; });
    } else {
      outShape.push(s);
      strides.forEach((st, j) => outStrides[j].push(st[i]));
    }
  });
  if (outShape.length === 0) { outShape.push(1); outStrides.forEach((st) => st.push(0)); }
  return { shape: outShape, strides: outStrides };
}
