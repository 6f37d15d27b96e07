// Packed, register-blocked SGEMM (Goto/BLIS loop order) over 128-bit SIMD.
//
// C[MR×NR] tiles are accumulated in 10 f32x4 registers (5 rows × 2 vectors) from packed panels:
// A panels hold MR rows interleaved per k (k-major), B panels NR columns per k, so the inner loop is
// two vector loads, five splat loads and 10 mul+add pairs whatever the transposes were. Each output
// element is summed over k in increasing order within a KC block and blocks are added in order, so
// the bits never depend on tiling decisions made at run time.
//
import { MM_TILE as TILE } from './local';
import { madd } from './util';

// Element (i, p) of A is at a[i·rsA + p·csA], element (p, j) of B at b[p·rsB + j·csB] (strides in elements).

export const MR: i32 = 5;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 120; // multiple of MR; MC×KC×4 bytes of packed A stays in L2
export const NC: i32 = 2048; // multiple of NR


/** Packs an mc×kc block of A into MR-row panels (zero padded): panel q at ap + q·MR·kc floats. */
export function packA(a: usize, rsA: i32, csA: i32, mc: i32, kc: i32, ap: usize): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const src = a + (<usize>(i0 * rsA) << 2);
    let p = 0;
    if (rows == MR && csA == 1) {
      // Row-major A: transpose 4×4 blocks of rows 0-3; row 4 goes lane by lane.
      const ld = <usize>rsA << 2;
      for (; p + 4 <= kc; p += 4) {
        const s = src + (<usize>p << 2), d = ap + (<usize>(p * MR) << 2);
        const r0 = v128.load(s), r1 = v128.load(s + ld), r2 = v128.load(s + 2 * ld), r3 = v128.load(s + 3 * ld);
        const r4 = v128.load(s + 4 * ld);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store32_lane(d, r4, 0, 16);
        v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 20);
        v128.store32_lane(d, r4, 1, 36);
        v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 40);
        v128.store32_lane(d, r4, 2, 56);
        v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 60);
        v128.store32_lane(d, r4, 3, 76);
      }
    } else if (rows == MR && rsA == 1) {
      // Column-major A (transA): the MR values of one k are contiguous.
      const ld = <usize>csA << 2;
      for (; p < kc; p++) {
        const s = src + <usize>p * ld, d = ap + (<usize>(p * MR) << 2);
        v128.store(d, v128.load(s));
        store<f32>(d, load<f32>(s, 16), 16);
      }
    }
    for (; p < kc; p++) { // edges and leftovers
      for (let r = 0; r < MR; r++) {
        const v: f32 = r < rows ? load<f32>(src + (<usize>(r * rsA + p * csA) << 2)) : 0;
        store<f32>(ap + (<usize>(p * MR + r) << 2), v);
      }
    }
    ap += <usize>(MR * kc) << 2;
  }
}

/** Packs a kc×nc block of B into NR-column panels (zero padded): panel q at bp + q·NR·kc floats. */
export function packB(b: usize, rsB: i32, csB: i32, kc: i32, nc: i32, bp: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    const src = b + (<usize>(j0 * csB) << 2);
    if (cols == NR && csB == 1) {
      const ld = <usize>rsB << 2;
      for (let p = 0; p < kc; p++) {
        const s = src + <usize>p * ld, d = bp + (<usize>(p * NR) << 2);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else if (cols == NR && rsB == 1) {
      // Transposed B: each column is contiguous in k; transpose two 4×4 blocks per 4 k.
      const ld = <usize>csB << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const s = src + (<usize>p << 2), d = bp + (<usize>(p * NR) << 2);
        for (let h = 0; h < 2; h++) {
          const q = s + <usize>(4 * h) * ld;
          const r0 = v128.load(q), r1 = v128.load(q + ld), r2 = v128.load(q + 2 * ld), r3 = v128.load(q + 3 * ld);
          const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
          const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
          const e = d + (<usize>h << 4);
          v128.store(e, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
          v128.store(e, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
          v128.store(e, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
          v128.store(e, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
        }
      }
      for (; p < kc; p++) {
        for (let j = 0; j < NR; j++) {
          store<f32>(bp + (<usize>(p * NR + j) << 2), load<f32>(src + (<usize>(j * csB + p) << 2)));
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let j = 0; j < NR; j++) {
          const v: f32 = j < cols ? load<f32>(src + (<usize>(p * rsB + j * csB) << 2)) : 0;
          store<f32>(bp + (<usize>(p * NR + j) << 2), v);
        }
      }
    }
    bp += <usize>(NR * kc) << 2;
  }
}

/**
 * out[MR×NR] (row-major, 40 contiguous floats, 16-aligned) = packed A panel · packed B panel. The kernel
 * only ever stores its accumulators: any data-dependent epilogue in here makes V8 spill accumulators and
 * halves the speed. Exported only so that Binaryen keeps it out of line (V8 then tiers it up within the
 * first call). The fused kernels (fused.ts) share it, storing straight into their packed score panels.
 */
export function mmKernel(ap: usize, bp: usize, kc: i32, out: usize): void {
  // 5×8: 10 accumulators + 2 B vectors + 1 splat fit the 15 XMM registers V8 allocates (6×8 spills).
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(ap, 16);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    ap += MR * 4; bp += NR * 4;
  }
  const t = out;
  v128.store(t, c00); v128.store(t, c01, 16); v128.store(t, c10, 32); v128.store(t, c11, 48);
  v128.store(t, c20, 64); v128.store(t, c21, 80); v128.store(t, c30, 96); v128.store(t, c31, 112);
  v128.store(t, c40, 128); v128.store(t, c41, 144);
}

/**
 * out[MR×NR] = A·B as mmKernel computes it (the same sums), with A's rows read from row-major MR×NR tiles
 * instead of a packed panel: depth p is column p mod NR of tile ⌊p/NR⌋, the tiles `tileStride` bytes apart.
 * The fused cross-entropy's dq = P·K reads its P tiles where they are (fused.ts), with no transposed copy.
 */
export function mmKernelTiles(tile: usize, tileStride: usize, bp: usize, kc: i32, out: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  // one flat loop (nested ones make V8 spill the accumulators); row r of a tile is r·NR floats (32 bytes) on
  for (let p = 0; p < kc; p++) {
    const ap = tile + <usize>(p >> 3) * tileStride + (<usize>(p & 7) << 2);
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 32);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 64);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 96);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(ap, 128);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    bp += NR * 4;
  }
  const t = out;
  v128.store(t, c00); v128.store(t, c01, 16); v128.store(t, c10, 32); v128.store(t, c11, 48);
  v128.store(t, c20, 64); v128.store(t, c21, 80); v128.store(t, c30, 96); v128.store(t, c31, 112);
  v128.store(t, c40, 128); v128.store(t, c41, 144);
}

/**
 * Stores (or adds, for later KC blocks) the valid rows×cols corner of TILE into C (rows ldc apart); with
 * `bias` ≠ 0 (the last KC block of a product with a bias row) adds bias[j] to the finished sum, as a separate
 * add after the product would.
 */
function flush(c: usize, ldc: i32, rows: i32, cols: i32, add: bool, bias: usize): void {
  const ld = <usize>ldc << 2;
  for (let r = 0; r < rows; r++) {
    const d = c + <usize>r * ld, s = TILE + (<usize>(r * NR) << 2);
    if (cols == NR) {
      let v0 = add ? f32x4.add(v128.load(d), v128.load(s)) : v128.load(s);
      let v1 = add ? f32x4.add(v128.load(d, 16), v128.load(s, 16)) : v128.load(s, 16);
      if (bias) { v0 = f32x4.add(v0, v128.load(bias)); v1 = f32x4.add(v1, v128.load(bias, 16)); }
      v128.store(d, v0);
      v128.store(d, v1, 16);
    } else {
      for (let j = 0; j < cols; j++) {
        const v = load<f32>(s + (<usize>j << 2));
        let x = add ? load<f32>(d + (<usize>j << 2)) + v : v;
        if (bias) x += load<f32>(bias + (<usize>j << 2));
        store<f32>(d + (<usize>j << 2), x);
      }
    }
  }
}

/**
 * C[b] (m × n, rows ldc apart, matrices cBS apart) = op(A[b]) · op(B[b]) (+ the row `bias`[n] where ≠ 0);
 * A[b] starts aBS elements after A[b-1], B likewise. ap / bp: scratch of MC·KC and KC·NC floats. Requires
 * k ≥ 1. Each element's sum runs over k in the same order whatever the block of C a call covers, so callers
 * may split C among threads.
 */
export function matmul(a: usize, b: usize, c: usize, batch: i32, m: i32, n: i32, k: i32,
  rsA: i32, csA: i32, rsB: i32, csB: i32, aBS: i32, bBS: i32, ldc: i32, cBS: i32, ap: usize, bp: usize, bias: usize): void {
  for (let bi = 0; bi < batch; bi++) {
    const A = a + (<usize>(bi * aBS) << 2), B = b + (<usize>(bi * bBS) << 2);
    const C = c + (<usize>(bi * cBS) << 2);
    for (let jc = 0; jc < n; jc += NC) {
      const nc = min(NC, n - jc);
      for (let pc = 0; pc < k; pc += KC) {
        const kc = min(KC, k - pc);
        packB(B + (<usize>(pc * rsB + jc * csB) << 2), rsB, csB, kc, nc, bp);
        for (let ic = 0; ic < m; ic += MC) {
          const mc = min(MC, m - ic);
          packA(A + (<usize>(ic * rsA + pc * csA) << 2), rsA, csA, mc, kc, ap);
          for (let jr = 0; jr < nc; jr += NR) {
            for (let ir = 0; ir < mc; ir += MR) {
              mmKernel(ap + (<usize>(ir * kc) << 2), bp + (<usize>(jr * kc) << 2), kc, TILE);
              flush(C + (<usize>((ic + ir) * ldc + jc + jr) << 2), ldc, min(MR, mc - ir), min(NR, nc - jr), pc > 0,
                bias && pc + kc >= k ? bias + (<usize>(jc + jr) << 2) : 0);
            }
          }
        }
      }
    }
  }
}

/**
 * c[i] += s[i], then += s[stride + i], … (`count` blocks of n floats, `stride` floats apart): a product split
 * by depth adds its KC blocks' products in the order in which matmul's flush adds them, so the sum has the
 * same bits as one call.
 */
export function addBlocks(c: usize, s: usize, count: i32, stride: i32, n: i32): void {
  const step = <usize>stride << 2;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let acc = v128.load(c + (<usize>i << 2));
    for (let b = 0; b < count; b++) acc = f32x4.add(acc, v128.load(s + <usize>b * step + (<usize>i << 2)));
    v128.store(c + (<usize>i << 2), acc);
  }
  for (; i < n; i++) {
    let acc = load<f32>(c + (<usize>i << 2));
    for (let b = 0; b < count; b++) acc += load<f32>(s + <usize>b * step + (<usize>i << 2));
    store<f32>(c + (<usize>i << 2), acc);
  }
}

/** c[r·n + j] += v[j] for r < rows, j < n: a bias row after addBlocks (the order a separate add keeps). */
export function addRowVector(c: usize, v: usize, rows: i32, n: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = c + (<usize>(r * n) << 2);
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(row + (<usize>j << 2), f32x4.add(v128.load(row + (<usize>j << 2)), v128.load(v + (<usize>j << 2))));
    for (; j < n; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) + load<f32>(v + (<usize>j << 2)));
  }
}
