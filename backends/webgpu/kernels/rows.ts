/**
 * Reductions and row kernels. A row (or a reduced run) is one workgroup of 256 invocations: invocation t
 * folds elements t, t + 256, … in order, then a fixed binary tree combines the 256 partials. The order
 * depends only on the shape, so results are bit-for-bit repeatable; no atomics anywhere.
 */
import type { ReduceOp } from '../../../engine/backend.js';
import { shader, WG } from './common.js';

/** A row-per-workgroup entry: `row` is the workgroup's flat index; returns when past `rows`. */
const ROW_ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let row = wg.y * nwg.x + wg.x;
  if (row >= pu(0)) { return; }`;

/** Tree reduction over the workgroup of `S` (f32) with combine `op`; the result is in S[0]. */
const treeF32 = (fn: (a: string, b: string) => string, name: string) => `
fn ${name}(t: u32, v: f32) -> f32 {
  workgroupBarrier();
  S[t] = v;
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (t < s) { S[t] = ${fn('S[t]', 'S[t + s]')}; }
  }
  workgroupBarrier();
  return S[0];
}`;

const SHARED = `var<workgroup> S: array<f32, ${WG}>;`;
const TREE_SUM = `${SHARED}\n${treeF32((a, b) => `${a} + ${b}`, 'treeSum')}`;
const TREE_MAX = treeF32((a, b) => `max_(${a}, ${b})`, 'treeMax');

const COMBINE: Record<ReduceOp, { f32: (a: string, b: string) => string; i32: (a: string, b: string) => string; init: { f32: string; i32: string } }> = {
  sum: { f32: (a, b) => `${a} + ${b}`, i32: (a, b) => `${a} + ${b}`, init: { f32: '0.0', i32: '0' } },
  max: { f32: (a, b) => `max_(${a}, ${b})`, i32: (a, b) => `max(${a}, ${b})`, init: { f32: 'inf_(true)', i32: 'i32(0x80000000u)' } },
  min: { f32: (a, b) => `min_(${a}, ${b})`, i32: (a, b) => `min(${a}, ${b})`, init: { f32: 'inf_(false)', i32: '0x7fffffff' } },
};

/**
 * x [outer, n, inner] reduced over n, one invocation per output, t ascending (inner > 1: the loads of
 * neighbouring invocations are neighbours). Params: count (outer·inner), n, inner.
 */
export function reduceColumnsSource(op: ReduceOp, dtype: 'f32' | 'i32'): string {
  const c = COMBINE[op];
  return shader([{ name: 'X', type: dtype }, { name: 'Y', type: dtype, write: true }], `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * ${WG}u + li;
  if (i >= pu(0)) { return; }
  let n = pu(1); let inner = pu(2);
  let base = (i / inner) * n * inner + i % inner;
  var acc: ${dtype} = ${c.init[dtype]};
  for (var t = 0u; t < n; t++) { acc = ${c[dtype]('acc', 'X[base + t * inner]')}; }
  Y[i] = acc;
}`);
}

/** x [rows, n] reduced along rows, one workgroup per row (the inner = 1 case). Params: rows, n. */
export function reduceRowsSource(op: ReduceOp, dtype: 'f32' | 'i32'): string {
  const c = COMBINE[op];
  return shader([{ name: 'X', type: dtype }, { name: 'Y', type: dtype, write: true }], `
var<workgroup> S: array<${dtype}, ${WG}>;
${ROW_ENTRY}
  let n = pu(1);
  var acc: ${dtype} = ${c.init[dtype]};
  for (var j = t; j < n; j += ${WG}u) { acc = ${c[dtype]('acc', 'X[row * n + j]')}; }
  S[t] = acc;
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (t < s) { S[t] = ${c[dtype]('S[t]', 'S[t + s]')}; }
  }
  if (t == 0u) { Y[row] = S[0]; }
}`);
}

/**
 * Row softmax (mode 0) or log-sum-exp (mode 1) of x [rows, n]. Params: rows, n, mode.
 * A row whose max is not finite gives NaN (softmax) or that max (log-sum-exp), as the reference.
 */
export const softmaxSource = () => shader([{ name: 'X', type: 'f32' }, { name: 'Y', type: 'f32', write: true }], `
${TREE_SUM}
${TREE_MAX}
${ROW_ENTRY}
  let n = pu(1);
  let o = row * n;
  var mx = inf_(true);
  for (var j = t; j < n; j += ${WG}u) { mx = max_(mx, X[o + j]); }
  mx = treeMax(t, mx);
  let finite = !isnan_(mx) && !isinf_(mx);
  var s = 0.0;
  if (finite) { for (var j = t; j < n; j += ${WG}u) { s = s + exp_(X[o + j] - mx); } }
  s = treeSum(t, s);
  if (pu(2) == 1u) {
    if (t == 0u) { Y[row] = select(mx, mx + log_(s), finite); }
    return;
  }
  for (var j = t; j < n; j += ${WG}u) { Y[o + j] = select(nan_(), exp_(X[o + j] - mx) / s, finite); }
}`, { math: true });

/** y = (x − mean) · rstd · gamma + beta per row; mean and rstd stored. Params: rows, d, eps. */
export const layerNormSource = () => shader(
  [{ name: 'X', type: 'f32' }, { name: 'G', type: 'f32' }, { name: 'Bt', type: 'f32' },
    { name: 'Y', type: 'f32', write: true }, { name: 'M', type: 'f32', write: true }, { name: 'R', type: 'f32', write: true }], `
${TREE_SUM}
${ROW_ENTRY}
  let d = pu(1);
  let o = row * d;
  var s = 0.0;
  for (var j = t; j < d; j += ${WG}u) { s = s + X[o + j]; }
  let mu = treeSum(t, s) / f32(d);
  var v = 0.0;
  for (var j = t; j < d; j += ${WG}u) { let c = X[o + j] - mu; v = v + c * c; }
  let rs = 1.0 / sqrt(treeSum(t, v) / f32(d) + pf(2));
  for (var j = t; j < d; j += ${WG}u) { Y[o + j] = (X[o + j] - mu) * rs * G[j] + Bt[j]; }
  if (t == 0u) { M[row] = mu; R[row] = rs; }
}`);

/** dx per row from Σ dxhat and Σ dxhat·xhat. Params: rows, d. */
export const layerNormGradRowsSource = () => shader(
  [{ name: 'DY', type: 'f32' }, { name: 'X', type: 'f32' }, { name: 'G', type: 'f32' }, { name: 'M', type: 'f32' },
    { name: 'R', type: 'f32' }, { name: 'DX', type: 'f32', write: true }], `
${TREE_SUM}
${ROW_ENTRY}
  let d = pu(1);
  let o = row * d;
  let mu = M[row];
  let rs = R[row];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var j = t; j < d; j += ${WG}u) {
    let g = DY[o + j] * G[j];
    s1 = s1 + g;
    s2 = s2 + g * (X[o + j] - mu) * rs;
  }
  s1 = treeSum(t, s1) / f32(d);
  s2 = treeSum(t, s2) / f32(d);
  for (var j = t; j < d; j += ${WG}u) {
    let xhat = (X[o + j] - mu) * rs;
    DX[o + j] = rs * (DY[o + j] * G[j] - s1 - xhat * s2);
  }
}`);

/** dgamma and dbeta, one invocation per column, rows ascending. Params: d, rows. */
export const layerNormGradColumnsSource = () => shader(
  [{ name: 'DY', type: 'f32' }, { name: 'X', type: 'f32' }, { name: 'M', type: 'f32' }, { name: 'R', type: 'f32' },
    { name: 'DG', type: 'f32', write: true }, { name: 'DB', type: 'f32', write: true }], `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let j = (wg.y * nwg.x + wg.x) * ${WG}u + li;
  let d = pu(0);
  if (j >= d) { return; }
  var g = 0.0;
  var b = 0.0;
  for (var r = 0u; r < pu(1); r++) {
    let dy = DY[r * d + j];
    g = g + dy * (X[r * d + j] - M[r]) * R[r];
    b = b + dy;
  }
  DG[j] = g;
  DB[j] = b;
}`);

/**
 * Row top-k by k rounds of a workgroup arg-max: round q picks the best element strictly below the pick
 * of round q − 1 in the total order (value descending, NaN last, ties by lower index). Params: rows, n, k.
 */
export const topkSource = () => shader(
  [{ name: 'X', type: 'f32' }, { name: 'V', type: 'f32', write: true }, { name: 'I', type: 'i32', write: true }], `
var<workgroup> SV: array<f32, ${WG}>;
var<workgroup> SI: array<u32, ${WG}>;
var<workgroup> TV: array<f32, 16>;
var<workgroup> TI: array<u32, 16>;
const NONE = 0xffffffffu;
/** a (index ia) ranks before b (index ib). */
fn before(a: f32, ia: u32, b: f32, ib: u32) -> bool {
  if (ib == NONE) { return ia != NONE; }
  if (ia == NONE) { return false; }
  let na = isnan_(a); let nb = isnan_(b);
  if (na || nb) { return select(!na, ia < ib, na && nb); }
  if (a != b) { return a > b; }
  return ia < ib;
}
${ROW_ENTRY}
  let n = pu(1); let k = pu(2);
  let o = row * n;
  var lastV = 0.0;
  var lastI = NONE;
  for (var q = 0u; q < k; q++) {
    var bv = 0.0;
    var bi = NONE;
    for (var j = t; j < n; j += ${WG}u) {
      let v = X[o + j];
      if ((q == 0u || before(lastV, lastI, v, j)) && before(v, j, bv, bi)) { bv = v; bi = j; }
    }
    // Two barriers a round (barriers dominate on CPU drivers): 16 invocations fold 16 partials each,
    // then every invocation folds those 16 itself. "before" is a total order, so any fold order agrees.
    SV[t] = bv; SI[t] = bi;
    workgroupBarrier();
    if (t < 16u) {
      bv = SV[t * 16u]; bi = SI[t * 16u];
      for (var u = 1u; u < 16u; u++) {
        let c = t * 16u + u;
        if (before(SV[c], SI[c], bv, bi)) { bv = SV[c]; bi = SI[c]; }
      }
      TV[t] = bv; TI[t] = bi;
    }
    workgroupBarrier();
    lastV = TV[0]; lastI = TI[0];
    for (var u = 1u; u < 16u; u++) { if (before(TV[u], TI[u], lastV, lastI)) { lastV = TV[u]; lastI = TI[u]; } }
    if (t == 0u) { V[row * k + q] = lastV; I[row * k + q] = i32(lastI); }
  }
}`);
