// Top-K ranking metrics (SPEC §6): Precision, Recall, NDCG (binary gains, IDCG over min(|gt|, K)) and MRR,
// computed with the reference's exact float64 operation order so that its rounded figures are reproduced.

export const TOP_KS: readonly number[] = [10, 20, 50, 100];

/** One value per K (aligned with the `ks` the metrics were computed for). */
export interface TopKMetrics {
  ks: number[];
  precision: number[];
  recall: number[];
  ndcg: number[];
  mrr: number[];
}

/** Ground truth of one user: its relevant item ids, or null (no ground truth). */
export type GroundTruth = ArrayLike<number> | null;

/** Top-N recommendations of many users: row u of a row-major nUsers × n matrix, or one list per user. */
export type TopLists = { data: ArrayLike<number>; n: number } | ArrayLike<number>[];

// 1/log2(j+2) for rank j (0-based); Math.log2 is exact at powers of two and agrees with CPython's
// math.log2 on the golden fixture's every scalar.
const discountCache: number[] = [];
function discount(j: number): number {
  let v = discountCache[j];
  if (v === undefined) discountCache[j] = v = 1.0 / Math.log2(j + 2);
  return v;
}

function rowOf(top: TopLists, u: number): ArrayLike<number> {
  if (Array.isArray(top)) return top[u];
  const { data, n } = top as { data: ArrayLike<number>; n: number };
  if (ArrayBuffer.isView(data)) return (data as Int32Array).subarray(u * n, (u + 1) * n);
  return Array.prototype.slice.call(data, u * n, (u + 1) * n) as number[];
}

function userCount(top: TopLists): number {
  if (Array.isArray(top)) return top.length;
  const t = top as { data: ArrayLike<number>; n: number };
  return t.data.length / t.n;
}

interface UserScores { hits: number; precision: number; recall: number; ndcg: number; mrr: number }

/** Metrics of one user at cut-off K, in the reference's operation order. The ground truth is a list;
 * membership is tested per predicted item like Python's `in`, so repeated predictions count again. */
export function userMetricsAtK(top: ArrayLike<number>, gt: ArrayLike<number>, k: number, gtSet?: Set<number>): UserScores {
  if (top.length < k) throw new Error(`metrics: top list has ${top.length} items, K = ${k} needs at least ${k}`);
  const relevant = gtSet ?? new Set(Array.from(gt));
  let hits = 0;
  let dcg = 0;
  let idcg = 0;
  let idcgCount = gt.length;
  let mrr = 0;
  for (let j = 0; j < k; j++) {
    if (relevant.has(top[j])) {
      dcg += discount(j);
      if (hits === 0) mrr = 1.0 / (j + 1.0);
      hits++;
    }
    if (idcgCount > 0) {
      idcg += discount(j);
      idcgCount--;
    }
  }
  return { hits, precision: hits / k, recall: hits / gt.length, ndcg: idcg !== 0 ? dcg / idcg : 0, mrr };
}

/** The reference's computeTopNAccuracy over a group of users: per K, the sum over users with ground truth
 * of each metric divided by the number of ALL users in the group (users with null ground truth count in
 * the denominator), rounded to 4 decimals like Python's round() unless `round` is false. */
export function computeTopNAccuracy(gts: GroundTruth[], top: TopLists, ks: readonly number[] = TOP_KS, round = true): TopKMetrics {
  const n = userCount(top);
  if (gts.length !== n) throw new Error(`metrics: ${gts.length} ground-truth lists for ${n} top lists`);
  const out: TopKMetrics = { ks: [...ks], precision: [], recall: [], ndcg: [], mrr: [] };
  const rows = Array.from({ length: n }, (_, u) => rowOf(top, u));
  const sets = gts.map((g) => (g ? new Set(Array.from(g)) : null));
  const r = round ? (x: number) => pyRound(x, 4) : (x: number) => x;
  for (const k of ks) {
    let sp = 0, sr = 0, sn = 0, sm = 0;
    for (let u = 0; u < n; u++) {
      const g = gts[u];
      if (g === null) continue;
      if (g.length === 0) throw new Error(`metrics: user ${u} has an empty ground-truth list (the reference divides by zero); pass null to skip it`);
      const s = userMetricsAtK(rows[u], g, k, sets[u]!);
      sp += s.precision;
      sr += s.recall;
      sn += s.ndcg;
      sm += s.mrr;
    }
    out.precision.push(r(sp / n));
    out.recall.push(r(sr / n));
    out.ndcg.push(r(sn / n));
    out.mrr.push(r(sm / n));
  }
  return out;
}

/** `honest` protocol: plain per-user means over the users that have ground truth (null ones are skipped
 * and not counted), unrounded. */
export function perUserMeanMetrics(gts: GroundTruth[], top: TopLists, ks: readonly number[] = TOP_KS): TopKMetrics {
  const keep: number[] = [];
  gts.forEach((g, u) => { if (g !== null && g.length > 0) keep.push(u); });
  if (keep.length === 0) throw new Error('metrics: no user has ground truth');
  return computeTopNAccuracy(keep.map((u) => gts[u]), keep.map((u) => rowOf(top, u)), ks, false);
}

/** `reference` protocol: users in the given order are cut into batches of `batchSize`; each batch gets
 * computeTopNAccuracy (rounded to 4 decimals); the result is the sum of those batch values divided by the
 * number of batches (the reference's testEpoch). */
export function batchedReferenceMetrics(gts: GroundTruth[], top: TopLists, batchSize = 2000, ks: readonly number[] = TOP_KS): TopKMetrics {
  const n = userCount(top);
  if (n === 0) throw new Error('metrics: no users');
  const sum: TopKMetrics = { ks: [...ks], precision: ks.map(() => 0), recall: ks.map(() => 0), ndcg: ks.map(() => 0), mrr: ks.map(() => 0) };
  let batches = 0;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const rows = Array.from({ length: end - start }, (_, k) => rowOf(top, start + k));
    const m = computeTopNAccuracy(gts.slice(start, end), rows, ks, true);
    for (const key of ['precision', 'recall', 'ndcg', 'mrr'] as const) m[key].forEach((v, i) => { sum[key][i] += v; });
    batches++;
  }
  for (const key of ['precision', 'recall', 'ndcg', 'mrr'] as const) sum[key] = sum[key].map((v) => v / batches);
  return sum;
}

/** Python's round(x, digits) for floats: the exact binary value rounded to `digits` decimals, exact ties to
 * even (Math.round(x·10^d)/10^d differs when x·10^d itself rounds across .5). */
export function pyRound(x: number, digits: number): number {
  if (!Number.isFinite(x) || digits > 20) return x;
  const fixed = Number(x.toFixed(digits)); // nearest on the exact value, ties away from zero
  // Exact tie test with BigInt: x = mant·2^exp; tie iff frac(|x|·10^d) == 1/2 exactly.
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const bits = buf.getBigUint64(0);
  const bexp = Number((bits >> 52n) & 0x7ffn);
  const mant = (bits & 0xfffffffffffffn) | (bexp ? 1n << 52n : 0n);
  const exp = (bexp || 1) - 1075;
  if (exp >= 0 || mant === 0n) return fixed;
  const scaled = mant * 10n ** BigInt(digits); // |x|·10^d = scaled / 2^-exp
  const denom = 1n << BigInt(-exp);
  if ((scaled % denom) * 2n !== denom) return fixed;
  const floor = scaled / denom; // tie: pick the even neighbour
  const pick = floor % 2n === 0n ? floor : floor + 1n;
  return Math.sign(x) * Number(pick) / 10 ** digits;
}
