/**
 * A spectral stand-in for pretrained vectors (SPEC §1): the top-d singular subspace of the normalised
 * train matrix R̃ = D_u^-1/2 R D_i^-1/2, by randomized subspace iteration on the engine
 * (users: U·√S, items: V·√S). Deterministic for a seed.
 */
import { CsrMatrix, matmul, mul, Random, reshape, slice, spmm, sqrt, svd, tidy, type Tensor } from '../../engine/index.js';
import { buildCsr } from './csr.js';
import type { Interactions } from './dataset.js';

export async function spectralEmbeddings(nUser: number, nItem: number, train: Interactions, dim: number, seed = 2024):
  Promise<{ users: Float32Array; items: Float32Array }> {
  const csr = buildCsr(train.users, train.items, nUser, nItem);
  const du = new Float64Array(nUser);
  const di = new Float64Array(nItem);
  for (let u = 0; u < nUser; u++) {
    for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) { du[u]++; di[csr.indices[p]]++; }
  }
  const values = new Float32Array(csr.indices.length);
  for (let u = 0; u < nUser; u++) {
    for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) values[p] = 1 / Math.sqrt(du[u] * di[csr.indices[p]]);
  }
  const R = CsrMatrix.fromHost(nUser, nItem, csr.indptr, csr.indices, values);
  const k = Math.min(dim + 16, 128, nUser, nItem);
  const rng = new Random(seed);
  const orth = async (y: Tensor) => (await svd(y)).U;
  try {
    // Q spans the dominant column space of R̃ after two power iterations.
    let q = await orth(spmm(R, rng.randn([nItem, k])));
    for (let it = 0; it < 2; it++) q = await orth(spmm(R, await orth(spmm(R.T, q))));
    const bt = spmm(R.T, q); // (Qᵀ R̃)ᵀ: nItem × k
    const { U: ub, S, Vh } = await svd(bt);
    const r = Math.min(dim, k);
    const root = reshape(sqrt(slice(S, [0], [r])), [1, r]);
    const items = tidy(() => mul(slice(ub, [0, 0], [nItem, r]), root));
    const users = tidy(() => mul(matmul(q, slice(Vh, [0, 0], [r, k]), { transB: true }), root));
    const pad = async (t: Tensor, n: number) => {
      const v = await t.data() as Float32Array;
      if (r === dim) return v;
      const out = new Float32Array(n * dim);
      for (let i = 0; i < n; i++) out.set(v.subarray(i * r, (i + 1) * r), i * dim);
      return out;
    };
    return { users: await pad(users, nUser), items: await pad(items, nItem) };
  } finally {
    R.dispose();
  }
}
