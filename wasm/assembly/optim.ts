// Optimiser kernels.
import { fma32 } from './math';
import { at } from './util';

/**
 * Adam in place with torch's float32 operation order (see engine/backend.ts); the add-with-alpha and
 * addcmul steps are fused (fma32). The scalars arrive already rounded to f32.
 */
export function adam(p: usize, g: usize, m: usize, v: usize, n: i32,
  b1: f32, oneMinusB1: f32, b2: f32, oneMinusB2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32, wd: f32): void {
  for (let i = 0; i < n; i++) {
    const pi = load<f32>(at(p, i));
    let gi = load<f32>(at(g, i));
    if (wd != 0) gi = fma32(wd, pi, gi);
    const mi = fma32(oneMinusB1, gi, b1 * load<f32>(at(m, i)));
    const vi = fma32(oneMinusB2 * gi, gi, b2 * load<f32>(at(v, i)));
    const denom = Mathf.sqrt(vi) / bc2Sqrt + eps;
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    store<f32>(at(p, i), pi + (stepSize * mi) / denom);
  }
}
