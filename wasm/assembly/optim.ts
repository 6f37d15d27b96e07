// Optimiser kernels.

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/**
 * Adam in place with torch's float32 operation order (see engine/backend.ts). fma(a, b, c) is emulated as
 * the f64 a·b (exact for f32 inputs) plus c, rounded once. The scalars arrive already rounded to f32.
 */
export function adam(p: usize, g: usize, m: usize, v: usize, n: i32,
  b1: f32, oneMinusB1: f32, b2: f32, oneMinusB2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32, wd: f32): void {
  for (let i = 0; i < n; i++) {
    const pi = load<f32>(at(p, i));
    let gi = load<f32>(at(g, i));
    if (wd != 0) gi = <f32>(<f64>wd * <f64>pi + <f64>gi);
    const mi = <f32>(<f64>oneMinusB1 * <f64>gi + <f64>(b1 * load<f32>(at(m, i))));
    const vi = <f32>(<f64>(oneMinusB2 * gi) * <f64>gi + <f64>(b2 * load<f32>(at(v, i))));
    const denom = Mathf.sqrt(vi) / bc2Sqrt + eps;
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    store<f32>(at(p, i), pi + (stepSize * mi) / denom);
  }
}
