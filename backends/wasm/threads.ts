/**
 * Worker threads for the wasm backend. Each worker instantiates the threaded kernel build over the same
 * shared memory and then waits on a control word. A call is split into parts (disjoint blocks of its
 * output): their arguments go into a small shared table, a sequence bump and a notify start the workers,
 * and the caller and the workers take parts until none is left. Nothing is copied and no message is
 * posted per call.
 *
 * Runtimes without shared memory or workers (workerd, pages that are not cross-origin isolated) run one
 * thread: `threadsUnavailable` says why, and a failed start rejects, naming the cause.
 */
/** Kernel calls split into parts that the caller and size − 1 workers take in turn. */
export interface ThreadPool {
  readonly size: number;
  /**
   * Runs kernel `name` once per entry of `args` (at most MAX_PARTS), the parts shared out dynamically
   * (whoever is free takes the next), and returns when all are done. The parts must write disjoint memory.
   */
  run(name: string, args: readonly (readonly number[])[]): void;
  close(): void;
}

// Control block, i32 words: the job's sequence number, kernel, part count, arguments per part, the next
// part's ticket (job tag << 10 | part, taken by compare-exchange so that a worker still finishing one job
// can never take a part of the next), parts done, and an error flag; then the f64 argument table.
const SEQ = 0, FN = 1, COUNT = 2, NARGS = 3, NEXT = 4, DONE = 5, ERR = 6;
const ARGS_AT = 8; // in f64 units (byte 64)
export const MAX_PARTS = 64;
const MAX_ARGS = 24;
const TAG_MASK = 0xfffff;
/** Spins on a control word before sleeping: back-to-back kernels then skip the futex wake-up. */
const SPIN = 200000;

/**
 * Takes and runs parts of the current job (tag) until none is left; the caller's and every worker's loop.
 * Its source text goes into the worker too, so it names no outer binding: the control words are literals
 * (NEXT = 4, DONE = 5, ERR = 6, arguments from f64 index 8).
 */
function takeParts(i32: Int32Array, f64: Float64Array, fn: (...a: number[]) => unknown, tag: number, count: number, nargs: number): void {
  for (;;) {
    const cur = Atomics.load(i32, 4), part = cur & 1023;
    if ((cur >>> 10) !== tag || part >= count) return;
    if (Atomics.compareExchange(i32, 4, cur, cur + 1) !== cur) continue;
    try {
      // all MAX_ARGS (24) words, read one by one: no view or array per part (a wasm export ignores the
      // words past its own parameters)
      const a = 8 + part * nargs;
      fn(f64[a], f64[a + 1], f64[a + 2], f64[a + 3], f64[a + 4], f64[a + 5], f64[a + 6], f64[a + 7], f64[a + 8],
        f64[a + 9], f64[a + 10], f64[a + 11], f64[a + 12], f64[a + 13], f64[a + 14], f64[a + 15], f64[a + 16],
        f64[a + 17], f64[a + 18], f64[a + 19], f64[a + 20], f64[a + 21], f64[a + 22], f64[a + 23]);
    } catch {
      Atomics.store(i32, 6, 1);
    }
    if (Atomics.add(i32, 5, 1) + 1 === count) Atomics.notify(i32, 5);
  }
}

/**
 * The worker, as source text so that one file serves Node and Deno (worker_threads, eval) and web workers
 * (a blob URL). It receives {module, memory, control, local, names}, answers 'ready', then serves jobs.
 */
const WORKER_SOURCE = `
const takeParts = ${takeParts.toString()};
const serve = (d, post) => {
  const inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory } });
  inst.exports.setLocal(d.local);
  const fns = d.names.map((n) => inst.exports[n]);
  const i32 = new Int32Array(d.control), f64 = new Float64Array(d.control);
  post('ready');
  let seq = 0;
  for (;;) {
    for (let spin = 0; Atomics.load(i32, ${SEQ}) === seq; spin++) {
      if (spin > ${SPIN}) Atomics.wait(i32, ${SEQ}, seq);
    }
    seq = Atomics.load(i32, ${SEQ});
    const fn = i32[${FN}];
    if (fn < 0) break;
    takeParts(i32, f64, fns[fn], seq & ${TAG_MASK}, i32[${COUNT}], i32[${NARGS}]);
  }
};
if (typeof require === 'function') {
  const { parentPort } = require('node:worker_threads');
  parentPort.once('message', (d) => serve(d, (m) => parentPort.postMessage(m)));
} else {
  self.onmessage = (e) => serve(e.data, (m) => self.postMessage(m));
}
`;

interface AnyWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

/** Why this runtime cannot run the threaded build, or null when it can. */
export function threadsUnavailable(): string | null {
  if (typeof SharedArrayBuffer === 'undefined') return 'no SharedArrayBuffer in this runtime';
  if (typeof Atomics === 'undefined' || typeof Atomics.wait !== 'function') return 'no Atomics.wait in this runtime';
  if (!nodeWorkers() && typeof Worker === 'undefined') return 'no Worker in this runtime';
  return null;
}

const isDeno = () => typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
const isNode = () => typeof process !== 'undefined' && !!process.versions?.node && !isDeno();
/**
 * Node's worker_threads, which Deno also offers: there `unref()` lets the program end while the workers wait
 * (a web Worker blocked in Atomics.wait keeps Deno running, with no unref).
 */
const nodeWorkers = () => isNode() || isDeno();

/** Threads the runtime offers: every reported core, at most 8. */
export async function defaultThreadCount(): Promise<number> {
  if (threadsUnavailable()) return 1;
  let cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency ?? 0 : 0;
  if (!cores && isNode()) cores = (await import('node:os')).availableParallelism();
  return Math.max(1, Math.min(8, cores || 1));
}

/**
 * Starts `threads − 1` workers over `memory` running `module` (the threaded build); `locals[t]` is thread
 * t's scratch block and `names` the kernels that `run` may call. Rejects naming the cause if a worker fails
 * to start within `timeoutMs`.
 */
export async function startThreads(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number,
  locals: readonly number[], names: readonly string[], kernels: Record<string, (...args: number[]) => unknown>,
  timeoutMs = 10000): Promise<ThreadPool> {
  const control = new SharedArrayBuffer(8 * (ARGS_AT + MAX_PARTS * MAX_ARGS));
  const i32 = new Int32Array(control), f64 = new Float64Array(control);
  const workers: AnyWorker[] = [];
  const index = new Map(names.map((n, i) => [n, i]));
  try {
    await Promise.all(locals.slice(1, threads).map(async (local) => {
      const worker = await spawnWorker();
      workers.push(worker.handle);
      const ready = worker.next(timeoutMs);
      worker.handle.postMessage({ module, memory, control, local, names });
      await ready;
    }));
  } catch (e) {
    workers.forEach((w) => w.terminate());
    throw e;
  }
  // The main thread of a browser page may not block: there the caller spins instead of Atomics.wait.
  let canBlock = true;
  try { Atomics.wait(i32, ERR, 1, 0); } catch { canBlock = false; }
  let seq = 0;
  let closed = false;

  return {
    size: threads,
    run(name, args) {
      if (closed) throw new Error('wasm backend: threads used after destroy()');
      const fn = index.get(name);
      if (fn === undefined) throw new Error(`wasm backend: ${name} is not a threaded kernel`);
      const count = args.length, nargs = args[0]?.length ?? 0;
      if (count > MAX_PARTS || nargs > MAX_ARGS) throw new Error(`wasm backend: ${name} split into ${count} parts of ${nargs} arguments`);
      seq = (seq + 1) & 0x7fffffff;
      const tag = seq & TAG_MASK;
      // Close the ticket under the new tag before the job's words change: a worker that read the previous
      // job's sequence number (and may read this job's kernel or count) fails the tag check and takes nothing.
      Atomics.store(i32, NEXT, (tag << 10) | 1023);
      args.forEach((a, p) => f64.set(a, ARGS_AT + p * nargs));
      i32[FN] = fn; i32[COUNT] = count; i32[NARGS] = nargs; i32[DONE] = 0; i32[ERR] = 0;
      Atomics.store(i32, NEXT, tag << 10);
      Atomics.store(i32, SEQ, seq);
      Atomics.notify(i32, SEQ);
      takeParts(i32, f64, kernels[name], tag, count, nargs);
      for (let spin = 0, done; (done = Atomics.load(i32, DONE)) !== count; spin++) {
        if (canBlock && spin > SPIN) Atomics.wait(i32, DONE, done, 1000);
      }
      if (i32[ERR]) throw new Error(`wasm backend: ${name} failed in one of its ${count} parts`);
    },
    close() {
      if (closed) return;
      closed = true;
      i32[FN] = -1;
      Atomics.store(i32, SEQ, (seq + 1) & 0x7fffffff);
      Atomics.notify(i32, SEQ);
      workers.forEach((w) => w.terminate());
    },
  };
}

/** A worker running WORKER_SOURCE, with a promise for its next message (its 'ready'), errors included. */
async function spawnWorker(): Promise<{ handle: AnyWorker; next(timeoutMs: number): Promise<unknown> }> {
  let settle: { resolve(v: unknown): void; reject(e: Error): void } | null = null;
  const deliver = (v: unknown) => { settle?.resolve(v); settle = null; };
  const fail = (e: unknown) => { settle?.reject(new Error(`wasm backend: a worker thread failed to start: ${e instanceof Error ? e.message : String(e)}`)); settle = null; };
  let handle: AnyWorker;
  if (nodeWorkers()) {
    const { Worker: NodeWorker } = await import('node:worker_threads');
    const w = new NodeWorker(WORKER_SOURCE, { eval: true });
    w.on('message', deliver);
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    w.unref(); // after the listeners (which ref the port): idle workers must not keep the process alive
    handle = w;
  } else {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const w = new Worker(url, { type: 'module' });
    URL.revokeObjectURL(url);
    w.onmessage = (e) => deliver(e.data);
    w.onerror = (e) => { e.preventDefault?.(); fail(e.message); };
    handle = w;
  }
  return {
    handle,
    next: (timeoutMs) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      settle = {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    }),
  };
}
