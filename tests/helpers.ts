/**
 * Shared helpers of the engine test suites (conformance, gradcheck, golden, engine): which backends
 * are available, closeness assertions with messages that say where and by how much, and seeded data.
 */
import type { Backend } from '../engine/backend.js';
import { Random, Tensor, tensor } from '../engine/index.js';
import { createBackend } from '../backends/index.js';
import { createReferenceBackend, type ReferenceBackend } from '../backends/reference/index.js';

// ---- backends ---------------------------------------------------------------------------------------

export interface BackendEntry { name: string; backend: Backend }

/** A backend that should be there but failed to load (reported as a failing test). */
export interface BackendFailure { name: string; error: string }

export interface BackendLoad { available: BackendEntry[]; failed: BackendFailure[] }

/** True when the environment says the wasm backend is deliberately not under test. */
export const SKIP_WASM = process.env.SKIP_WASM === '1';

/**
 * WEBGPU=1 puts the webgpu backend under test (CI sets it after provisioning a Vulkan driver); then a
 * backend that fails to load is a failing test, never a silent skip.
 */
export const WEBGPU = process.env.WEBGPU === '1';

let loading: Promise<BackendLoad> | null = null;

/**
 * Loads every backend once per process: reference always; wasm unless SKIP_WASM=1; webgpu when
 * WEBGPU=1. A backend that fails to load (not built, missing module, no adapter, exception in its
 * factory) lands in `failed`.
 */
export function loadBackends(): Promise<BackendLoad> {
  loading ??= (async () => {
    const available: BackendEntry[] = [{ name: 'reference', backend: createReferenceBackend() }];
    const failed: BackendFailure[] = [];
    if (!SKIP_WASM) {
      try {
        available.push({ name: 'wasm', backend: await createBackend('wasm') });
      } catch (e) {
        failed.push({ name: 'wasm', error: errorText(e) });
      }
    }
    if (WEBGPU) {
      try {
        available.push({ name: 'webgpu', backend: await createBackend('webgpu') });
      } catch (e) {
        failed.push({ name: 'webgpu', error: errorText(e) });
      }
    }
    return { available, failed };
  })();
  return loading;
}

/** The backends that loaded: `[{ name: 'reference', backend }, { name: 'wasm', backend }?, { name: 'webgpu', backend }?]`. */
export async function availableBackends(): Promise<BackendEntry[]> {
  return (await loadBackends()).available;
}

type TestFn = (name: string, fn: () => void | Promise<void>) => void;

/**
 * Registers one failing test per backend that should have loaded but did not, so that a missing or
 * broken wasm build shows up as a failure (never as a silent skip). SKIP_WASM=1 opts out.
 */
export function registerLoadFailures(test: TestFn, load: BackendLoad): void {
  for (const f of load.failed) {
    const hint = f.name === 'webgpu'
      ? '  provision a Vulkan driver (tests/webgpu/provision-lavapipe.sh), or unset WEBGPU to test without it'
      : '  build it with `npm run build:wasm`, or set SKIP_WASM=1 to test without it';
    test(`${f.name} backend loads (${f.name === 'webgpu' ? 'unset WEBGPU' : 'set SKIP_WASM=1'} to leave it out)`, () => {
      throw new Error(`the ${f.name} backend failed to load: ${f.error}\n${hint}`);
    });
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An f64 reference backend (finite-difference gradient checks). */
export function createF64Backend(): ReferenceBackend {
  return createReferenceBackend({ precision: 'f64' });
}

// ---- reading ----------------------------------------------------------------------------------------

/** A tensor's values as doubles: exact on the f64 reference backend (readF64), otherwise via data(). */
export async function readF64(t: Tensor): Promise<Float64Array> {
  const b = t.backend as Partial<ReferenceBackend>;
  if (typeof b.readF64 === 'function') return b.readF64(t.storage);
  return Float64Array.from(await t.data());
}

/** Synchronous variant for backends that can read synchronously. */
export function readF64Sync(t: Tensor): Float64Array {
  const b = t.backend as Partial<ReferenceBackend>;
  if (typeof b.readF64 === 'function') return b.readF64(t.storage);
  return Float64Array.from(t.dataSync());
}

// ---- assertions -------------------------------------------------------------------------------------

export interface Tol {
  atol: number;
  rtol: number;
  /**
   * 'scale' (default): every element may be off by atol + rtol · max|expected| (the tensor's scale),
   * so near-zero entries of a large tensor are not held to an impossible relative accuracy.
   * 'element': by atol + rtol · |expected[i]| (edge values spanning many magnitudes).
   */
  relTo?: 'scale' | 'element';
}

/** The row-major multi-index of flat index `i` in `shape`, e.g. "[2, 17]". */
export function indexIn(i: number, shape?: readonly number[]): string {
  if (!shape || shape.length === 0) return `[${i}]`;
  const idx: number[] = [];
  let r = i;
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = Math.max(1, shape[k]);
    idx.unshift(r % d);
    r = Math.floor(r / d);
  }
  return `[${idx.join(', ')}]`;
}

const fmtNum = (v: number) => (Number.isInteger(v) && Math.abs(v) < 1e15 ? String(v) : v.toPrecision(8));

/** Both NaN, or equal (including infinities of the same sign). */
function sameSpecial(a: number, e: number): boolean {
  return (Number.isNaN(a) && Number.isNaN(e)) || a === e;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol · scale elementwise (scale = max|expected|, or |expected[i]|
 * with relTo 'element'). NaN must meet NaN and ±Infinity the same infinity. The message names the label,
 * how many elements are off, the worst one (flat and multi-index, both values, error, allowance).
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol, label: string,
  shape?: readonly number[]): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: ${actual.length} values, expected ${expected.length}`);
  }
  let scale = 0;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  const perElement = tol.relTo === 'element';
  let bad = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  let maxErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (sameSpecial(a, e)) continue;
    const err = Math.abs(a - e);
    const allowed = tol.atol + tol.rtol * (perElement ? Math.abs(e) : scale);
    if (!Number.isFinite(err) || !(err <= allowed)) {
      bad++;
      const excess = Number.isFinite(err) ? err / (allowed || Number.MIN_VALUE) : Infinity;
      if (excess > worstExcess || worst < 0) { worstExcess = excess; worst = i; }
    }
    if (Number.isFinite(err)) maxErr = Math.max(maxErr, err);
    else maxErr = Infinity;
  }
  if (bad === 0) return;
  const a = actual[worst];
  const e = expected[worst];
  const allowed = tol.atol + tol.rtol * (perElement ? Math.abs(e) : scale);
  throw new Error(`${label}: ${bad} of ${actual.length} elements differ` +
    `${shape ? ` (shape [${shape.join(', ')}])` : ''}; max abs error ${fmtNum(maxErr)}; worst at index ${worst} ` +
    `${indexIn(worst, shape)}: actual ${fmtNum(a)}, expected ${fmtNum(e)}, |error| ${fmtNum(Math.abs(a - e))} > ` +
    `allowed ${allowed.toExponential(2)} (atol ${tol.atol} + rtol ${tol.rtol} × ${perElement ? '|expected|' : `scale ${fmtNum(scale)}`})`);
}

/**
 * Asserts bit-identical contents (values read from float32 or int32 storage): equal as numbers with the
 * sign of zero respected (Object.is), NaN matching NaN. The first difference is reported.
 */
export function assertSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string,
  shape?: readonly number[]): void {
  if (actual.length !== expected.length) throw new Error(`${label}: ${actual.length} values, expected ${expected.length}`);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    const same = Object.is(actual[i], expected[i]) || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]));
    if (!same) { bad++; if (first < 0) first = i; }
  }
  if (bad) {
    throw new Error(`${label}: ${bad} of ${actual.length} elements not bit-identical; first at index ${first} ` +
      `${indexIn(first, shape)}: ${fmtNum(actual[first])} vs ${fmtNum(expected[first])}`);
  }
}

/** Asserts exact equality of integer data (indices), naming the first difference. */
export function assertExact(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string,
  shape?: readonly number[]): void {
  if (actual.length !== expected.length) throw new Error(`${label}: ${actual.length} values, expected ${expected.length}`);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    if (!sameSpecial(actual[i], expected[i])) { bad++; if (first < 0) first = i; }
  }
  if (bad) {
    throw new Error(`${label}: ${bad} of ${actual.length} elements differ (exact comparison); first at index ${first} ` +
      `${indexIn(first, shape)}: actual ${fmtNum(actual[first])}, expected ${fmtNum(expected[first])}`);
  }
}

/** Throws unless `fn` throws an error whose message matches every pattern (names the missing one). */
export async function assertThrowsWith(fn: () => unknown, patterns: (RegExp | string)[], label: string): Promise<string> {
  let message: string | null = null;
  try {
    await fn();
  } catch (e) {
    message = errorText(e);
  }
  if (message === null) throw new Error(`${label}: expected an error, but the call succeeded`);
  for (const p of patterns) {
    const ok = typeof p === 'string' ? message.includes(p) : p.test(message);
    if (!ok) throw new Error(`${label}: the error message ${JSON.stringify(message)} does not mention ${String(p)}`);
  }
  return message;
}

// ---- seeded data ------------------------------------------------------------------------------------

/** n standard-normal float32 values from the engine's Philox stream. */
export function randn(seed: number, n: number, std = 1): Float32Array {
  return new Random(seed).normal(n, 0, std);
}

/** n float32 values uniform in [lo, hi). */
export function randu(seed: number, n: number, lo = 0, hi = 1): Float32Array {
  return new Random(seed).uniform(n).map((u) => lo + (hi - lo) * u);
}

/** n float32 values with magnitude uniform in [lo, hi) and a random sign (away from zero). */
export function randSigned(seed: number, n: number, lo: number, hi: number): Float32Array {
  const r = new Random(seed);
  const mag = r.uniform(n);
  const sgn = r.uniform(n);
  return mag.map((u, i) => (sgn[i] < 0.5 ? -1 : 1) * (lo + (hi - lo) * u));
}

/** n integers uniform in [lo, hi) as float32 (many ties). */
export function randQuant(seed: number, n: number, lo = -3, hi = 4): Float32Array {
  return Float32Array.from(new Random(seed).int(n, lo, hi));
}

/** n integers uniform in [lo, hi) as Int32Array. */
export function randInt(seed: number, n: number, lo: number, hi: number): Int32Array {
  return new Random(seed).int(n, lo, hi);
}

/** A seeded normal tensor on the active backend. */
export function randnTensor(seed: number, shape: readonly number[], std = 1): Tensor {
  return tensor(randn(seed, shape.reduce((a, b) => a * b, 1), std), shape);
}

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  return m;
}
