// Gradients of composite blocks against central finite differences in float64: Linear, the LayerNorm
// module, Embedding, MultiheadAttention and TransformerEncoderLayer in eval mode (sequence length 1 and
// 3), an MLP with an MSE loss, and the SVD.
import { test } from 'uvu';
import {
  Embedding, gelu, LayerNorm, Linear, mean, MultiheadAttention, Random, square, sub, svd, symmetricEigen,
  tensor, TransformerEncoderLayer, valueAndGrads, mul, sum, add, reshape, slice, type Module,
} from '../../engine/index.js';
import { randn, randu } from '../helpers.js';
import { gradcheck, randn64, read64, t64 } from './gradcheck.js';

/** Replaces every parameter with seeded values (non-trivial biases and norm weights). */
function randomize(m: Module, seed: number): void {
  for (const [name, p] of m.namedParameters()) {
    const values = /norm\d?\.weight$|^weight$/.test(name) && p.rank === 1
      ? randu(seed + p.size, p.size, 0.5, 1.5)
      : randn(seed + p.size, p.size, 0.4);
    m.setParameter(name, values);
  }
}

function check(label: string, m: Module, x: ReturnType<typeof t64> | null, fn: () => ReturnType<typeof t64>, perTensor = 10): void {
  const named = m.namedParameters();
  const wrt = [...(x ? [x] : []), ...named.map(([, p]) => p)];
  const names = [...(x ? ['x'] : []), ...named.map(([n]) => n)];
  gradcheck(label, wrt, fn, { names, perTensor });
}

test('Linear (with and without bias)', () => {
  const rng = new Random(1);
  const x = randn64(2, [4, 5]);
  const fc = new Linear(5, 3, rng);
  randomize(fc, 3);
  check('Linear', fc, x, () => fc.forward(x));
  const nb = new Linear(5, 2, rng, false);
  check('Linear without bias', nb, x, () => nb.forward(x));
  fc.dispose();
  nb.dispose();
});

test('LayerNorm module', () => {
  const ln = new LayerNorm(6);
  randomize(ln, 10);
  const x = randn64(11, [2, 3, 6], 2);
  check('LayerNorm', ln, x, () => ln.forward(x));
  ln.dispose();
});

test('Embedding (repeated ids)', () => {
  const emb = new Embedding(5, 4, new Random(20));
  const ids = tensor(Int32Array.from([3, 0, 3, 4]));
  check('Embedding', emb, null, () => emb.forward(ids));
  emb.dispose();
});

test('MLP Linear–GELU–Linear with an MSE loss', () => {
  const rng = new Random(30);
  const l1 = new Linear(4, 8, rng);
  const l2 = new Linear(8, 3, rng);
  const x = randn64(31, [5, 4]);
  const target = randn64(32, [5, 3]);
  const params = [...l1.parameters(), ...l2.parameters()];
  gradcheck('MLP MSE', [x, ...params], () => mean(square(sub(l2.forward(gelu(l1.forward(x))), target))));
  l1.dispose();
  l2.dispose();
});

test('MultiheadAttention (sequence length 3)', () => {
  const mha = new MultiheadAttention(8, 2, new Random(40));
  randomize(mha, 41);
  const x = randn64(42, [2, 3, 8]);
  check('MultiheadAttention', mha, x, () => mha.forward(x));
  mha.dispose();
});

for (const L of [1, 3]) {
  test(`TransformerEncoderLayer, eval mode, sequence length ${L}`, () => {
    const layer = new TransformerEncoderLayer(8, { heads: 2, ffn: 16, dropout: 0.1 }, new Random(50 + L));
    randomize(layer, 60 + L);
    const x = randn64(70 + L, [3, L, 8]);
    check(`TransformerEncoderLayer L=${L}`, layer, x, () => layer.forward(x, false), 8);
    if (L === 1) {
      // One position: the q and k projections get exactly zero gradient (as in PyTorch).
      const w = layer.namedParameters().find(([n]) => n === 'self_attn.in_proj_weight')![1];
      const { value, grads: [gw] } = valueAndGrads(() => sum(layer.forward(x, false)), [w]);
      const g = read64(gw);
      const qk = g.subarray(0, 2 * 8 * 8);
      if (qk.some((v) => v !== 0)) throw new Error('L = 1: the q/k rows of in_proj_weight got a non-zero gradient');
      if (!g.subarray(2 * 8 * 8).some((v) => v !== 0)) throw new Error('L = 1: the v rows of in_proj_weight got no gradient');
      value.dispose();
      gw.dispose();
    }
    layer.dispose();
  });
}

/**
 * L = sum(U·R_U) + sum(S·R_S) + sum(Vh[0]·R_Vh0) for X [B, d], computed on the host in float64:
 * Jacobi on XᵀX, the same sign rule as the engine (largest |entry| of each row of Vh positive), U = X·V/s;
 * for B < d the d − B null singular values are 0 and their U columns zero (as the engine).
 */
function hostSvdLoss(X: Float64Array, B: number, d: number, RU: Float64Array, RS: Float64Array, RV: Float64Array): number {
  const G = new Float64Array(d * d);
  for (let r = 0; r < B; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) G[i * d + j] += X[r * d + i] * X[r * d + j];
  const { values, vectors: V } = symmetricEigen(G, d);
  for (let k = 0; k < d; k++) {
    let best = 0;
    for (let i = 1; i < d; i++) if (Math.abs(V[i * d + k]) > Math.abs(V[best * d + k])) best = i;
    if (V[best * d + k] < 0) for (let i = 0; i < d; i++) V[i * d + k] = -V[i * d + k];
  }
  const rank = Math.min(B, d);
  const s = Array.from(values, (v, k) => (k < rank ? Math.sqrt(Math.max(v, 0)) : 0));
  let L = 0;
  for (let k = 0; k < d; k++) L += s[k] * RS[k] + V[k * d + 0] * RV[k];
  for (let r = 0; r < B; r++) {
    for (let k = 0; k < rank; k++) {
      let u = 0;
      for (let i = 0; i < d; i++) u += X[r * d + i] * V[i * d + k];
      L += (u / s[k]) * RU[r * d + k];
    }
  }
  return L;
}

/*
 * The engine's svd reads X as float32 and uploads its factors as float32 even on an f64 backend, so
 * finite differences through it are limited to ~1e-7/h. The analytic gradient (engine, f64 backend,
 * float32-exact X) is therefore checked against finite differences of a float64 host SVD (to 1e-6 of
 * the gradient's scale; the float32 factors leave ~1e-7).
 */
// Wide matrices (B < d) exercise the term of dVh outside the live right vectors (it was missing).
for (const [B, d] of [[12, 5], [7, 7], [20, 3], [3, 5], [2, 4]]) {
  const tol = 1e-6;
  test(`svd [${B}, ${d}]: gradient against finite differences of a float64 SVD`, async () => {
    const Xh = Float64Array.from(randn(80 + B, B * d));
    const RU = Float64Array.from(randn(81, B * d));
    const RS = Float64Array.from(randn(82, d));
    const RV = Float64Array.from(randn(83, d));
    const x = t64(Xh, [B, d]);
    const [rU, rS, rV] = [t64(RU, [B, d]), t64(RS, [d]), t64(RV, [d])];
    const { value, grads: [gx] } = await valueAndGrads(async () => {
      const { U, S, Vh } = await svd(x);
      return add(add(sum(mul(U, rU)), sum(mul(S, rS))), sum(mul(reshape(slice(Vh, [0, 0], [1, d]), [d]), rV)));
    }, [x]);
    const analytic = read64(gx);
    const L0 = hostSvdLoss(Xh, B, d, RU, RS, RV);
    const Lv = read64(value)[0];
    if (Math.abs(Lv - L0) > 1e-5 * Math.max(1, Math.abs(L0))) throw new Error(`svd loss ${Lv} vs float64 host ${L0}`);
    const h = 1e-6;
    let scale = 0;
    for (const v of analytic) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    let at = -1;
    const fds: number[] = [];
    for (let i = 0; i < B * d; i++) {
      const Xp = Float64Array.from(Xh);
      Xp[i] += h;
      const lp = hostSvdLoss(Xp, B, d, RU, RS, RV);
      Xp[i] -= 2 * h;
      const lm = hostSvdLoss(Xp, B, d, RU, RS, RV);
      const fd = (lp - lm) / (2 * h);
      fds.push(fd);
      const err = Math.abs(fd - analytic[i]) / scale;
      if (err > worst) { worst = err; at = i; }
    }
    if (process.env.GRADCHECK_VERBOSE) console.log(`svd [${B}, ${d}] worst relative error ${worst.toExponential(2)}`);
    if (worst > tol) {
      throw new Error(`svd [${B}, ${d}]: element ${at}: finite difference ${fds[at]}, analytic ${analytic[at]}, ` +
        `error ${worst.toExponential(2)} of scale ${scale.toExponential(2)}`);
    }
    for (const t of [x, rU, rS, rV, value, gx]) t.dispose();
  });
}

test.run();
