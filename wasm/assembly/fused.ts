// Fused softmax cross-entropy over dot-product scores (dotCrossEntropy and its gradient), streaming over
// blocks of keys with the matmul micro-kernel (matmul.ts): the [rows, n] score matrix is never built,
// only MR×NR tiles of it inside a bounded block.
//
// Layouts (floats; panels as matmul.ts packs them):
// - QA: Q [rows, d] as A panels (MR rows per depth step, depth d), packed once per call.
// - KB: a block of nb keys as the B operand of S = Q·Kᵀ (NR keys per depth step, depth d).
// - S tiles: mmKernel stores MR rows × NR keys, row-major, 40 contiguous floats.
//
// Forward, per key block and row panel: the scores of MR rows × nb keys go to a small buffer, then per row
// the block max and Σ exp(s − max) update a running (max, sum) pair (online log-sum-exp; sums in f64,
// rescaled by exp(old − new max) in f64). Fixed tiling and order, so the bits never vary.
//
// A training forward may keep its tiles for the gradient (the score cache): each row's terms exp(s − m) of
// its sum, m the running max after their key block, which it also keeps.
//
// Backward (P = dy_i·(exp(s_ij − lse_i) − [j = t_i])): per key block and row block, the S tiles (recomputed,
// or the cache's terms, times exp(m − lse_i): no exp per element) become P in place in NR-key B panels
// (depth = the block's rows). Then dq[rows] += P·K (mmKernelTiles reads P's tiles as the A operand;
// B = KN, the key block as d-column panels) and the row block's dkᵀ[d, keys] = Qᵀ·PB (A = QT, Qᵀ as
// MR-dim panels) goes to a partial of its own; the partials are added in row-block order at the end. dq
// accumulates over key blocks in order.
import { MR, NR, mmKernel, mmKernelTiles, packA, packB } from './matmul';
import { expFast4 } from './vmath';
import { at, at64, madd } from './util';
import { CE_TILE as TILE } from './local';

/** Keys per block (a multiple of NR). */
export const CE_NB: i32 = 256;
/** Rows per block of the backward (a multiple of MR). */
export const CE_RB: i32 = 200;

// @ts-ignore: decorator
@inline function roundUp(x: i32, m: i32): i32 { return (x + m - 1) / m * m; }
// @ts-ignore: decorator
@inline function bytes64(floats: i32): usize { return <usize>roundUp(floats * 4, 64); }

/** Scratch bytes that dotCrossEntropy needs. */
export function dotCrossEntropyScratch(rows: i32, n: i32, d: i32): i32 {
  const nb = min(CE_NB, roundUp(max(n, 1), NR));
  const qa = bytes64(roundUp(rows, MR) * d), kb = bytes64(nb * d);
  return <i32>(qa + kb + bytes64(MR * nb) + bytes64(roundUp(rows, MR)) + bytes64(2 * roundUp(rows, MR)));
}

/** q_i·k_j summed in f32 over ascending p, exactly as one lane of mmKernel (so it equals the score tile's). */
function dot32(a: usize, b: usize, d: i32): f32 {
  let s = f32x4.splat(0);
  for (let p = 0; p < d; p++) s = madd(v128.load32_splat(at(a, p)), v128.load32_splat(at(b, p)), s);
  return f32x4.extract_lane(s, 0);
}

/** max_j q·k_j with max's NaN propagation (scalar; only for rows whose scores are not all finite). */
function exactRowMax(qi: usize, k: usize, n: i32, d: i32): f32 {
  let m: f32 = -Infinity;
  for (let j = 0; j < n; j++) m = max(m, dot32(qi, at(k, j * d), d));
  return m;
}

// The score cache of a batch of `rows` queries against n keys: the P regions of every key block (pRegion),
// then each row's running max after each key block (f32 [blocks, rows padded to CE_RB]); its size is
// 4·roundUp(rows, CE_RB)·blocks·(CE_NB + 1) bytes (the backend's scoreCacheBytes).

/** The running max of row 0 after key block g, in the score cache (rows: all rows of the batch). */
// @ts-ignore: decorator
@inline function cachedMax(cache: usize, rows: i32, n: i32, g: i32): usize {
  const rowsP = roundUp(rows, CE_RB);
  return cache + (<usize>((roundUp(max(n, 1), CE_NB) + g) * rowsP) << 2);
}

/**
 * loss[i] = lse[i] − q_i·k_{t_i}, lse[i] = log Σ_j exp(q_i·k_j); a row whose max score is +Inf or NaN gets
 * that max as lse (as logSumExp). Targets must lie in [0, n); n ≥ 1 when rows ≥ 1.
 * With `cache` (≠ 0; the score cache of allRows × n, see cachedMax) the tiles are kept there, laid out as the
 * gradient's P regions with these rows starting at row `row0` of `allRows`, so that the gradient needs
 * neither the product nor an exp: once a row's running max m is finite, its tiles hold exp(s − m) for the
 * m of their key block (the terms of the sum), else the raw scores; the maxima are kept too (cachedMax).
 */
export function dotCrossEntropy(q: usize, k: usize, t: usize, loss: usize, lse: usize,
  rows: i32, n: i32, d: i32, scratch: usize, cache: usize, row0: i32, allRows: i32): void {
  const nbMax = min(CE_NB, roundUp(max(n, 1), NR));
  const rowsP = roundUp(rows, MR);
  const qa = scratch, kb = qa + bytes64(rowsP * d), sb = kb + bytes64(nbMax * d);
  const mx = sb + bytes64(MR * nbMax), sm = mx + bytes64(rowsP); // running max (f32), running sum (f64)
  packA(q, d, 1, rows, d, qa);
  for (let i = 0; i < rows; i++) { store<f32>(at(mx, i), -Infinity); store<f64>(at64(sm, i), 0); }
  const negInf = f32x4.splat(-Infinity);
  for (let k0 = 0; k0 < n; k0 += CE_NB) {
    const nb = min(CE_NB, n - k0), nbp = roundUp(nb, NR);
    packB(k + (<usize>(k0 * d) << 2), 1, d, d, nb, kb);
    for (let i0 = 0; i0 < rows; i0 += MR) {
      const ap = qa + (<usize>(i0 * d) << 2);
      // tiles of NR keys `ts` floats apart: in the small buffer, or in the cache's P region of these rows
      let tiles = sb, ts = MR;
      if (cache) {
        const gi = row0 + i0, rs = gi - gi % CE_RB;
        tiles = pRegion(cache, allRows, k0 / CE_NB, rs) + (<usize>((gi - rs) * NR) << 2);
        ts = CE_RB;
      }
      for (let j0 = 0; j0 < nbp; j0 += NR) mmKernel(ap, kb + (<usize>(j0 * d) << 2), d, tiles + (<usize>(j0 * ts) << 2));
      if (nb < nbp) { // keys past the end of the last panel: −Inf scores add nothing
        const last = tiles + (<usize>((nbp - NR) * ts) << 2);
        for (let r = 0; r < MR; r++) {
          for (let j = nb - (nbp - NR); j < NR; j++) store<f32>(at(last, r * NR + j), -Infinity);
        }
      }
      const rowsHere = min(MR, rows - i0);
      for (let r = 0; r < rowsHere; r++) {
        const base = tiles + (<usize>(r * NR) << 2);
        let vmax = negInf;
        for (let j0 = 0; j0 < nbp; j0 += NR) {
          const p = base + (<usize>(j0 * ts) << 2);
          // pmax(acc, v) = acc < v ? v : acc skips NaN scores (one instruction, unlike max); a NaN then
          // reaches the sum below, and rows whose max ends up infinite are redone exactly at the end
          vmax = f32x4.pmax(f32x4.pmax(vmax, v128.load(p)), v128.load(p, 16));
        }
        const bm = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
          max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
        const i = i0 + r;
        const m = load<f32>(at(mx, i)), nm = max(m, bm);
        if (cache) store<f32>(at(cachedMax(cache, allRows, n, k0 / CE_NB), row0 + i), nm);
        if (nm == -Infinity) continue; // nothing but −Inf (or NaN) so far
        store<f32>(at(mx, i), nm);
        if (nm == Infinity) continue; // sticky
        let s0 = f64x2.splat(0), s1 = s0;
        const vm = f32x4.splat(nm);
        for (let j0 = 0; j0 < nbp; j0 += NR) {
          const p = base + (<usize>(j0 * ts) << 2);
          const e0 = expFast4(f32x4.sub(v128.load(p), vm)), e1 = expFast4(f32x4.sub(v128.load(p, 16), vm));
          v128.store(p, e0); v128.store(p, e1, 16); // the cache's terms (the small buffer's go unused)
          const e = f32x4.add(e0, e1);
          s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
          s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
        }
        // keys past the end: their terms are 0 in the cache (not the ~1e−38 of expFast4(−Inf), subnormal in P)
        if (nb < nbp) {
          const last = base + (<usize>((nbp - NR) * ts) << 2);
          for (let j = nb - (nbp - NR); j < NR; j++) store<f32>(at(last, j), 0);
        }
        const s = f64x2.add(s0, s1), blockSum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
        // the running sum, rescaled to the new max (nothing to rescale before the first finite max)
        let run = m == -Infinity ? 0 : load<f64>(at64(sm, i));
        if (nm != m) run *= Math.exp(<f64>m - <f64>nm);
        store<f64>(at64(sm, i), run + blockSum);
      }
    }
  }
  for (let i = 0; i < rows; i++) {
    const m = <f64>load<f32>(at(mx, i));
    // an infinite max (±Inf, NaN scores skipped): the lse is the exact max of the row, NaN included
    const l = isFinite(m) ? m + Math.log(load<f64>(at64(sm, i))) : <f64>exactRowMax(at(q, i * d), k, n, d);
    store<f32>(at(lse, i), <f32>l);
    const st = dot32(at(q, i * d), at(k, load<i32>(at(t, i)) * d), d);
    store<f32>(at(loss, i), <f32>(l - <f64>st));
  }
}

/**
 * Turns the tile at `tile` (MR rows from i0, NR keys from j0, row stride NR) into
 * P = dy_i·(exp(s − lse_i) − [j = t_i]) in place. Rows ≥ rows become 0. With `mx` (the forward's maxima of
 * this key block, cachedMax) a row whose max m is finite holds the forward's exp(s − m), which only needs
 * the factor exp(m − lse_i) that `fac` holds from row r0 on (cacheFactors); other rows hold raw scores.
 */
// @ts-ignore: decorator
@inline function scoresToP(tile: usize, i0: i32, rows: i32, j0: i32, k0: i32, t: usize, lse: usize, dy: usize,
  mx: usize, fac: usize, r0: i32): void {
  for (let r = 0; r < MR; r++) {
    const i = i0 + r, p = tile + (<usize>(r * NR) << 2);
    let v0 = f32x4.splat(0), v1 = v0;
    if (i < rows) {
      let e0: v128, e1: v128;
      if (mx && isFinite(load<f32>(at(mx, i)))) {
        const f = f32x4.splat(load<f32>(at(fac, i - r0)));
        e0 = f32x4.mul(v128.load(p), f); e1 = f32x4.mul(v128.load(p, 16), f);
      } else {
        const l = f32x4.splat(load<f32>(at(lse, i)));
        e0 = expFast4(f32x4.sub(v128.load(p), l)); e1 = expFast4(f32x4.sub(v128.load(p, 16), l));
      }
      const tj = load<i32>(at(t, i)) - k0 - j0;
      if (<u32>tj < <u32>NR) { // the target key is in this tile: subtract 1 in its lane
        v128.store(p, e0); v128.store(p, e1, 16);
        store<f32>(at(p, tj), load<f32>(at(p, tj)) - 1);
        e0 = v128.load(p); e1 = v128.load(p, 16);
      }
      const g = f32x4.splat(load<f32>(at(dy, i)));
      v0 = f32x4.mul(e0, g); v1 = f32x4.mul(e1, g);
    }
    v128.store(p, v0); v128.store(p, v1, 16);
  }
}

/** c[r·ldc + j] += TILE[r·NR + j] for r < rs, j < cs. */
// @ts-ignore: decorator
@inline function addTile(c: usize, ldc: i32, rs: i32, cs: i32): void {
  for (let r = 0; r < rs; r++) {
    const dst = c + (<usize>(r * ldc) << 2), src = TILE + (<usize>(r * NR) << 2);
    if (cs == NR) {
      v128.store(dst, f32x4.add(v128.load(dst), v128.load(src)));
      v128.store(dst, f32x4.add(v128.load(dst, 16), v128.load(src, 16)), 16);
    } else {
      for (let j = 0; j < cs; j++) store<f32>(at(dst, j), load<f32>(at(dst, j)) + load<f32>(at(src, j)));
    }
  }
}

/** fac[r] = exp(m − lse) rounded to f32 for rows r0 + r (r < rb) whose cached max m is finite. */
// @ts-ignore: decorator
@inline function cacheFactors(mx: usize, lse: usize, fac: usize, r0: i32, rb: i32): void {
  for (let r = 0; r < rb; r++) {
    const m = load<f32>(at(mx, r0 + r));
    if (isFinite(m)) store<f32>(at(fac, r), <f32>Math.exp(<f64>m - <f64>load<f32>(at(lse, r0 + r))));
  }
}

/**
 * One row block (rb rows from r0) against one key block (nb keys from k0, packed as kb and kn): the P tiles
 * into pb (PB panel j0/NR holds CE_RB rows of NR keys), then dq[r0 + i, c] += Σ_j P[i, j]·k[k0 + j, c], the
 * micro-kernel reading P's tiles in place (mmKernelTiles). With the forward's maxima `mx` ≠ 0, pb already
 * holds the forward's tiles (scoresToP) and qa, kb go unused.
 */
// @ts-ignore: decorator
@inline function rowBlockPDq(qa: usize, kb: usize, kn: usize, pb: usize, dq: usize, r0: i32, rb: i32,
  rows: i32, nb: i32, d: i32, k0: i32, t: usize, lse: usize, dy: usize, mx: usize, fac: usize): void {
  const rbp = roundUp(rb, MR), nbp = roundUp(nb, NR), d8 = roundUp(d, NR);
  if (mx) cacheFactors(mx, lse, fac, r0, rb);
  for (let i = 0; i < rbp; i += MR) {
    const ap = qa + (<usize>((r0 + i) * d) << 2);
    for (let j0 = 0; j0 < nbp; j0 += NR) {
      const tile = pb + (<usize>(j0 * CE_RB + i * NR) << 2);
      if (!mx) mmKernel(ap, kb + (<usize>(j0 * d) << 2), d, tile);
      scoresToP(tile, r0 + i, rows, j0, k0, t, lse, dy, mx, fac, r0);
    }
  }
  for (let c = 0; c < d8; c += NR) {
    const bp = kn + (<usize>(c * nb) << 2);
    for (let i = 0; i < rbp; i += MR) {
      mmKernelTiles(pb + (<usize>(i * NR) << 2), <usize>(CE_RB * NR) << 2, bp, nb, TILE);
      addTile(dq + (<usize>((r0 + i) * d + c) << 2), d, min(MR, rb - i), min(NR, d - c));
    }
  }
}

// ---- the gradient, on any number of threads ---------------------------------------------------------
// Per group of key blocks: ceGradRows (the threads split the rows, in whole CE_RB blocks) turns each row
// block × key block of scores into P while it sits in a small buffer, adds P·K to dq, and writes that row
// block's Qᵀ·P to its own dkᵀ partial; then ceGradKeys (the threads split the keys) adds the partials in
// row-block order into dk. Every element is summed in the same order on any number of threads.

/** Scratch bytes of one ceGradRows part (key panels and P) or ceGradKeys part (dkᵀ of its keys). */
export function ceGradPartScratch(d: i32, groupKeys: i32): i32 {
  const a = bytes64(CE_NB * d) + bytes64(roundUp(d, NR) * CE_NB) + bytes64(CE_RB * CE_NB) + bytes64(CE_RB);
  return <i32>max(a, bytes64(roundUp(d, MR) * roundUp(groupKeys, NR)));
}

/** Bytes of one row block's dkᵀ partial for a group of keys (dims padded to MR, keys to NR). */
export function ceGradPartialBytes(d: i32, groupKeys: i32): i32 {
  return <i32>bytes64(roundUp(d, MR) * roundUp(groupKeys, NR));
}

/** Start of the score-cache region of key block g and the row block starting at row rs. */
// @ts-ignore: decorator
@inline function pRegion(cache: usize, rows: i32, g: i32, rs: i32): usize {
  return cache + (<usize>((g * roundUp(rows, CE_RB) + rs) * CE_NB) << 2);
}

/** Stores TILE (MR × NR) at c, row stride ldc. */
// @ts-ignore: decorator
@inline function storeTile(c: usize, ldc: i32): void {
  for (let r = 0; r < MR; r++) {
    const dst = c + (<usize>(r * ldc) << 2), src = TILE + (<usize>(r * NR) << 2);
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
  }
}

/**
 * Rows [r0, r1) (r0 a multiple of CE_RB) against the keys [k0, k1) (k0 a multiple of CE_NB): dq[r] += P·K
 * key block by key block (zeroed first, in the group from key 0), and row block b's Qᵀ·P into the partial at
 * partials + b·ceGradPartialBytes(d, k1 − k0). qa: Q packed as A panels (packA(q, d, 1, rows, d, qa)), unused
 * with a cache; qt: Qᵀ as A panels over all rows (packA(q, 1, d, d, rows, qt)). With `cache` ≠ 0 (the
 * forward's, over n keys) the scores and exps come from there, else they are computed here.
 */
export function ceGradRows(qa: usize, qt: usize, k: usize, t: usize, lse: usize, dy: usize, dq: usize, rows: i32, d: i32,
  k0: i32, k1: i32, r0: i32, r1: i32, cache: usize, n: i32, partials: usize, scratch: usize): void {
  const d5 = roundUp(d, MR), d8 = roundUp(d, NR), gkp = roundUp(k1 - k0, NR);
  const kb = scratch, kn = kb + bytes64(CE_NB * d), own = kn + bytes64(d8 * CE_NB), fac = own + bytes64(CE_RB * CE_NB);
  const partialBytes = bytes64(d5 * gkp);
  if (k0 == 0) memory.fill(dq + (<usize>(r0 * d) << 2), 0, <usize>((min(r1, rows) - r0) * d) << 2);
  for (let kk = k0; kk < k1; kk += CE_NB) {
    const nb = min(CE_NB, k1 - kk), nbp = roundUp(nb, NR);
    const kBlock = k + (<usize>(kk * d) << 2);
    if (!cache) packB(kBlock, 1, d, d, nb, kb);
    packB(kBlock, d, 1, nb, d, kn);
    for (let rs = r0; rs < r1; rs += CE_RB) {
      const rb = min(CE_RB, rows - rs);
      const pb = cache ? pRegion(cache, rows, kk / CE_NB, rs) : own;
      const mx = cache ? cachedMax(cache, rows, n, kk / CE_NB) : 0;
      rowBlockPDq(qa, kb, kn, pb, dq, rs, rb, rows, nb, d, kk, t, lse, dy, mx, fac);
      // this row block's dkᵀ[c, j] = Σ_i q[rs + i, c]·P[i, j], while P is still in cache
      const part = partials + <usize>(rs / CE_RB) * partialBytes + (<usize>(kk - k0) << 2);
      for (let j0 = 0; j0 < nbp; j0 += NR) {
        const bp = pb + (<usize>(j0 * CE_RB) << 2);
        for (let c = 0; c < d5; c += MR) {
          mmKernel(qt + (<usize>(c * rows + rs * MR) << 2), bp, rb, TILE);
          storeTile(part + (<usize>(c * gkp + j0) << 2), gkp);
        }
      }
    }
  }
}

/**
 * dk rows k0 + [j0a, j0b) (NR-aligned offsets into the group of nk keys from k0): the rows' partials
 * (ceGradRows) added in row-block order.
 */
export function ceGradKeys(partials: usize, dk: usize, rows: i32, d: i32, k0: i32, nk: i32,
  j0a: i32, j0b: i32, scratch: usize): void {
  const w = j0b - j0a, gkp = roundUp(nk, NR), blocks = (rows + CE_RB - 1) / CE_RB;
  const partialBytes = bytes64(roundUp(d, MR) * gkp);
  const dkt = scratch;
  for (let c = 0; c < d; c++) {
    for (let j = j0a; j < j0b; j += 4) {
      const at0 = partials + (<usize>(c * gkp + j) << 2);
      let s = f32x4.splat(0);
      for (let b = 0; b < blocks; b++) s = f32x4.add(s, v128.load(at0 + <usize>b * partialBytes));
      v128.store(dkt + (<usize>(c * w + j - j0a) << 2), s);
    }
  }
  for (let j = j0a; j < min(j0b, nk); j++) {
    const dst = dk + (<usize>((k0 + j) * d) << 2);
    for (let c = 0; c < d; c++) store<f32>(at(dst, c), load<f32>(at(dkt, c * w + j - j0a)));
  }
}
