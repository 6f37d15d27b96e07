/** Argument checks shared by the ops: every message names the op and what was wrong. */
import type { DType } from '../backend.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';

export function checkTensor(t: unknown, op: string, name: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new Error(`${op}: ${name} must be a Tensor, got ${typeof t}`);
  if (t.disposed) throw new Error(`${op}: ${name} ${t.toString()} was used after dispose`);
}

export function checkDtype(t: Tensor, dtype: DType, op: string, name: string): void {
  checkTensor(t, op, name);
  if (t.dtype !== dtype) throw new Error(`${op}: ${name} must be ${dtype}, got ${t.dtype} ${fmt(t.shape)}`);
}

export function checkRank(t: Tensor, rank: number, op: string, name: string): void {
  if (t.rank !== rank) throw new Error(`${op}: ${name} must have rank ${rank}, got shape ${fmt(t.shape)}`);
}

export function sameBackend(op: string, ...ts: Tensor[]): void {
  const b = ts[0].backend;
  for (const t of ts) {
    if (t.backend !== b) throw new Error(`${op}: tensors live on different backends (${b.name} and ${t.backend.name})`);
  }
}
