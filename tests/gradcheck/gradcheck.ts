/**
 * Central finite differences in float64 on the reference backend (precision 'f64'): the analytic
 * gradient of L = Σ_k sum(out_k · R_k) (valueAndGrads) against (L(x + h·e_i) − L(x − h·e_i)) / 2h for a
 * seeded sample of elements of every input, plus random directions over all inputs at once.
 * Elements are perturbed in place (writeStrided of one f64 value), so module parameters can be checked
 * without rebuilding the module.
 */
import { add, liveTensors, mul, Random, setBackend, sum, Tensor, tidy, valueAndGrads } from '../../engine/index.js';
import type { ReferenceBackend } from '../../backends/reference/index.js';
import { createF64Backend, indexIn, maxAbs, randn } from '../helpers.js';

export const be: ReferenceBackend = createF64Backend();
setBackend(be);

/** A tensor holding exactly these doubles on the f64 backend. */
export function t64(data: ArrayLike<number>, shape: readonly number[]): Tensor {
  return new Tensor(be.uploadF64(Float64Array.from(data)), shape);
}

/** Seeded normal data as an f64 tensor. */
export function randn64(seed: number, shape: readonly number[], std = 1): Tensor {
  return t64(randn(seed, shape.reduce((a, b) => a * b, 1), std), shape);
}

export function read64(t: Tensor): Float64Array {
  return be.readF64(t.storage);
}

function setElement(t: Tensor, i: number, v: number): void {
  const src = be.uploadF64(Float64Array.of(v));
  be.writeStrided(src, t.storage, [1], [1], i);
  be.free(src);
}

type Outs = Tensor | Tensor[];

export interface GradcheckOptions {
  /** Allowed |fd − analytic| relative to the gradient tensor's scale (max |analytic|). */
  tol?: number;
  h?: number;
  /** Elements checked per tensor (a seeded sample when the tensor is larger). */
  perTensor?: number;
  /** Random directions checked over all inputs together. */
  directions?: number;
  seed?: number;
  /** Names of the `wrt` tensors for messages. */
  names?: string[];
}

/**
 * Checks d/d(wrt) of `fn` (which must be deterministic: same values every call). Throws with the tensor,
 * element, finite difference, analytic value and relative error of the worst element.
 */
export function gradcheck(label: string, wrt: Tensor[], fn: () => Outs, opts: GradcheckOptions = {}): void {
  const { tol = 1e-6, h = 1e-5, perTensor = 16, directions = 2, seed = 1, names = [] } = opts;
  const list = (o: Outs) => (Array.isArray(o) ? o : [o]);
  const shapes = tidy(() => list(fn()).map((o) => ({ shape: [...o.shape], f32: o.dtype === 'f32' })));
  const Rs = shapes.map((s, k) => (s.f32 ? randn64(seed * 7919 + k, s.shape) : null));
  const Rhost = Rs.map((r) => (r ? read64(r) : null));
  const lossHost = (): number => tidy(() => {
    let acc = 0;
    list(fn()).forEach((o, k) => {
      if (!Rhost[k]) return;
      const v = read64(o);
      for (let i = 0; i < v.length; i++) acc += v[i] * Rhost[k]![i];
    });
    return acc;
  });
  const before = liveTensors();
  const { value, grads } = valueAndGrads(() => {
    let acc: Tensor | null = null;
    list(fn()).forEach((o, k) => {
      if (!Rs[k]) return;
      const term = sum(mul(o, Rs[k]!));
      acc = acc ? add(acc, term) : term;
    });
    if (!acc) throw new Error(`${label}: no float output to differentiate`);
    return acc;
  }, wrt);
  const analytic = grads.map(read64);
  value.dispose();
  grads.forEach((g) => g.dispose());
  if (liveTensors() !== before) throw new Error(`${label}: valueAndGrads left ${liveTensors() - before} tensor(s) alive`);

  const rng = new Random(seed);
  const failures: string[] = [];
  wrt.forEach((x, t) => {
    const name = names[t] ?? `input ${t}`;
    const xs = read64(x);
    const an = analytic[t];
    const idx = x.size <= perTensor ? Array.from({ length: x.size }, (_, i) => i)
      : Array.from(rng.permutation(x.size).slice(0, perTensor));
    const fd = new Map<number, number>();
    for (const i of idx) {
      setElement(x, i, xs[i] + h);
      const lp = lossHost();
      setElement(x, i, xs[i] - h);
      const lm = lossHost();
      setElement(x, i, xs[i]);
      fd.set(i, (lp - lm) / (2 * h));
    }
    const scale = Math.max(maxAbs(an), maxAbs([...fd.values()]));
    let worst = -1;
    let worstErr = 0;
    for (const [i, v] of fd) {
      const err = Math.abs(v - an[i]) / Math.max(scale, 1e-300);
      const absErr = Math.abs(v - an[i]);
      if ((scale > 1e-9 ? err : absErr) > worstErr) { worstErr = scale > 1e-9 ? err : absErr; worst = i; }
    }
    if (worst >= 0 && worstErr > tol) {
      failures.push(`${name} element ${worst} ${indexIn(worst, x.shape)}: finite difference ${fd.get(worst)}, ` +
        `analytic ${an[worst]}, error ${worstErr.toExponential(2)} of scale ${scale.toExponential(2)} > ${tol}`);
    }
  });

  // Random directions: L(x + h·v) − L(x − h·v) against Σ grad · v, all inputs at once.
  for (let d = 0; d < directions; d++) {
    const base = wrt.map(read64);
    const dirs = wrt.map((x, t) => randn(seed * 31 + d * 997 + t, x.size));
    const shift = (sign: number) => wrt.forEach((x, t) => {
      const v = base[t].map((b, i) => b + sign * h * dirs[t][i]);
      const src = be.uploadF64(v);
      be.writeStrided(src, x.storage, [x.size], [1], 0);
      be.free(src);
    });
    shift(1);
    const lp = lossHost();
    shift(-1);
    const lm = lossHost();
    shift(0);
    const fd = (lp - lm) / (2 * h);
    let dot = 0;
    let mag = 0;
    analytic.forEach((g, t) => g.forEach((gi, i) => { dot += gi * dirs[t][i]; mag += Math.abs(gi * dirs[t][i]); }));
    if (Math.abs(fd - dot) > tol * Math.max(mag, 1e-9)) {
      failures.push(`direction ${d}: finite difference ${fd}, analytic ${dot} (Σ|g·v| = ${mag.toExponential(2)})`);
    }
  }
  Rs.forEach((r) => r?.dispose());
  if (failures.length) throw new Error(`${label}: gradient check failed:\n  ${failures.join('\n  ')}`);
}
