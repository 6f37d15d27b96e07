/**
 * Thin SVD of a B×d matrix (d small, e.g. 64) with its gradient.
 *
 * Forward: the d×d Gram matrix XᵀX is formed in float64 and diagonalised on the host (Householder + QL,
 * accurate to ~1e-15, so the float32 result is as good as LAPACK's), then U = X·V·diag(1/s) runs on the
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

/**
 * Eigen-decomposition of a symmetric n×n matrix (row-major, float64): Householder reduction to
 * tridiagonal form, then the implicit QL algorithm (the EISPACK tred2/tql2 pair, O(n³)).
 * Eigenvalues descending (ties by index), eigenvectors as the columns of `vectors`.
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const V = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(V, d, e, n);
  // The QL rotations combine columns of V: they run on its transpose, where a column is a contiguous row.
  const Vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) Vt[i * n + k] = V[k * n + i];
  diagonalizeTridiagonal(Vt, d, e, n);
  // descending, ties by index: an insertion sort, whose result does not depend on the sort implementation
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let k = i;
    for (; k > 0 && (d[i] - d[order[k - 1]] || order[k - 1] - i) > 0; k--) order[k] = order[k - 1];
    order[k] = i;
  }
  const values = Float64Array.from(order, (i) => d[i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => { for (let k = 0; k < n; k++) vectors[k * n + dst] = Vt[src * n + k]; });
  return { values, vectors };
}

/** √(a² + b²) without overflow, in IEEE float64 steps only (Math.hypot's bits vary by engine). */
function hypot(a: number, b: number): number {
  const x = Math.abs(a), y = Math.abs(b);
  const big = Math.max(x, y);
  if (big === 0) return 0;
  const r = Math.min(x, y) / big;
  return big * Math.sqrt(1 + r * r);
}

/** Householder tridiagonalisation in place: V becomes the orthogonal transform, d the diagonal, e the sub-diagonal. */
function tridiagonalize(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) { d[k] /= scale; h += d[k] * d[k]; }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) { e[j] /= h; f += e[j] * d[j]; }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) { d[j] = V[(n - 1) * n + j]; V[(n - 1) * n + j] = 0; }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL with Wilkinson-style shifts on the tridiagonal (d, e), rotating the rows of Vt (V transposed) along. */
function diagonalizeTridiagonal(Vt: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0; Math.abs(e[l]) > eps * tst1; iter++) {
        if (iter > 200) throw new Error('symmetricEigen: the QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const a = i * n, b = a + n;
          for (let k = 0; k < n; k++) {
            const vk = Vt[b + k];
            Vt[b + k] = s * Vt[a + k] + c * vk;
            Vt[a + k] = c * Vt[a + k] - s * vk;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      }
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** XᵀX in float64 from row-major X [B, d]: columns are copied out once so each entry is one tight dot product. */
export function hostGram(X: Float32Array, B: number, d: number): Float64Array {
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
  const G = x.backend.gramF64 ? x.backend.gramF64(x.storage, B, d) : hostGram(await x.data() as Float32Array, B, d);
  if (x.disposed) throw new Error('svd: x was disposed while its values were being read');
  const { values, vectors: V } = x.backend.symmetricEigen?.(G, d) ?? symmetricEigen(G, d);

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
