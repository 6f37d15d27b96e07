// Reductions and row kernels. Sums accumulate in f64 in a fixed order (lane-wise, then lanes in order,
// then the tail), so results are deterministic and within an ulp or two of a double reference.
import { toInt32 } from './math';
import { at, at64, hi64, lo64 } from './util';
import { ROW_TAIL as TAIL } from './local';
import { exp4, expDiff4 } from './vmath';

const SUM = 0, MAX = 1, MIN = 2;

/** Σ x[i] over a contiguous run, in f64. */
function sumRow(x: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = s0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    s0 = f64x2.add(s0, lo64(v)); s1 = f64x2.add(s1, hi64(v));
  }
  const s = f64x2.add(s0, s1);
  let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) r += load<f32>(at(x, i));
  return r;
}

/** max (or min) of a contiguous run; NaN if any element is NaN; −Inf (+Inf) when empty. */
function extremeRow(x: usize, n: i32, isMax: bool): f32 {
  let acc = f32x4.splat(isMax ? -Infinity : Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    acc = isMax ? f32x4.max(acc, v) : f32x4.min(acc, v);
  }
  let r = isMax
    ? max(max(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)), max(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3)))
    : min(min(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)), min(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3)));
  for (; i < n; i++) r = isMax ? max(r, load<f32>(at(x, i))) : min(r, load<f32>(at(x, i)));
  return r;
}

/** Rows per block of reduce's column sums. */
const SUM_ROWS: i32 = 64;

/**
 * out[j] = Σ_i x[i, j] for the columns j ∈ [j0, j1) of x [n, inner], each summed over the rows in order in
 * f64 (acc: f64 scratch indexed by j). The sums of eight columns stay in registers over a block of rows
 * (which stays in cache for the next eight columns). Threads may take disjoint column ranges.
 */
export function sumColumns(x: usize, out: usize, n: i32, inner: i32, j0: i32, j1: i32, acc: usize): void {
  memory.fill(at64(acc, j0), 0, <usize>(j1 - j0) << 3);
  for (let i0 = 0; i0 < n; i0 += SUM_ROWS) {
    const i1 = min(n, i0 + SUM_ROWS);
    let j = j0;
    for (; j + 8 <= j1; j += 8) {
      let s0 = v128.load(at64(acc, j)), s1 = v128.load(at64(acc, j + 2));
      let s2 = v128.load(at64(acc, j + 4)), s3 = v128.load(at64(acc, j + 6));
      for (let i = i0; i < i1; i++) {
        const p = at(x, i * inner + j);
        const v = v128.load(p), w = v128.load(p, 16);
        s0 = f64x2.add(s0, lo64(v)); s1 = f64x2.add(s1, hi64(v));
        s2 = f64x2.add(s2, lo64(w)); s3 = f64x2.add(s3, hi64(w));
      }
      v128.store(at64(acc, j), s0); v128.store(at64(acc, j + 2), s1);
      v128.store(at64(acc, j + 4), s2); v128.store(at64(acc, j + 6), s3);
    }
    for (; j + 4 <= j1; j += 4) {
      let s0 = v128.load(at64(acc, j)), s1 = v128.load(at64(acc, j + 2));
      for (let i = i0; i < i1; i++) {
        const v = v128.load(at(x, i * inner + j));
        s0 = f64x2.add(s0, lo64(v)); s1 = f64x2.add(s1, hi64(v));
      }
      v128.store(at64(acc, j), s0); v128.store(at64(acc, j + 2), s1);
    }
    for (; j < j1; j++) {
      let sj = load<f64>(at64(acc, j));
      for (let i = i0; i < i1; i++) sj += load<f32>(at(x, i * inner + j));
      store<f64>(at64(acc, j), sj);
    }
  }
  for (let j = j0; j < j1; j++) store<f32>(at(out, j), <f32>load<f64>(at64(acc, j)));
}

/** out[o, j] = op over i of x[o, i, j]; acc: scratch of `inner` f64 (sums only). */
export function reduce(op: i32, x: usize, out: usize, outer: i32, n: i32, inner: i32, acc: usize): void {
  for (let o = 0; o < outer; o++) {
    const xo = at(x, o * n * inner), oo = at(out, o * inner);
    if (inner == 1) {
      store<f32>(oo, op == SUM ? <f32>sumRow(xo, n) : extremeRow(xo, n, op == MAX));
      continue;
    }
    if (op == SUM) sumColumns(xo, oo, n, inner, 0, inner, acc);
    else {
      const isMax = op == MAX, init = f32x4.splat(isMax ? -Infinity : Infinity);
      let j = 0;
      for (; j + 4 <= inner; j += 4) v128.store(at(oo, j), init);
      for (; j < inner; j++) store<f32>(at(oo, j), isMax ? -Infinity : Infinity);
      for (let i = 0; i < n; i++) {
        const row = at(xo, i * inner);
        j = 0;
        for (; j + 4 <= inner; j += 4) {
          const a = v128.load(at(oo, j)), v = v128.load(at(row, j));
          v128.store(at(oo, j), isMax ? f32x4.max(a, v) : f32x4.min(a, v));
        }
        for (; j < inner; j++) {
          const a = load<f32>(at(oo, j)), v = load<f32>(at(row, j));
          store<f32>(at(oo, j), isMax ? max(a, v) : min(a, v));
        }
      }
    }
  }
}

/** reduce for i32 input: doubles in, ToInt32 out (sums are exact below 2⁵³; an empty max/min gives 0). */
export function reduceInt(op: i32, x: usize, out: usize, outer: i32, n: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let acc: f64 = op == SUM ? 0 : op == MAX ? -Infinity : Infinity;
      for (let i = 0; i < n; i++) {
        const v = <f64>load<i32>(at(x, (o * n + i) * inner + j));
        acc = op == SUM ? acc + v : op == MAX ? max(acc, v) : min(acc, v);
      }
      store<i32>(at(out, o * inner + j), toInt32(acc));
    }
  }
}


/**
 * Writes e[i] = exp(x[i] − m) (vectorised f32 exp, with the rounding of x − m corrected: expDiff4) for
 * i < n and returns Σ e[i] in f64 (two f64x2 lane sums, then the partial last vector padded with −Inf,
 * which adds exactly 0). With e = 0 it only sums, exp of the rounded difference (log Σ does not need more).
 */
function expShiftSum(x: usize, e: usize, n: i32, m: f32): f64 {
  return e ? expShiftSumImpl(x, e, n, m, true) : expShiftSumImpl(x, e, n, m, false);
}

// @ts-ignore: decorator
@inline function expShiftSumImpl(x: usize, e: usize, n: i32, m: f32, exact: bool): f64 {
  const vm = f32x4.splat(m);
  let s0 = f64x2.splat(0), s1 = s0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const xv = v128.load(at(x, i));
    const v: v128 = exact ? expDiff4(xv, vm) : exp4(f32x4.sub(xv, vm));
    if (e) v128.store(at(e, i), v);
    s0 = f64x2.add(s0, lo64(v)); s1 = f64x2.add(s1, hi64(v));
  }
  if (i < n) {
    const bytes = <usize>(n - i) << 2;
    v128.store(TAIL, f32x4.splat(-Infinity));
    memory.copy(TAIL, at(x, i), bytes);
    const xv = v128.load(TAIL);
    const v: v128 = exact ? expDiff4(xv, vm) : exp4(f32x4.sub(xv, vm));
    if (e) { v128.store(TAIL, v); memory.copy(at(e, i), TAIL, bytes); }
    s0 = f64x2.add(s0, lo64(v)); s1 = f64x2.add(s1, hi64(v));
  }
  const s = f64x2.add(s0, s1);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/**
 * Row-wise softmax, stable: e = exp(x − max) in f32 (≤ 1 ulp exp of the rounded difference) written to
 * out, Σ e in f64, then out = e · (1/Σ) (1/Σ rounded to f32). An infinite or NaN max gives NaN rows, as
 * exp(x − max) / Σ does. The scratch pointer is unused (kept for the call signature).
 */
export function softmax(x: usize, out: usize, rows: i32, n: i32, e: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * n), yr = at(out, r * n);
    const m = extremeRow(xr, n, true);
    const inv = f32x4.splat(<f32>(1 / expShiftSum(xr, yr, n, m)));
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(at(yr, i), f32x4.mul(v128.load(at(yr, i)), inv));
    for (; i < n; i++) store<f32>(at(yr, i), load<f32>(at(yr, i)) * f32x4.extract_lane(inv, 0));
  }
}

/** Row-wise log Σ exp; an infinite or NaN max is returned as is (all −Inf gives −Inf, not NaN). */
export function logSumExp(x: usize, out: usize, rows: i32, n: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * n);
    const m = extremeRow(xr, n, true);
    if (!isFinite(m)) { store<f32>(at(out, r), m); continue; }
    store<f32>(at(out, r), <f32>(<f64>m + Math.log(expShiftSum(xr, 0, n, m))));
  }
}

// LayerNorm: every row's (or column's) f64 sums run in order, as a scalar loop would; four rows go through the
// sums together (independent chains, so the adds overlap) and the elementwise steps take two lanes of f64x2,
// each doing the scalar step, so the bits are those of the plain loops.

/** f64 lanes 0-1 of the two f32 at p. */
// @ts-ignore: decorator
@inline function load2(p: usize): v128 { return f64x2.promote_low_f32x4(v128.load64_zero(p)); }

/** Σ_j (x_j − mu)² over the row, in order. */
// @ts-ignore: decorator
@inline function squaredDeviations(xr: usize, d: i32, mu: f64): f64 {
  let v = 0.0;
  for (let j = 0; j < d; j++) { const c = <f64>load<f32>(at(xr, j)) - mu; v += c * c; }
  return v;
}

/** y_j = f32(((x_j − mu)·rs)·gamma_j + beta_j), and the row's stats. */
function normalizeRow(xr: usize, yr: usize, gamma: usize, beta: usize, d: i32, mu: f64, rs: f64, mean: usize, rstd: usize): void {
  const vm = f64x2.splat(mu), vr = f64x2.splat(rs);
  let j = 0;
  for (; j + 2 <= d; j += 2) {
    const h = f64x2.mul(f64x2.sub(load2(at(xr, j)), vm), vr);
    v128.store64_lane(at(yr, j), f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(h, load2(at(gamma, j))), load2(at(beta, j)))), 0);
  }
  for (; j < d; j++) {
    const h = (<f64>load<f32>(at(xr, j)) - mu) * rs;
    store<f32>(at(yr, j), <f32>(h * <f64>load<f32>(at(gamma, j)) + <f64>load<f32>(at(beta, j))));
  }
  store<f32>(mean, <f32>mu);
  store<f32>(rstd, <f32>rs);
}

/** y = (x − mean)·rstd·gamma + beta per row, biased variance, stats in f64 (two passes). */
export function layerNorm(x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize,
  rows: i32, d: i32, eps: f64): void {
  const ld = <usize>d << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const x0 = at(x, r * d), x1 = x0 + ld, x2 = x1 + ld, x3 = x2 + ld;
    const m0 = sumRow(x0, d) / d, m1 = sumRow(x1, d) / d, m2 = sumRow(x2, d) / d, m3 = sumRow(x3, d) / d;
    let v0 = 0.0, v1 = 0.0, v2 = 0.0, v3 = 0.0;
    for (let j = 0; j < d; j++) {
      const c0 = <f64>load<f32>(at(x0, j)) - m0, c1 = <f64>load<f32>(at(x1, j)) - m1;
      const c2 = <f64>load<f32>(at(x2, j)) - m2, c3 = <f64>load<f32>(at(x3, j)) - m3;
      v0 += c0 * c0; v1 += c1 * c1; v2 += c2 * c2; v3 += c3 * c3;
    }
    const y0 = at(y, r * d);
    normalizeRow(x0, y0, gamma, beta, d, m0, 1 / Math.sqrt(v0 / d + eps), at(mean, r), at(rstd, r));
    normalizeRow(x1, y0 + ld, gamma, beta, d, m1, 1 / Math.sqrt(v1 / d + eps), at(mean, r + 1), at(rstd, r + 1));
    normalizeRow(x2, y0 + 2 * ld, gamma, beta, d, m2, 1 / Math.sqrt(v2 / d + eps), at(mean, r + 2), at(rstd, r + 2));
    normalizeRow(x3, y0 + 3 * ld, gamma, beta, d, m3, 1 / Math.sqrt(v3 / d + eps), at(mean, r + 3), at(rstd, r + 3));
  }
  for (; r < rows; r++) {
    const xr = at(x, r * d), mu = sumRow(xr, d) / d;
    normalizeRow(xr, at(y, r * d), gamma, beta, d, mu, 1 / Math.sqrt(squaredDeviations(xr, d, mu) / d + eps), at(mean, r), at(rstd, r));
  }
}

/** dx_j = f32(rs·((gg_j − s1) − h_j·s2)), gg = dy·gamma, h = (x − mu)·rs, in f64. */
function gradRow(xr: usize, gr: usize, dr: usize, gamma: usize, d: i32, mu: f64, rs: f64, s1: f64, s2: f64): void {
  const vm = f64x2.splat(mu), vr = f64x2.splat(rs), v1 = f64x2.splat(s1), v2 = f64x2.splat(s2);
  let j = 0;
  for (; j + 2 <= d; j += 2) {
    const h = f64x2.mul(f64x2.sub(load2(at(xr, j)), vm), vr);
    const gg = f64x2.mul(load2(at(gr, j)), load2(at(gamma, j)));
    v128.store64_lane(at(dr, j), f32x4.demote_f64x2_zero(f64x2.mul(vr, f64x2.sub(f64x2.sub(gg, v1), f64x2.mul(h, v2)))), 0);
  }
  for (; j < d; j++) {
    const h = (<f64>load<f32>(at(xr, j)) - mu) * rs;
    const gg = <f64>load<f32>(at(gr, j)) * <f64>load<f32>(at(gamma, j));
    store<f32>(at(dr, j), <f32>(rs * (gg - s1 - h * s2)));
  }
}

/**
 * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·gamma, x̂ = (x − mean)·rstd, for `rows` rows (the
 * row sums in f64, columns in order). Rows are independent: threads split them.
 */
export function layerNormGradRows(dy: usize, x: usize, gamma: usize, mean: usize, rstd: usize, dx: usize,
  rows: i32, d: i32): void {
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    const xa = at(x, r * d), ga = at(dy, r * d), xb = at(x, (r + 1) * d), gb = at(dy, (r + 1) * d);
    const mua = <f64>load<f32>(at(mean, r)), rsa = <f64>load<f32>(at(rstd, r));
    const mub = <f64>load<f32>(at(mean, r + 1)), rsb = <f64>load<f32>(at(rstd, r + 1));
    let s1a = 0.0, s2a = 0.0, s1b = 0.0, s2b = 0.0;
    for (let j = 0; j < d; j++) {
      const g = <f64>load<f32>(at(gamma, j));
      const ha = (<f64>load<f32>(at(xa, j)) - mua) * rsa, gga = <f64>load<f32>(at(ga, j)) * g;
      const hb = (<f64>load<f32>(at(xb, j)) - mub) * rsb, ggb = <f64>load<f32>(at(gb, j)) * g;
      s1a += gga; s2a += gga * ha; s1b += ggb; s2b += ggb * hb;
    }
    gradRow(xa, ga, at(dx, r * d), gamma, d, mua, rsa, s1a / d, s2a / d);
    gradRow(xb, gb, at(dx, (r + 1) * d), gamma, d, mub, rsb, s1b / d, s2b / d);
  }
  for (; r < rows; r++) {
    const xr = at(x, r * d), gr = at(dy, r * d);
    const mu = <f64>load<f32>(at(mean, r)), rs = <f64>load<f32>(at(rstd, r));
    let s1 = 0.0, s2 = 0.0;
    for (let j = 0; j < d; j++) {
      const h = (<f64>load<f32>(at(xr, j)) - mu) * rs;
      const gg = <f64>load<f32>(at(gr, j)) * <f64>load<f32>(at(gamma, j));
      s1 += gg; s2 += gg * h;
    }
    gradRow(xr, gr, at(dx, r * d), gamma, d, mu, rs, s1 / d, s2 / d);
  }
}

/**
 * dgamma[j] = Σ_rows dy·x̂ and dbeta[j] = Σ_rows dy for columns j in [j0, j1) (rows in order, in f64), four
 * columns at a time in f64x2 lanes. Columns are independent: threads split them.
 */
export function layerNormGradCols(dy: usize, x: usize, mean: usize, rstd: usize, dgamma: usize, dbeta: usize,
  rows: i32, d: i32, j0: i32, j1: i32): void {
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    let g0 = f64x2.splat(0), g1 = g0, b0 = g0, b1 = g0;
    for (let r = 0; r < rows; r++) {
      const mu = f64x2.splat(<f64>load<f32>(at(mean, r))), rs = f64x2.splat(<f64>load<f32>(at(rstd, r)));
      const xv = v128.load(at(x, r * d + j)), gv = v128.load(at(dy, r * d + j));
      const gl = lo64(gv), gh = hi64(gv);
      g0 = f64x2.add(g0, f64x2.mul(gl, f64x2.mul(f64x2.sub(lo64(xv), mu), rs)));
      g1 = f64x2.add(g1, f64x2.mul(gh, f64x2.mul(f64x2.sub(hi64(xv), mu), rs)));
      b0 = f64x2.add(b0, gl); b1 = f64x2.add(b1, gh);
    }
    v128.store(at(dgamma, j), v128.shuffle<f32>(f32x4.demote_f64x2_zero(g0), f32x4.demote_f64x2_zero(g1), 0, 1, 4, 5));
    v128.store(at(dbeta, j), v128.shuffle<f32>(f32x4.demote_f64x2_zero(b0), f32x4.demote_f64x2_zero(b1), 0, 1, 4, 5));
  }
  for (; j < j1; j++) {
    let sg = 0.0, sb = 0.0;
    for (let r = 0; r < rows; r++) {
      const h = (<f64>load<f32>(at(x, r * d + j)) - <f64>load<f32>(at(mean, r))) * <f64>load<f32>(at(rstd, r));
      const g = <f64>load<f32>(at(dy, r * d + j));
      sg += g * h; sb += g;
    }
    store<f32>(at(dgamma, j), <f32>sg);
    store<f32>(at(dbeta, j), <f32>sb);
  }
}

// ---- top-k --------------------------------------------------------------------------------------

/**
 * The rank of (v, i) as one u64, larger = better: v's order as an unsigned key (−0 as +0, every NaN as 0,
 * below −Inf) in the high word, and the complement of the index (lower index wins a tie) in the low word.
 */
// @ts-ignore: decorator
@inline function rankKey(v: f32, i: i32): u64 {
  const b = reinterpret<u32>(v + 0); // −0 + 0 = +0
  const key: u32 = v != v ? 0 : b >> 31 ? ~b : b | 0x80000000;
  return (<u64>key << 32) | <u64>(~<u32>i);
}

// @ts-ignore: decorator
@inline function keyIndex(key: u64): i32 { return <i32>(~<u32>key); }

/**
 * The k best of each row, best first (larger first, NaN below everything, ties by lower index). A min-heap
 * of the k best rank keys so far (worst at the root) gives O(n log k) for any k, and once it is full most
 * values are dismissed 16 at a time by one vector compare; heap: scratch of k u64.
 */
export function topk(x: usize, values: usize, indices: usize, rows: i32, n: i32, k: i32, heap: usize): void {
  if (k == 0) return;
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * n);
    let size = 0;
    for (let i = 0; i < n; i++) {
      // Only values above the worst kept can enter (a tie comes later, so it ranks below; NaN compares
      // false and never enters above a non-NaN worst).
      if (size == k && (i & 15) == 0 && i + 16 <= n) {
        const worst = load<f32>(at(xr, keyIndex(load<u64>(heap))));
        if (worst == worst) {
          const t = f32x4.splat(worst), p = at(xr, i);
          const above = v128.or(v128.or(f32x4.gt(v128.load(p), t), f32x4.gt(v128.load(p, 16), t)),
            v128.or(f32x4.gt(v128.load(p, 32), t), f32x4.gt(v128.load(p, 48), t)));
          if (!v128.any_true(above)) { i += 15; continue; }
        }
      }
      const key = rankKey(load<f32>(at(xr, i)), i);
      if (size < k) { // sift up
        let pos = size++;
        while (pos > 0) {
          const parent = (pos - 1) >> 1, kp = load<u64>(at64(heap, parent));
          if (kp <= key) break;
          store<u64>(at64(heap, pos), kp);
          pos = parent;
        }
        store<u64>(at64(heap, pos), key);
      } else if (key > load<u64>(heap)) { // better than the worst kept: it replaces the root
        siftDown(heap, k, key);
      }
    }
    // Pop the worst repeatedly into the output from the back.
    const vr = at(values, r * k), ir = at(indices, r * k);
    for (let q = k - 1; q >= 0; q--) {
      const w = keyIndex(load<u64>(heap));
      store<f32>(at(vr, q), load<f32>(at(xr, w)));
      store<i32>(at(ir, q), w);
      if (q > 0) siftDown(heap, q, load<u64>(at64(heap, q)));
    }
  }
}

/** Puts `key` at the root of the min-heap of `size` keys and sifts it down. */
function siftDown(heap: usize, size: i32, key: u64): void {
  let pos = 0;
  while (true) {
    let c = 2 * pos + 1;
    if (c >= size) break;
    let kc = load<u64>(at64(heap, c));
    if (c + 1 < size) {
      const k2 = load<u64>(at64(heap, c + 1));
      if (k2 < kc) { c++; kc = k2; } // the worse child
    }
    if (key <= kc) break;
    store<u64>(at64(heap, pos), kc);
    pos = c;
  }
  store<u64>(at64(heap, pos), key);
}
