// LightGCN's symmetric normalised adjacency (SPEC §6) as host-side CSR, bit-compatible with the reference.
import { buildCsr, type Csr } from './csr.js';
import { numpyPowf32 } from './numpy-powf.js';

export interface NormalizedAdjacency {
  /** Number of nodes: users first (0..nUser-1), then items (nUser..nUser+nItem-1). */
  n: number;
  nUser: number;
  nItem: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** D^-1/2 of one node as the reference computes it: numpy float32 power(deg, -0.5) (bit-exact with the
 * AVX-512 numpy that built Office's s_pre_adj_mat.npz and the golden case); degree 0 gives 0 (the
 * reference's inf is zeroed). */
export function inverseSqrtDegree(deg: number): number {
  return deg > 0 ? numpyPowf32(deg, -0.5) : 0;
}

/** Builds Â = D^-1/2 [[0, R], [Rᵀ, 0]] D^-1/2 from train pairs (dense ids). Repeated pairs count once
 * (the reference's scipy matrix would weight a repeated pair 2; loaded datasets are deduplicated first).
 * Values are float32 products fround(d_r · d_c), as scipy computes diag(d)·A·diag(d) in float32. */
export function normalizedAdjacency(nUser: number, nItem: number, users: ArrayLike<number>, items: ArrayLike<number>): NormalizedAdjacency {
  const n = nUser + nItem;
  const m = users.length;
  const rows = new Int32Array(2 * m);
  const cols = new Int32Array(2 * m);
  for (let k = 0; k < m; k++) {
    rows[k] = users[k];
    cols[k] = nUser + items[k];
    rows[m + k] = nUser + items[k];
    cols[m + k] = users[k];
  }
  const a: Csr = buildCsr(rows, cols, n, n);
  const dInv = new Float64Array(n);
  const byDegree = new Map<number, number>();
  for (let r = 0; r < n; r++) {
    const deg = a.indptr[r + 1] - a.indptr[r];
    let v = byDegree.get(deg);
    if (v === undefined) byDegree.set(deg, (v = inverseSqrtDegree(deg)));
    dInv[r] = v;
  }
  const values = new Float32Array(a.indices.length);
  for (let r = 0; r < n; r++) {
    for (let k = a.indptr[r]; k < a.indptr[r + 1]; k++) values[k] = dInv[r] * dInv[a.indices[k]];
  }
  return { n, nUser, nItem, indptr: a.indptr, indices: a.indices, values };
}
