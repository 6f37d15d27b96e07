/**
 * Matrix kernels: tiled matmul through workgroup memory, and CSR sparse × dense.
 */
import { ENTRY, shader } from './common.js';

/** Output tile (TILE × TILE) per workgroup of 16 × 16 threads, each thread 4 × 4 outputs; K in steps of KT. */
export const TILE = 64;
const KT = 16;

/**
 * C[b] = op(A[b]) · op(B[b]). Params: m, n, k, rsA, csA, rsB, csB, aBatchStride, bBatchStride, batch0.
 * op(A)[i, p] = A[a0 + i·rsA + p·csA], so the transpose flags are just strides. Each output sums its
 * k products in increasing p (deterministic); tiles outside the matrices load zeros.
 */
export const matmulSource = () => shader(
  [{ name: 'A', type: 'f32' }, { name: 'B', type: 'f32' }, { name: 'C', type: 'f32', write: true }],
  `var<workgroup> As: array<f32, ${TILE * KT}>;
var<workgroup> Bs: array<f32, ${TILE * KT}>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let m = pu(0); let n = pu(1); let k = pu(2);
  let bt = wg.z + pu(9);
  let a0 = bt * pu(7);
  let b0 = bt * pu(8);
  let row0 = wg.y * ${TILE}u;
  let col0 = wg.x * ${TILE}u;
  let tx = li % 16u;
  let ty = li / 16u;
  var acc: array<array<f32, 4>, 4>;
  for (var p0 = 0u; p0 < k; p0 += ${KT}u) {
    for (var l = 0u; l < ${(TILE * KT) / 256}u; l++) {
      let e = li + l * 256u;
      let r = e % ${TILE}u;
      let p = p0 + e / ${TILE}u;
      let ai = row0 + r;
      let bj = col0 + r;
      As[e] = select(0.0, A[a0 + ai * pu(3) + p * pu(4)], ai < m && p < k);
      Bs[e] = select(0.0, B[b0 + p * pu(5) + bj * pu(6)], bj < n && p < k);
    }
    workgroupBarrier();
    for (var p = 0u; p < ${KT}u; p++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var r = 0u; r < 4u; r++) { a[r] = As[p * ${TILE}u + ty + 16u * r]; b[r] = Bs[p * ${TILE}u + tx + 16u * r]; }
      for (var r = 0u; r < 4u; r++) {
        for (var c = 0u; c < 4u; c++) { acc[r][c] = acc[r][c] + a[r] * b[c]; }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) {
      let i = row0 + ty + 16u * r;
      let j = col0 + tx + 16u * c;
      if (i < m && j < n) { C[(bt * m + i) * n + j] = acc[r][c]; }
    }
  }
}`);

/**
 * CSR [rows × cols] · dense [cols × d], one invocation per output element, non-zeros in order.
 * Params: rows, d, cols. A column index outside [0, cols) contributes nothing and raises bit 1 of ERR.
 */
export const spmmSource = () => shader(
  [{ name: 'PTR', type: 'i32' }, { name: 'IDX', type: 'i32' }, { name: 'VAL', type: 'f32' }, { name: 'X', type: 'f32' },
    { name: 'Y', type: 'f32', write: true }, { name: 'ERR', type: 'atomic<u32>', write: true }],
  `${ENTRY}
  let d = pu(1);
  if (i >= pu(0) * d) { return; }
  let r = i / d;
  let j = i % d;
  var acc = 0.0;
  for (var e = PTR[r]; e < PTR[r + 1u]; e++) {
    let c = IDX[e];
    if (c < 0 || u32(c) >= pu(2)) { atomicOr(&ERR[0], 1u); continue; }
    acc = acc + VAL[e] * X[u32(c) * d + j];
  }
  Y[i] = acc;
}`);
