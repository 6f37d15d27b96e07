/**
 * Field checks for decoded checkpoints and artifacts: each returns the value with its type narrowed or
 * throws a FormatError naming the field. No Node imports (used by the serverless reader).
 */
import type { Csr } from '../data/csr.js';
import { FormatError } from './format.js';

type Obj = Record<string, unknown>;

const fail = (what: string, expected: string, v: unknown): never => {
  const got = v === null ? 'null' : Array.isArray(v) ? 'an array' : ArrayBuffer.isView(v) ? v.constructor.name
    : typeof v === 'number' ? String(v) : typeof v;
  throw new FormatError(`invalid field ${what}: expected ${expected}, got ${got}`);
};

/** A plain object (not an array, typed array or null). */
export function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) fail(what, 'an object', v);
  return v as Obj;
}

export function arr(v: unknown, what: string, maxLength = Infinity): unknown[] {
  if (!Array.isArray(v)) fail(what, 'an array', v);
  if ((v as unknown[]).length > maxLength) fail(what, `at most ${maxLength} entries`, `${(v as unknown[]).length} entries`);
  return v as unknown[];
}

export function int(v: unknown, what: string, min = 0, max = 2 ** 31 - 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(what, `an integer in [${min}, ${max}]`, v);
  return v as number;
}

export function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(what, 'a finite number', v);
  return v as number;
}

export function str(v: unknown, what: string, maxLength = 1000): string {
  if (typeof v !== 'string' || v.length > maxLength) fail(what, `a string of at most ${maxLength} characters`, v);
  return v as string;
}

export function f32(v: unknown, what: string, length?: number): Float32Array {
  if (!(v instanceof Float32Array)) fail(what, 'a Float32Array', v);
  const a = v as Float32Array;
  if (length !== undefined && a.length !== length) fail(what, `${length} values`, `${a.length} values`);
  return a;
}

export function i32(v: unknown, what: string, length?: number): Int32Array {
  if (!(v instanceof Int32Array)) fail(what, 'an Int32Array', v);
  const a = v as Int32Array;
  if (length !== undefined && a.length !== length) fail(what, `${length} values`, `${a.length} values`);
  return a;
}

/** All values finite (embeddings, moments). */
export function finite(a: Float32Array, what: string): Float32Array {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) fail(`${what}[${i}]`, 'a finite number', a[i]);
  return a;
}

/** Raw ids: non-negative and strictly ascending (so lookups can binary-search). */
export function idTable(v: unknown, what: string, length: number): Int32Array {
  const a = i32(v, what, length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] < 0 || (i > 0 && a[i] <= a[i - 1])) fail(`${what}[${i}]`, 'non-negative, strictly ascending ids', a[i]);
  }
  return a;
}

/** A CSR index (nRows × nCols) with sorted, distinct, in-range columns per row. */
export function csr(v: unknown, what: string, nRows: number, nCols: number): Csr {
  const o = obj(v, what);
  const indptr = i32(o.indptr, `${what}.indptr`, nRows + 1);
  const indices = i32(o.indices, `${what}.indices`);
  if (indptr[0] !== 0 || indptr[nRows] !== indices.length) fail(`${what}.indptr`, `to run from 0 to ${indices.length}`, `${indptr[0]}..${indptr[nRows]}`);
  for (let r = 0; r < nRows; r++) {
    if (indptr[r + 1] < indptr[r]) fail(`${what}.indptr[${r + 1}]`, 'a non-decreasing offset', indptr[r + 1]);
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      const c = indices[p];
      if (c < 0 || c >= nCols || (p > indptr[r] && c <= indices[p - 1])) fail(`${what}.indices[${p}]`, `ascending ids below ${nCols}`, c);
    }
  }
  return { nRows, nCols, indptr, indices };
}

/** A JSON-like record of finite numbers (metrics, losses). */
export function numbers(v: unknown, what: string): Record<string, number> {
  const o = obj(v, what);
  for (const [k, x] of Object.entries(o)) num(x, `${what}.${k}`);
  return o as Record<string, number>;
}

/** Copies `v` through JSON: drops undefined (which MessagePack would turn into an extension) and functions. */
export function plain<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}
