/**
 * Tensors, the active backend and memory scopes.
 *
 * Memory is explicit, never left to the garbage collector: every tensor created inside `tidy` is freed
 * when the scope ends unless it is returned, `keep`-ed, or a variable. Reshapes share storage through a
 * reference count, so a view costs nothing and frees nothing until its last user is gone.
 */
import type { Backend, DType, Storage } from './backend.js';
import { fmt, sizeOf, type Shape } from './shape.js';

let active: Backend | null = null;
let live = 0; // tensors created and not disposed
const scopes: Set<Tensor>[] = [];
/** Tensors the active tape still needs for the backward pass; scopes must not free them. */
let tapeHold: Set<Tensor> | null = null;

/** Makes `backend` the one new tensors and ops use. */
export function setBackend(backend: Backend): void {
  active = backend;
}

export function getBackend(): Backend {
  if (!active) throw new Error('no backend selected: call setBackend(await createBackend(name)) first');
  return active;
}

/** The active backend, or null before setBackend (host-only code may run without one). */
export function activeBackend(): Backend | null {
  return active;
}

/** Shared, reference-counted storage. */
class DataRef {
  refs = 1;
  constructor(readonly backend: Backend, readonly storage: Storage) {}
  release(): void {
    if (--this.refs === 0) this.backend.free(this.storage);
  }
}

export class Tensor {
  /** Ids grow monotonically: the id the next tensor will get. */
  static nextId = 1;
  readonly id = Tensor.nextId++;
  readonly size: number;
  /** Set while the tensor is tracked by a gradient tape. */
  requiresGrad = false;
  /** Variables and kept tensors outlive scopes. */
  kept = false;
  private ref: DataRef | null;

  /** Wraps backend storage (taking ownership) as a tensor of `shape`. */
  constructor(storage: Storage | DataRef, readonly shape: Shape, readonly dtype: DType = storage instanceof DataRef ? storage.storage.dtype : storage.dtype, backend: Backend = getBackend()) {
    this.ref = storage instanceof DataRef ? storage : new DataRef(backend, storage);
    this.size = sizeOf(shape);
    if (this.size !== this.ref.storage.size) {
      throw new Error(`tensor: shape ${fmt(shape)} needs ${this.size} elements but the storage holds ${this.ref.storage.size}`);
    }
    live++;
    scopes[scopes.length - 1]?.add(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.ref === null;
  }

  get backend(): Backend {
    return this.checked('backend').backend;
  }

  get storage(): Storage {
    return this.checked('storage').storage;
  }

  /** A tensor of another shape over the same storage (no copy). */
  view(shape: Shape): Tensor {
    const ref = this.checked('reshape');
    ref.refs++;
    return new Tensor(ref, shape, this.dtype, ref.backend);
  }

  /** Reads the values to the host (the only asynchronous step of the engine). */
  async data(): Promise<Float32Array | Int32Array> {
    const ref = this.checked('data');
    return ref.backend.read(ref.storage);
  }

  /** Synchronous read, on backends that can (reference, wasm). */
  dataSync(): Float32Array | Int32Array {
    const ref = this.checked('dataSync');
    if (!ref.backend.readSync) throw new Error(`dataSync: the ${ref.backend.name} backend reads asynchronously; use await tensor.data()`);
    return ref.backend.readSync(ref.storage);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, not 1`);
    return (await this.data())[0];
  }

  dispose(): void {
    if (!this.ref) return;
    this.ref.release();
    this.ref = null;
    live--;
    for (const s of scopes) s.delete(this);
  }

  toString(): string {
    return `Tensor#${this.id}(${this.dtype}${fmt(this.shape)}${this.disposed ? ', disposed' : ''})`;
  }

  private checked(what: string): DataRef {
    if (!this.ref) throw new Error(`${what}: ${this.toString()} was used after dispose`);
    return this.ref;
  }
}

/** Number of tensors alive (created and not disposed): leak checks compare it before and after. */
export function liveTensors(): number {
  return live;
}

/** Excludes `t` from scope cleanup; the caller disposes it. */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  for (const s of scopes) s.delete(t);
  return t;
}

type Tensors = Tensor | Tensor[] | Record<string, Tensor> | void | number | undefined | unknown;

function tensorsIn(result: Tensors): Tensor[] {
  if (result instanceof Tensor) return [result];
  if (Array.isArray(result)) return result.flatMap(tensorsIn);
  if (result && typeof result === 'object') return Object.values(result).flatMap(tensorsIn);
  return [];
}

function endScope(result: unknown): void {
  const scope = scopes.pop()!;
  const returned = new Set(tensorsIn(result));
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) parent?.add(t);
    else if (tapeHold?.has(t)) continue;
    else if (!t.kept) t.dispose();
  }
}

/**
 * Runs `fn` in a memory scope: tensors it creates are disposed at the end, except those it returns
 * (directly, in an array or in an object's values) and kept ones. `fn` may be async; scopes of
 * concurrent async functions must not interleave.
 *
 * @example
 * const loss = tidy(() => mean(square(sub(pred, target))));   // intermediates freed, loss kept
 */
export function tidy<T>(fn: () => T): T {
  scopes.push(new Set());
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope(undefined);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (r) => { endScope(r); return r; },
      (e) => { endScope(undefined); throw e; },
    ) as T;
  }
  endScope(result);
  return result;
}

/** Used by the tape: while set, scopes leave these tensors alone. */
export function setTapeHold(hold: Set<Tensor> | null): Set<Tensor> | null {
  const prev = tapeHold;
  tapeHold = hold;
  return prev;
}

/** Moves a tensor into the innermost scope (or out of every scope when there is none). */
export function adopt(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}
