/**
 * The wasm backend's allocator over one WebAssembly.Memory: 16-byte aligned blocks, a first-fit free list
 * kept sorted by address and coalesced on free, and a bump pointer (`top`) for fresh memory. Freed blocks
 * that reach `top` give their space back to it. Growing the memory detaches every typed-array view, so
 * views are only reached through `f32` / `i32` / `u8` / `f64`, which are re-created after each grow.
 */
const ALIGN = 16;
const PAGE = 65536;

export class Heap {
  private free: { ptr: number; size: number }[] = [];
  private top: number;
  f32!: Float32Array;
  i32!: Int32Array;
  u8!: Uint8Array;
  f64!: Float64Array;

  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.top = align(base);
    this.refresh();
  }

  /** The end of the highest block ever handed out and not yet returned to the top. */
  get highWater(): number { return this.top; }

  /** A block of at least `bytes` bytes (contents undefined). */
  alloc(bytes: number): number {
    const size = align(Math.max(bytes, ALIGN));
    const list = this.free;
    for (let i = 0; i < list.length; i++) {
      const b = list[i];
      if (b.size < size) continue;
      const ptr = b.ptr;
      if (b.size === size) list.splice(i, 1);
      else { b.ptr += size; b.size -= size; }
      return ptr;
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    return ptr;
  }

  /** Returns a block from `alloc` (same `bytes`). */
  release(ptr: number, bytes: number): void {
    let size = align(Math.max(bytes, ALIGN));
    const list = this.free;
    let lo = 0, hi = list.length; // first block above ptr
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid].ptr < ptr) lo = mid + 1; else hi = mid; }
    let start = ptr;
    const prev = list[lo - 1], next = list[lo];
    if (next && ptr + size === next.ptr) { size += next.size; list.splice(lo, 1); }
    if (prev && prev.ptr + prev.size === start) { start = prev.ptr; size += prev.size; list.splice(lo - 1, 1); lo--; }
    if (start + size === this.top) this.top = start;
    else list.splice(lo, 0, { ptr: start, size });
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      // Grow by at least a quarter of the current size so that a stream of allocations grows rarely.
      this.memory.grow(Math.max(pages, Math.min(Math.ceil(have / PAGE / 4), 65536 - have / PAGE - pages)));
    } catch {
      try { this.memory.grow(pages); } catch (e) {
        throw new Error(`wasm backend: out of memory growing to ${end} bytes (${(e as Error).message})`);
      }
    }
    this.refresh();
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    this.f32 = new Float32Array(buf);
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
    this.f64 = new Float64Array(buf);
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
