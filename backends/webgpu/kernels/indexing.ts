/**
 * Row gather, deterministic scatter-add (sort, then segment sums: WGSL has no float atomics, and atomics
 * would make the summation order depend on timing), and Adam.
 *
 * ERR is a one-word error register: kernels that meet an index outside its range skip it and set a bit
 * (1: spmm, 2: gatherRows, 4: scatterAddRows); the backend reports it at the next read. Indices uploaded
 * from the host are checked before dispatch, so this only catches indices computed on the device.
 */
import { ENTRY, shader } from './common.js';

/** out[r, :] = table[idx[r], :] as raw words. Params: rows, d, tableRows. */
export const gatherSource = () => shader(
  [{ name: 'T', type: 'u32' }, { name: 'IDX', type: 'i32' }, { name: 'Y', type: 'u32', write: true },
    { name: 'ERR', type: 'atomic<u32>', write: true }],
  `${ENTRY}
  let d = pu(1);
  if (i >= pu(0) * d) { return; }
  let t = IDX[i / d];
  if (t < 0 || u32(t) >= pu(2)) { atomicOr(&ERR[0], 2u); Y[i] = 0u; return; }
  Y[i] = T[u32(t) * d + i % d];
}`);

/**
 * Keys for the sort: (idx[r], r) for r < count, (NONE, NONE) padding up to the power of two; an index
 * outside [0, outRows) becomes NONE - 1 (sorted last, never summed). Params: count, padded, outRows.
 */
export const scatterKeysSource = () => shader(
  [{ name: 'IDX', type: 'i32' }, { name: 'K', type: 'vec2<u32>', write: true }, { name: 'ERR', type: 'atomic<u32>', write: true }],
  `${ENTRY}
  if (i >= pu(1)) { return; }
  if (i >= pu(0)) { K[i] = vec2<u32>(0xffffffffu, 0xffffffffu); return; }
  let t = IDX[i];
  if (t < 0 || u32(t) >= pu(2)) { atomicOr(&ERR[0], 4u); K[i] = vec2<u32>(0xfffffffeu, i); return; }
  K[i] = vec2<u32>(u32(t), i);
}`);

/** One compare-exchange step (k, j) of a bitonic sort of (row, position) keys. Params: padded, k, j. */
export const bitonicSource = () => shader(
  [{ name: 'K', type: 'vec2<u32>', write: true }],
  `${ENTRY}
  let l = i ^ pu(2);
  if (i >= pu(0) || l <= i) { return; }
  let a = K[i];
  let b = K[l];
  let greater = a.x > b.x || (a.x == b.x && a.y > b.y);
  if (greater == ((i & pu(1)) == 0u)) { K[i] = b; K[l] = a; }
}`);

/**
 * out[row, j] = Σ src[r, j] over the sorted keys of `row` (so r ascending), found by binary search.
 * Params: outRows, d, count.
 */
export const segmentSumSource = () => shader(
  [{ name: 'K', type: 'vec2<u32>' }, { name: 'SRC', type: 'f32' }, { name: 'Y', type: 'f32', write: true }],
  `${ENTRY}
  let d = pu(1);
  if (i >= pu(0) * d) { return; }
  let row = i / d;
  let j = i % d;
  var lo = 0u;
  var hi = pu(2);
  while (lo < hi) { let mid = (lo + hi) / 2u; if (K[mid].x < row) { lo = mid + 1u; } else { hi = mid; } }
  var acc = 0.0;
  for (var e = lo; e < pu(2) && K[e].x == row; e++) { acc = acc + SRC[K[e].y * d + j]; }
  Y[i] = acc;
}`);

/**
 * torch's Adam in float32, operation by operation (fma where torch fuses). Params: n, b1, 1−b1, b2, 1−b2,
 * −lr/bc1, sqrt(bc2), eps, wd, decay (1 when weight decay is on).
 */
export const adamSource = () => shader(
  [{ name: 'Pm', type: 'f32', write: true }, { name: 'G', type: 'f32' }, { name: 'M', type: 'f32', write: true },
    { name: 'V', type: 'f32', write: true }],
  `${ENTRY}
  if (i >= pu(0)) { return; }
  let p = Pm[i];
  var g = G[i];
  if (pu(9) == 1u) { g = fmaRN_(pf(8), p, g); }
  let m = fmaRN_(pf(2), g, kp(pf(1) * M[i], 60u));
  let v = fmaRN_(kp(pf(4) * g, 61u), g, kp(pf(3) * V[i], 62u));
  let denom = sqrt(v) / pf(6) + pf(7);
  Pm[i] = p + kp(pf(5) * m, 63u) / denom;
  M[i] = m;
  V[i] = v;
}`, { math: true });
