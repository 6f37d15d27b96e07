/**
 * Thin SVD of a B×d matrix (d small, e.g. 64) with its gradient.
 *
 * Forward: the d×d Gram matrix XᵀX is formed in float64 on the host and diagonalised by cyclic Jacobi
 * (exact to ~1e-15, so the float32 result is as good as LAPACK's), then U = X·V·diag(1/s) runs on the
 * backend. Signs follow SPEC: the largest-|·| entry of each right singular vector is positive. For B < d,
 * U gets zero columns and s zeros (the reference crashes there).
 *
 * Backward (Townsend, "Differentiating the singular value decomposition"), entirely in engine ops:
 * dX = U·[(F∘(J−Jᵀ))S + diag(dS) + S(F∘(K−Kᵀ)) − J S⁻¹]·Vᵀ + dU·S⁻¹Vᵀ, J = UᵀdU, K = VᵀdV,
 * plus U·S⁻¹·dVᵀ·(I − VVᵀ) over the live vectors when the rank is below d (B < d),
 * F_ij = 1/(s_j² − s_i²), guarded where singular values (nearly) coincide.
 */
import { add, matmul, mul, reshape, sub, tensor, transpose, zeros } from '../ops/index.js';
import { record, type TapeNode } from '../tape.js';
import { Tensor } from '../tensor.js';
import { checkDtype } from '../ops/check.js';
import { fmt } from '../shape.js';

export interface Svd {
  /** [B, d] left singular vectors (zero columns beyond rank min(B, d)). */
  U: Tensor;
  /** [d] singular values, descending. */
  S: Tensor;
  /** [d, d] right singular vectors as rows. */
  Vh: Tensor;
}

/** Eigen-decomposition of a symmetric n×n matrix (row-major, float64) by cyclic Jacobi; sorted descending. */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let norm = 0;
  for (let i = 0; i < n * n; i++) norm += A[i] * A[i];
  const tol = 1e-30 * norm;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] * A[p * n + q];
    if (off <= tol) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p], vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i] || i - j);
  const values = Float64Array.from(order, (i) => A[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => { for (let k = 0; k < n; k++) vectors[k * n + dst] = V[k * n + src]; });
  return { values, vectors };
}

/** XᵀX in float64 from row-major X [B, d]: columns are copied out once so each entry is one tight dot product. */
function gram(X: Float32Array, B: number, d: number): Float64Array {
  const cols = new Float64Array(B * d);
  for (let r = 0; r < B; r++) for (let i = 0; i < d; i++) cols[i * B + r] = X[r * d + i];
  const G = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let r = 0, a = i * B, b = j * B; r < B; r++) s += cols[a + r] * cols[b + r];
      G[i * d + j] = s;
      G[j * d + i] = s;
    }
  }
  return G;
}

/**
 * Thin SVD X = U·diag(S)·Vh of X [B, d], differentiable in X. Asynchronous: it reads X to the host.
 *
 * @example
 * const { U, S, Vh } = await svd(y);    // y: [2000, 64]
 */
export async function svd(x: Tensor): Promise<Svd> {
  checkDtype(x, 'f32', 'svd', 'x');
  if (x.rank !== 2 || x.shape[0] < 1 || x.shape[1] < 1) throw new Error(`svd: needs a non-empty matrix [B, d], got ${fmt(x.shape)}`);
  const [B, d] = x.shape;
  const G = x.backend.gramF64 ? x.backend.gramF64(x.storage, B, d) : gram(await x.data() as Float32Array, B, d);
  if (x.disposed) throw new Error('svd: x was disposed while its values were being read');
  const { values, vectors: V } = symmetricEigen(G, d);

  const rank = Math.min(B, d);
  const smax = Math.sqrt(Math.max(values[0], 0));
  const s = Float64Array.from(values, (l, k) => (k < rank ? Math.sqrt(Math.max(l, 0)) : 0));
  // Singular values at float64 round-off level are treated as zero (rank-deficient input).
  const live = Float64Array.from(s, (v) => (v > smax * 1e-12 && v > 0 ? 1 : 0));
  for (let k = 0; k < d; k++) {
    let best = 0;
    for (let i = 1; i < d; i++) if (Math.abs(V[i * d + k]) > Math.abs(V[best * d + k])) best = i;
    if (V[best * d + k] < 0) for (let i = 0; i < d; i++) V[i * d + k] = -V[i * d + k];
  }
  const sinv = Float64Array.from(s, (v, k) => (live[k] ? 1 / v : 0));
  const vScaled = new Float32Array(d * d);
  const vh = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      vScaled[i * d + k] = V[i * d + k] * sinv[k];
      vh[k * d + i] = V[i * d + k];
    }
  }
  const F = new Float32Array(d * d);
  const guard = 1e-12 * Math.max(smax * smax, 1e-30);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      if (i === j || !live[i] || !live[j]) continue;
      const diff = s[j] * s[j] - s[i] * s[i];
      F[i * d + j] = diff / (diff * diff + guard * guard);
    }
  }
  const vs = tensor(vScaled, [d, d]);
  const U = matmul(x, vs);
  vs.dispose();
  const S = tensor(Float32Array.from(s), [d]);
  const Vh = tensor(vh, [d, d]);
  const saved = [tensor(F, [d, d]), tensor(Float32Array.from(live), [d]), tensor(Float32Array.from(sinv), [d])];
  // Rank-deficient (e.g. B < d): the backward pass needs the term for dVh outside the live right vectors.
  record('svd', [x], [U, S, Vh, ...saved], { deficient: live.some((l) => l === 0) });
  if (!U.requiresGrad) for (const t of saved) t.dispose();
  return { U, S, Vh };
}

/** The gradient table entry for `svd` (see the file comment for the formula). */
export function svdBackward(dys: (Tensor | null)[], node: TapeNode): Tensor {
  const [U, S, Vh, F, live, sinv] = node.outputs;
  const [B, d] = U.shape;
  const row = (t: Tensor) => reshape(t, [1, d]);
  const col = (t: Tensor) => reshape(t, [d, 1]);
  const dU = dys[0] ? mul(dys[0], row(live)) : zeros([B, d]);
  const dS = dys[1] ? mul(dys[1], live) : zeros([d]);
  const dVh = dys[2] ? mul(dys[2], col(live)) : zeros([d, d]);
  const J = matmul(U, dU, { transA: true });
  const K = matmul(Vh, dVh, { transB: true });
  const skew = (t: Tensor) => mul(F, sub(t, transpose(t)));
  const eye = tensor(Float32Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0)), [d, d]);
  const M = add(add(mul(skew(J), row(S)), mul(eye, row(dS))), sub(mul(col(S), skew(K)), mul(J, row(sinv))));
  const P = matmul(M, Vh);
  const Q = mul(col(sinv), Vh);
  const dX = add(matmul(U, P), matmul(dU, Q));
  if (!node.attrs.deficient) return dX;
  // + U·S⁻¹·dVh·(I − Vhᵀ·diag(live)·Vh): the part of dVh orthogonal to the live right vectors, which
  // the formula above drops when some singular values are zero (B < d); for full rank it vanishes.
  const proj = sub(eye, matmul(mul(col(live), Vh), Vh, { transA: true }));
  return add(dX, matmul(U, matmul(mul(col(sinv), dVh), proj)));
}
