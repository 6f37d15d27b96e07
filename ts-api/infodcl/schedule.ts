/**
 * Diffusion schedules (SPEC §4) and every per-step array the reference's diffusion object holds.
 * Computed in float64 and rounded once to float32, which is more accurate than the reference's float32
 * arithmetic (its `1 − ᾱ` cancels at small t) and within its tolerance everywhere.
 */
export type ScheduleName = 'exp' | 'linear' | 'cosine' | 'sqrt';
export const SCHEDULES: readonly ScheduleName[] = ['exp', 'linear', 'cosine', 'sqrt'];

export interface DiffusionSchedule {
  T: number;
  betas: Float32Array;
  alphas: Float32Array;
  alphasCumprod: Float32Array;
  alphasCumprodPrev: Float32Array;
  sqrtRecipAlphas: Float32Array;
  sqrtAlphasCumprod: Float32Array;
  sqrtOneMinusAlphasCumprod: Float32Array;
  sqrtRecipAlphasCumprod: Float32Array;
  sqrtRecipm1AlphasCumprod: Float32Array;
  posteriorMeanCoef1: Float32Array;
  posteriorMeanCoef2: Float32Array;
  posteriorVariance: Float32Array;
}

function linspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (n === 1 ? a : a + ((b - a) * i) / (n - 1)));
}

/** β_1..β_T of a named schedule (float64). `betaStart`/`betaEnd` are used by 'linear' only. */
export function betaSchedule(name: ScheduleName, T: number, betaStart = 1e-4, betaEnd = 0.02): number[] {
  if (!Number.isInteger(T) || T < 1) throw new Error(`diffusion: T must be a positive integer, got ${T}`);
  switch (name) {
    case 'linear':
      return linspace(betaStart, betaEnd, T);
    case 'exp': {
      // Hard-coded β_min = 0.1, β_max = 10 as in the reference; x has non-integer spacing 2T/(T−1).
      const [bmin, bmax] = [0.1, 10];
      return linspace(1, 2 * T + 1, T).map((x) => 1 - Math.exp(-bmin / T - (x * 0.5 * (bmax - bmin)) / (T * T)));
    }
    case 'cosine': {
      const s = 0.008;
      const ac = linspace(0, T, T + 1).map((x) => Math.cos((((x / T) + s) / (1 + s)) * Math.PI * 0.5) ** 2);
      return Array.from({ length: T }, (_, i) => Math.min(0.9999, Math.max(1e-4, 1 - (ac[i + 1] / ac[0]) / (ac[i] / ac[0]))));
    }
    case 'sqrt': {
      const abar = (t: number) => 1 - Math.sqrt(t + 1e-4);
      return Array.from({ length: T }, (_, i) => Math.min(1 - abar((i + 1) / T) / abar(i / T), 0.999));
    }
    default:
      throw new Error(`diffusion: unknown schedule "${name as string}" (choose ${SCHEDULES.join(', ')})`);
  }
}

export function makeSchedule(name: ScheduleName, T: number, betaStart = 1e-4, betaEnd = 0.02): DiffusionSchedule {
  const betas = betaSchedule(name, T, betaStart, betaEnd);
  const alphas = betas.map((b) => 1 - b);
  const ac: number[] = [];
  alphas.forEach((a, i) => ac.push(i === 0 ? a : ac[i - 1] * a));
  const acPrev = [1, ...ac.slice(0, -1)];
  const f32 = (f: (i: number) => number) => Float32Array.from({ length: T }, (_, i) => f(i));
  return {
    T,
    betas: f32((i) => betas[i]),
    alphas: f32((i) => alphas[i]),
    alphasCumprod: f32((i) => ac[i]),
    alphasCumprodPrev: f32((i) => acPrev[i]),
    sqrtRecipAlphas: f32((i) => Math.sqrt(1 / alphas[i])),
    sqrtAlphasCumprod: f32((i) => Math.sqrt(ac[i])),
    sqrtOneMinusAlphasCumprod: f32((i) => Math.sqrt(1 - ac[i])),
    sqrtRecipAlphasCumprod: f32((i) => Math.sqrt(1 / ac[i])),
    sqrtRecipm1AlphasCumprod: f32((i) => Math.sqrt(1 / ac[i] - 1)),
    posteriorMeanCoef1: f32((i) => (betas[i] * Math.sqrt(acPrev[i])) / (1 - ac[i])),
    posteriorMeanCoef2: f32((i) => ((1 - acPrev[i]) * Math.sqrt(alphas[i])) / (1 - ac[i])),
    posteriorVariance: f32((i) => (betas[i] * (1 - acPrev[i])) / (1 - ac[i])),
  };
}

/**
 * DDPM sinusoidal step embeddings [sin(t·f_k) | cos(t·f_k)], f_k = exp(−k·ln(10000)/(d/2 − 1)), for the
 * given steps, in the reference's float32 operation order. Row-major [steps.length, dim].
 */
export function sinusoidalEmbedding(steps: ArrayLike<number>, dim: number): Float32Array {
  const half = dim / 2;
  const scale = Math.log(10000) / (half - 1);
  const freqs = Float32Array.from({ length: half }, (_, k) => Math.exp(Math.fround(k * -scale)));
  const out = new Float32Array(steps.length * dim);
  for (let r = 0; r < steps.length; r++) {
    for (let k = 0; k < half; k++) {
      const x = Math.fround(steps[r] * freqs[k]);
      out[r * dim + k] = Math.sin(x);
      out[r * dim + half + k] = Math.cos(x);
    }
  }
  return out;
}
