// XᵀX in float64 for the SVD (engine/linalg/svd.ts): entry (i, j) = Σ_r x[r,i]·x[r,j] summed in f64 over
// ascending r from 0, exactly the host Gram's order. The products of two f32 are exact in f64, so the bits
// match the host's whatever the vector layout: only the order of the additions matters.
//
// X is first copied to f64 with its columns padded to a multiple of 4 (zeros; threads split the rows), then
// 4×4 tiles of the upper triangle keep their 16 sums in eight f64x2 registers over all rows (threads split
// the tiles); each tile is written to both halves.
import { at, at64 } from './util';
import { GRAM_TILE as TILE64 } from './local';

// @ts-ignore: decorator
@inline function roundUp4(x: i32): i32 { return (x + 3) & ~3; }

/** Rows [r0, r1) of x [rows, d] f32 into xd as f64, each row padded with zeros to roundUp(d, 4). */
export function gramF64Rows(x: usize, d: i32, xd: usize, r0: i32, r1: i32): void {
  const dp = roundUp4(d);
  for (let r = r0; r < r1; r++) {
    const src = at(x, r * d), dst = at64(xd, r * dp);
    for (let c = 0; c < d; c++) store<f64>(at64(dst, c), <f64>load<f32>(at(src, c)));
    for (let c = d; c < dp; c++) store<f64>(at64(dst, c), 0);
  }
}

/**
 * Tiles [t0, t1) of the upper triangle (4×4 tiles numbered row by row: (0,0), (0,1), …, (1,1), …) of
 * g [d, d] = XᵀX from xd (gramF64Rows), each written to both halves. Tiles are disjoint: threads split them.
 */
export function gramF64Tiles(xd: usize, rows: i32, d: i32, g: usize, t0: i32, t1: i32): void {
  const dp = roundUp4(d), nt = dp >> 2;
  const ld = <usize>dp << 3;
  let ti = 0, tj = 0;
  for (let t = 0; t < t0; t++) if (++tj == nt) { ti++; tj = ti; }
  for (let t = t0; t < t1; t++) {
    const i0 = ti << 2, j0 = tj << 2;
    if (++tj == nt) { ti++; tj = ti; }
    let a00 = f64x2.splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    let pi = at64(xd, i0), pj = at64(xd, j0);
    for (let r = 0; r < rows; r++) {
      const b0 = v128.load(pj), b1 = v128.load(pj, 16);
      let s = v128.load64_splat(pi);
      a00 = f64x2.add(a00, f64x2.mul(s, b0)); a01 = f64x2.add(a01, f64x2.mul(s, b1));
      s = v128.load64_splat(pi, 8);
      a10 = f64x2.add(a10, f64x2.mul(s, b0)); a11 = f64x2.add(a11, f64x2.mul(s, b1));
      s = v128.load64_splat(pi, 16);
      a20 = f64x2.add(a20, f64x2.mul(s, b0)); a21 = f64x2.add(a21, f64x2.mul(s, b1));
      s = v128.load64_splat(pi, 24);
      a30 = f64x2.add(a30, f64x2.mul(s, b0)); a31 = f64x2.add(a31, f64x2.mul(s, b1));
      pi += ld; pj += ld;
    }
    const tile = TILE64;
    v128.store(tile, a00); v128.store(tile, a01, 16); v128.store(tile, a10, 32); v128.store(tile, a11, 48);
    v128.store(tile, a20, 64); v128.store(tile, a21, 80); v128.store(tile, a30, 96); v128.store(tile, a31, 112);
    for (let ii = 0; ii < 4 && i0 + ii < d; ii++) {
      for (let jj = 0; jj < 4 && j0 + jj < d; jj++) {
        const v = load<f64>(at64(tile, ii * 4 + jj));
        store<f64>(at64(g, (i0 + ii) * d + j0 + jj), v);
        store<f64>(at64(g, (j0 + jj) * d + i0 + ii), v);
      }
    }
  }
}
