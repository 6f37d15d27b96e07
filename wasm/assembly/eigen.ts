// The symmetric eigen-solve of the SVD (engine/linalg/svd.ts symmetricEigen: Householder tridiagonalisation,
// implicit QL, a descending insertion sort), step for step in float64, so the bits equal the host's. Only
// the QL rotations, which update two rows of Vᵀ lane by lane, run two elements per vector.

// @ts-ignore: decorator
@inline function el(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function set(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }

/** √(a² + b²) without overflow (svd.ts hypot). */
// @ts-ignore: decorator
@inline function hypot(a: f64, b: f64): f64 {
  const x = Math.abs(a), y = Math.abs(b);
  const big = Math.max(x, y);
  if (big == 0) return 0;
  const r = Math.min(x, y) / big;
  return big * Math.sqrt(1 + r * r);
}

function tridiagonalize(V: usize, d: usize, e: usize, n: i32): void {
  for (let j = 0; j < n; j++) set(d, j, el(V, (n - 1) * n + j));
  for (let i = n - 1; i > 0; i--) {
    let scale: f64 = 0;
    let h: f64 = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(el(d, k));
    if (scale == 0) {
      set(e, i, el(d, i - 1));
      for (let j = 0; j < i; j++) {
        set(d, j, el(V, (i - 1) * n + j));
        set(V, i * n + j, 0);
        set(V, j * n + i, 0);
      }
    } else {
      for (let k = 0; k < i; k++) { set(d, k, el(d, k) / scale); h += el(d, k) * el(d, k); }
      let f = el(d, i - 1);
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      set(e, i, scale * g);
      h -= f * g;
      set(d, i - 1, f - g);
      for (let j = 0; j < i; j++) set(e, j, 0);
      for (let j = 0; j < i; j++) {
        f = el(d, j);
        set(V, j * n + i, f);
        g = el(e, j) + el(V, j * n + j) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += el(V, k * n + j) * el(d, k);
          set(e, k, el(e, k) + el(V, k * n + j) * f);
        }
        set(e, j, g);
      }
      f = 0;
      for (let j = 0; j < i; j++) { set(e, j, el(e, j) / h); f += el(e, j) * el(d, j); }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) set(e, j, el(e, j) - hh * el(d, j));
      for (let j = 0; j < i; j++) {
        f = el(d, j);
        g = el(e, j);
        for (let k = j; k <= i - 1; k++) set(V, k * n + j, el(V, k * n + j) - (f * el(e, k) + g * el(d, k)));
        set(d, j, el(V, (i - 1) * n + j));
        set(V, i * n + j, 0);
      }
    }
    set(d, i, h);
  }
  for (let i = 0; i < n - 1; i++) {
    set(V, (n - 1) * n + i, el(V, i * n + i));
    set(V, i * n + i, 1);
    const h = el(d, i + 1);
    if (h != 0) {
      for (let k = 0; k <= i; k++) set(d, k, el(V, k * n + i + 1) / h);
      for (let j = 0; j <= i; j++) {
        let g: f64 = 0;
        for (let k = 0; k <= i; k++) g += el(V, k * n + i + 1) * el(V, k * n + j);
        for (let k = 0; k <= i; k++) set(V, k * n + j, el(V, k * n + j) - g * el(d, k));
      }
    }
    for (let k = 0; k <= i; k++) set(V, k * n + i + 1, 0);
  }
  for (let j = 0; j < n; j++) { set(d, j, el(V, (n - 1) * n + j)); set(V, (n - 1) * n + j, 0); }
  set(V, (n - 1) * n + n - 1, 1);
  set(e, 0, 0);
}

/** Returns 0, or 1 when an eigenvalue needs more than 200 iterations. */
function diagonalizeTridiagonal(Vt: usize, d: usize, e: usize, n: i32): i32 {
  for (let i = 1; i < n; i++) set(e, i - 1, el(e, i));
  set(e, n - 1, 0);
  let f: f64 = 0;
  let tst1: f64 = 0;
  const eps: f64 = 2.220446049250313e-16; // 2^−52
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(el(d, l)) + Math.abs(el(e, l)));
    let m = l;
    while (m < n && Math.abs(el(e, m)) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0; Math.abs(el(e, l)) > eps * tst1; iter++) {
        if (iter > 200) return 1;
        let g = el(d, l);
        let p = (el(d, l + 1) - g) / (2 * el(e, l));
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        set(d, l, el(e, l) / (p + r));
        set(d, l + 1, el(e, l) * (p + r));
        const dl1 = el(d, l + 1);
        let h = g - el(d, l);
        for (let i = l + 2; i < n; i++) set(d, i, el(d, i) - h);
        f += h;
        p = el(d, m);
        let c: f64 = 1, c2: f64 = 1, c3: f64 = 1;
        const el1 = el(e, l + 1);
        let s: f64 = 0, s2: f64 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * el(e, i);
          h = c * p;
          r = hypot(p, el(e, i));
          set(e, i + 1, s * r);
          s = el(e, i) / r;
          c = p / r;
          p = c * el(d, i) - s * g;
          set(d, i + 1, h + s * (c * g + s * el(d, i)));
          rotate(Vt + (<usize>(i * n) << 3), Vt + (<usize>((i + 1) * n) << 3), n, c, s);
        }
        p = (-s * s2 * c3 * el1 * el(e, l)) / dl1;
        set(e, l, s * p);
        set(d, l, c * p);
      }
    }
    set(d, l, el(d, l) + f);
    set(e, l, 0);
  }
  return 0;
}

/** (a, b) ← (c·a − s·b, s·a + c·b) element by element, as svd.ts writes it (s·a + c·b first). */
// @ts-ignore: decorator
@inline function rotate(a: usize, b: usize, n: i32, c: f64, s: f64): void {
  const vc = f64x2.splat(c), vs = f64x2.splat(s);
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const pa = a + (<usize>k << 3), pb = b + (<usize>k << 3);
    const va = v128.load(pa), vb = v128.load(pb);
    v128.store(pb, f64x2.add(f64x2.mul(vs, va), f64x2.mul(vc, vb)));
    v128.store(pa, f64x2.sub(f64x2.mul(vc, va), f64x2.mul(vs, vb)));
  }
  for (; k < n; k++) {
    const va = el(a, k), vb = el(b, k);
    set(b, k, s * va + c * vb);
    set(a, k, c * va - s * vb);
  }
}

/**
 * Eigenvalues (descending, ties by index) into `values` and eigenvectors as the columns of `vectors` of the
 * symmetric n×n `a` (row-major f64, overwritten); scratch: 2n + n² f64 and n i32. Returns 0, or 1 if the QL
 * iteration did not converge.
 */
export function symmetricEigen(a: usize, n: i32, values: usize, vectors: usize, scratch: usize): i32 {
  const d = scratch, e = d + (<usize>n << 3), vt = e + (<usize>n << 3), order = vt + (<usize>(n * n) << 3);
  tridiagonalize(a, d, e, n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) set(vt, i * n + k, el(a, k * n + i));
  if (diagonalizeTridiagonal(vt, d, e, n)) return 1;
  for (let i = 0; i < n; i++) {
    let k = i;
    for (; k > 0; k--) {
      const o = load<i32>(order + (<usize>(k - 1) << 2));
      const diff = el(d, i) - el(d, o);
      // as svd.ts: (d[i] − d[o] || o − i) > 0, where NaN and 0 fall through to the index order
      if (!(diff > 0) && (diff < 0 || o - i <= 0)) break;
      store<i32>(order + (<usize>k << 2), o);
    }
    store<i32>(order + (<usize>k << 2), i);
  }
  for (let dst = 0; dst < n; dst++) {
    const src = load<i32>(order + (<usize>dst << 2));
    set(values, dst, el(d, src));
    for (let k = 0; k < n; k++) set(vectors, k * n + dst, el(vt, src * n + k));
  }
  return 0;
}
