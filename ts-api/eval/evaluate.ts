/**
 * Full-ranking evaluation (SPEC §6): LightGCN propagation of the learned embeddings, scores of every
 * item for every evaluated user, the top 100 after masking the user's known items, and the metrics.
 */
import {
  affine, add, concat, CsrMatrix, matmul, slice, spmm, type Tensor, tidy, topk, gatherRows, tensor,
} from '../../engine/index.js';
import { buildCsr, csrHas, csrRow, type Csr } from '../data/csr.js';
import type { Dataset, Interactions } from '../data/dataset.js';
import { normalizedAdjacency } from '../data/graph.js';
import { batchedReferenceMetrics, perUserMeanMetrics, TOP_KS, type TopKMetrics } from './metrics.js';

export type Protocol = 'honest' | 'reference';

/** Metrics keyed as `recall@20`, `ndcg@10`, … */
export type MetricTable = Record<string, number>;

export function metricTable(m: TopKMetrics): MetricTable {
  const out: MetricTable = {};
  m.ks.forEach((k, i) => {
    out[`recall@${k}`] = m.recall[i];
    out[`ndcg@${k}`] = m.ndcg[i];
    out[`precision@${k}`] = m.precision[i];
    out[`mrr@${k}`] = m.mrr[i];
  });
  return out;
}

/** Â of the train graph, on the backend (symmetric, so it is its own transpose). */
export function trainGraph(ds: Dataset): CsrMatrix {
  const a = normalizedAdjacency(ds.nUser, ds.nItem, ds.train.users, ds.train.items);
  return CsrMatrix.fromHost(a.n, a.n, a.indptr, a.indices, a.values, true);
}

/** LightGCN: the mean of X_0..X_L with X_{l+1} = Â·X_l over the stacked [users; items] embeddings. */
export function propagate(users: Tensor, items: Tensor, graph: CsrMatrix, layers: number): { users: Tensor; items: Tensor } {
  return tidy(() => {
    const nUser = users.shape[0];
    let x = concat([users, items], 0);
    let acc = x;
    for (let l = 0; l < layers; l++) {
      x = spmm(graph, x);
      acc = add(acc, x);
    }
    const mean = affine(acc, 1 / (layers + 1));
    const d = users.shape[1];
    return {
      users: slice(mean, [0, 0], [nUser, d]),
      items: slice(mean, [nUser, 0], [items.shape[0], d]),
    };
  });
}

/**
 * Top-`k` item ids for each of `userIds` by u·e, skipping each user's `exclude` items: the backend takes
 * the top k + (most excluded items in the batch), and the host drops the excluded ones, so no dense mask
 * is ever built. Row-major [userIds.length × k].
 */
export async function rankItems(users: Tensor, items: Tensor, userIds: Int32Array, exclude: Csr[], k = 100, batchSize = 2000): Promise<Int32Array> {
  const nItem = items.shape[0];
  const out = new Int32Array(userIds.length * k).fill(-1);
  for (let start = 0; start < userIds.length; start += batchSize) {
    const ids = userIds.subarray(start, Math.min(userIds.length, start + batchSize));
    let extra = 0;
    for (const u of ids) extra = Math.max(extra, exclude.reduce((n, c) => n + c.indptr[u + 1] - c.indptr[u], 0));
    const kk = Math.min(nItem, k + extra);
    const top = tidy(() => {
      const scores = matmul(gatherRows(users, tensor(ids)), items, { transB: true });
      return topk(scores, kk).indices;
    });
    const idx = await top.data() as Int32Array;
    top.dispose();
    ids.forEach((u, r) => {
      let w = 0;
      for (let j = 0; j < kk && w < k; j++) {
        const item = idx[r * kk + j];
        if (exclude.some((c) => csrHas(c, u, item))) continue;
        out[(start + r) * k + w++] = item;
      }
    });
  }
  return out;
}

export function splitCsr(ds: Dataset, split: Interactions): Csr {
  return buildCsr(split.users, split.items, ds.nUser, ds.nItem);
}

/**
 * Ranks all items for every user with ground truth in `target` (in user-id order) and computes the
 * metrics: per-user means (`honest`) or the reference's mean of rounded batch means.
 */
export async function evaluateRanking(users: Tensor, items: Tensor, ds: Dataset, target: Csr, exclude: Csr[], protocol: Protocol): Promise<MetricTable> {
  const ids: number[] = [];
  for (let u = 0; u < ds.nUser; u++) if (target.indptr[u + 1] > target.indptr[u]) ids.push(u);
  const userIds = Int32Array.from(ids);
  const k = Math.min(100, ds.nItem);
  const top = await rankItems(users, items, userIds, exclude, k);
  const gts = ids.map((u) => csrRow(target, u));
  const ks = TOP_KS.filter((x) => x <= k);
  const lists = { data: top, n: k };
  return metricTable(protocol === 'reference' ? batchedReferenceMetrics(gts, lists, 2000, ks) : perUserMeanMetrics(gts, lists, ks));
}
