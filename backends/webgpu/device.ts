/// <reference types="@webgpu/types" />
/**
 * The WebGPU runtime under the backend: device errors, pooled buffers, cached pipelines, and one command
 * encoder that collects dispatches and is submitted in short batches.
 *
 * Rules this file keeps (with the pinned GPU object of index.ts, what keeps Dawn-in-Node stable; see
 * benchmarks/webgpu/README.md):
 * - Dispatch is synchronous: kernels are recorded into the open encoder. Only `read` waits, and it waits
 *   asynchronously (mapAsync), so the JS thread never blocks while GPU work is in flight.
 * - A batch is submitted after `maxBatch` dispatches, so no single submission is long.
 * - A freed buffer goes back to the pool only once the batch that last used it has been submitted:
 *   `queue.writeBuffer` (uploads, parameters) runs before any not-yet-submitted command, so a buffer still
 *   read by the open encoder must not be handed to an upload.
 * - Buffers leave the pool (destroy) only after the GPU finished every submission made so far
 *   (onSubmittedWorkDone), and a submitted batch holds references to everything it binds until then.
 */

/** Numeric flags (the GPUBufferUsage / GPUMapMode globals are absent in Node without `globals`). */
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ_MODE = 0x1;

/** Words of one dispatch's parameter block (a uniform array<vec4<u32>, 16>). */
export const PARAM_WORDS = 64;
const PARAM_BYTES = PARAM_WORDS * 4; // also a valid minUniformBufferOffsetAlignment (≤ 256)

export interface Kernel {
  readonly name: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** Storage bindings after the parameter block: true = written. */
  readonly writes: readonly boolean[];
}

/** One storage binding: a buffer and the bytes of it the kernel may touch. */
export interface Binding { buffer: GPUBuffer; offset?: number; size: number }

export interface GpuOptions {
  /** Dispatches per submission (default 32). */
  maxBatch?: number;
  /** Bytes of free buffers kept for reuse (default 256 MiB). */
  poolBytes?: number;
  /** Caps the storage-binding size below the device's limit (tests of the splitting paths). */
  maxBindingBytes?: number;
}

export class GpuError extends Error {}

export class Gpu {
  readonly maxBinding: number;
  readonly maxBuffer: number;
  readonly maxGroups: number;
  private readonly maxBatch: number;
  private readonly poolLimit: number;

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatches = 0;
  private params = new Uint32Array(PARAM_WORDS * 64);
  private paramBuffers: GPUBuffer[] = [];
  /** Buffers the open encoder uses and that were freed meanwhile: to the pool at submission. */
  private pendingFree: GPUBuffer[] = [];
  /** Buffers bound by the open encoder (kept referenced until its work completes). */
  private inBatch: Set<GPUBuffer> = new Set();
  private pool = new Map<number, GPUBuffer[]>();
  private poolSize = 0;
  private pipelines = new Map<string, Kernel>();
  private inFlight = new Set<Promise<unknown>>();
  private lost: string | null = null;
  private firstError: string | null = null;
  private destroyed = false;
  /** Number of submissions made (for tests and the stress script). */
  submissions = 0;

  /**
   * `owners`: the GPU object and adapter the device came from, referenced here for the device's life
   * (a collected Dawn GPU object frees the instance that the binding still polls).
   */
  constructor(readonly device: GPUDevice, readonly fallback: boolean, opts: GpuOptions = {},
    private readonly owners: readonly unknown[] = []) {
    this.maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, opts.maxBindingBytes ?? Infinity);
    this.maxBuffer = device.limits.maxBufferSize;
    this.maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 32);
    this.poolLimit = opts.poolBytes ?? 256 << 20;
    device.lost.then((info) => {
      if (!this.destroyed) this.lost = `the WebGPU device was lost (${info.reason}): ${info.message}`;
    }, () => {});
    device.addEventListener?.('uncapturederror', (ev: Event) => {
      const msg = (ev as GPUUncapturedErrorEvent).error?.message ?? String(ev);
      this.firstError ??= `WebGPU error: ${msg}`;
    });
  }

  /** Throws when the device is gone or reported an error (checked by every public entry point). */
  check(): void {
    if (this.destroyed) throw new GpuError('webgpu backend: used after destroy()');
    if (this.lost) throw new GpuError(`webgpu backend: ${this.lost}`);
    if (this.firstError) {
      const e = this.firstError;
      this.firstError = null;
      throw new GpuError(`webgpu backend: ${e}`);
    }
  }

  // ---- buffers ----------------------------------------------------------------------------------

  /** Pool bucket: powers of two up to 1 MiB, then eighths of a power of two (≤ 12.5% waste). */
  static bucket(bytes: number): number {
    const b = Math.max(256, bytes);
    const p = 2 ** Math.ceil(Math.log2(b));
    if (p <= 1 << 20) return p;
    const step = p / 16;
    return Math.ceil(b / step) * step;
  }

  /** A storage buffer of at least `bytes` (contents undefined unless `fresh`). */
  acquire(bytes: number): { buffer: GPUBuffer; fresh: boolean } {
    const size = Gpu.bucket(bytes);
    if (size > this.maxBuffer) {
      throw new GpuError(`webgpu backend: a buffer of ${bytes} bytes exceeds the device's maxBufferSize (${this.maxBuffer})`);
    }
    const list = this.pool.get(size);
    const reused = list?.pop();
    if (reused) {
      this.poolSize -= size;
      return { buffer: reused, fresh: false };
    }
    this.device.pushErrorScope('out-of-memory');
    const buffer = this.device.createBuffer({ size, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
    this.watch(this.device.popErrorScope().then((e) => {
      if (e) this.firstError ??= `out of GPU memory allocating ${size} bytes: ${e.message}`;
    }));
    return { buffer, fresh: true };
  }

  /** Gives a buffer back: pooled once the open encoder (if it uses it) has been submitted. */
  release(buffer: GPUBuffer): void {
    if (this.destroyed) return;
    if (this.inBatch.has(buffer)) this.pendingFree.push(buffer);
    else this.toPool(buffer);
  }

  private toPool(buffer: GPUBuffer): void {
    const size = buffer.size;
    if (this.poolSize + size > this.poolLimit) {
      this.destroyLater(buffer);
      return;
    }
    let list = this.pool.get(size);
    if (!list) this.pool.set(size, (list = []));
    list.push(buffer);
    this.poolSize += size;
  }

  /** Destroys a buffer once all work submitted so far has completed. */
  private destroyLater(buffer: GPUBuffer): void {
    this.watch(this.device.queue.onSubmittedWorkDone().then(() => buffer.destroy()));
  }

  upload(buffer: GPUBuffer, data: ArrayBufferView): void {
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, Math.ceil(data.byteLength / 4) * 4);
  }

  /** Records a clear (zeros) of the first `bytes` of a buffer. */
  clear(buffer: GPUBuffer, bytes: number): void {
    const enc = this.openEncoder();
    this.endPass();
    this.inBatch.add(buffer);
    enc.clearBuffer(buffer, 0, Math.ceil(bytes / 4) * 4);
  }

  /** Records a copy between storage buffers. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    const enc = this.openEncoder();
    this.endPass();
    this.inBatch.add(src);
    this.inBatch.add(dst);
    enc.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Copies `bytes` from the start of `src` to the host (flushes; waits asynchronously). */
  async read(src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.check();
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const enc = this.openEncoder();
    this.endPass();
    this.inBatch.add(src);
    if (bytes > 0) enc.copyBufferToBuffer(src, 0, staging, 0, size);
    this.flush();
    try {
      await this.guard(staging.mapAsync(MAP_READ_MODE), 'reading a buffer back');
      const out = staging.getMappedRange().slice(0, bytes);
      staging.unmap();
      return out;
    } finally {
      staging.destroy();
    }
  }

  /** Resolves when the GPU has finished everything submitted so far. */
  async sync(): Promise<void> {
    this.flush();
    await this.guard(this.device.queue.onSubmittedWorkDone(), 'waiting for the queue');
  }

  /** Rejects with a clear error when the device is lost (or already was) instead of waiting forever. */
  private async guard<T>(p: Promise<T>, what: string): Promise<T> {
    const lost = this.device.lost.then((info) => {
      throw new GpuError(`webgpu backend: the device was lost while ${what} (${info.reason}): ${info.message}`);
    });
    const r = await Promise.race([p, lost]);
    this.check();
    return r;
  }

  private watch(p: Promise<unknown>): void {
    const q = p.catch(() => {}).finally(() => this.inFlight.delete(q));
    this.inFlight.add(q);
  }

  // ---- pipelines and dispatch ----------------------------------------------------------------------

  /** A compute pipeline by key, compiled once from `source()` (entry point `main`). */
  kernel(key: string, writes: readonly boolean[], source: () => string): Kernel {
    let k = this.pipelines.get(key);
    if (k) return k;
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: 'uniform' } },
      ...writes.map((w, i): GPUBindGroupLayoutEntry => ({
        binding: i + 1, visibility: 4, buffer: { type: w ? 'storage' : 'read-only-storage' },
      })),
    ];
    const layout = this.device.createBindGroupLayout({ entries });
    const code = source();
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: key });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
      label: key,
    });
    this.watch(this.device.popErrorScope().then((e) => {
      if (e) this.firstError ??= `kernel ${key} failed to compile: ${e.message}`;
    }));
    k = { name: key, pipeline, layout, writes };
    this.pipelines.set(key, k);
    return k;
  }

  /**
   * Records one dispatch: `params` (≤ 64 words, each a u32 bit pattern), the storage bindings in the
   * kernel's order, and the workgroup counts.
   */
  dispatch(k: Kernel, params: ArrayLike<number>, bindings: readonly Binding[], groups: [number, number?, number?]): void {
    this.check();
    if (bindings.length !== k.writes.length) throw new Error(`webgpu backend: ${k.name}: ${bindings.length} bindings for ${k.writes.length}`);
    const [x, y = 1, z = 1] = groups;
    if (x === 0 || y === 0 || z === 0) return;
    if (x > this.maxGroups || y > this.maxGroups || z > this.maxGroups) {
      throw new Error(`webgpu backend: ${k.name}: dispatch ${x}×${y}×${z} exceeds ${this.maxGroups} workgroups per dimension`);
    }
    for (const b of bindings) {
      if (b.size > this.maxBinding) {
        throw new GpuError(`webgpu backend: ${k.name}: a binding of ${b.size} bytes exceeds the device's ` +
          `maxStorageBufferBindingSize (${this.maxBinding}); this kernel does not split it`);
      }
    }
    const slot = this.dispatches;
    if ((slot + 1) * PARAM_WORDS > this.params.length) {
      const grown = new Uint32Array(this.params.length * 2);
      grown.set(this.params);
      this.params = grown;
    }
    const words = this.params.subarray(slot * PARAM_WORDS, (slot + 1) * PARAM_WORDS);
    words.fill(0);
    for (let i = 0; i < params.length; i++) words[i] = params[i] >>> 0;
    const paramBuffer = this.paramBuffer(slot);
    const group = this.device.createBindGroup({
      layout: k.layout,
      entries: [
        { binding: 0, resource: { buffer: paramBuffer.buffer, offset: paramBuffer.offset, size: PARAM_BYTES } },
        ...bindings.map((b, i) => ({
          binding: i + 1, resource: { buffer: b.buffer, offset: b.offset ?? 0, size: Math.max(4, b.size) },
        })),
      ],
    });
    for (const b of bindings) this.inBatch.add(b.buffer);
    this.openEncoder();
    this.pass ??= this.encoder!.beginComputePass();
    this.pass.setPipeline(k.pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    if (this.dispatches >= this.maxBatch) this.flush();
  }

  /** The uniform buffer (and offset) of a batch's parameter slot: 16 slots per 4 KiB buffer. */
  private paramBuffer(slot: number): { buffer: GPUBuffer; offset: number } {
    const perBuffer = 16;
    const i = Math.floor(slot / perBuffer);
    while (this.paramBuffers.length <= i) {
      this.paramBuffers.push(this.device.createBuffer({ size: PARAM_BYTES * perBuffer, usage: USAGE.UNIFORM | USAGE.COPY_DST }));
    }
    return { buffer: this.paramBuffers[i], offset: (slot % perBuffer) * PARAM_BYTES };
  }

  private openEncoder(): GPUCommandEncoder {
    this.check();
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Submits the open encoder (parameters first), then pools the buffers freed meanwhile. */
  flush(): void {
    if (!this.encoder || this.destroyed) return;
    this.endPass();
    const perBuffer = 16;
    for (let i = 0; i * perBuffer < this.dispatches; i++) {
      const words = Math.min(perBuffer, this.dispatches - i * perBuffer) * PARAM_WORDS;
      this.device.queue.writeBuffer(this.paramBuffers[i], 0, this.params.buffer, i * perBuffer * PARAM_BYTES, words * 4);
    }
    const commands = this.encoder.finish();
    this.encoder = null;
    this.device.queue.submit([commands]);
    this.submissions++;
    this.dispatches = 0;
    // Keep every buffer of the batch referenced until the GPU is done with it.
    const held = this.inBatch;
    this.inBatch = new Set();
    this.watch(this.device.queue.onSubmittedWorkDone().then(() => held.clear()));
    const freed = this.pendingFree;
    this.pendingFree = [];
    for (const b of freed) this.toPool(b);
  }

  /** Waits for outstanding work, then releases every buffer, pipeline and the device. */
  destroy(): void {
    if (this.destroyed) return;
    this.flush();
    this.destroyed = true;
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    for (const b of this.paramBuffers) b.destroy();
    this.pool.clear();
    this.pipelines.clear();
    this.paramBuffers = [];
    this.device.destroy();
  }

  /** Outstanding device promises (error scopes, deferred destroys), for an orderly shutdown. */
  async settle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
}
