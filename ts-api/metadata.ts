// Auxiliary metadata (SPEC §2) from train interactions, with sparse set operations: Jaccard similarities
// are only visited for pairs that share at least one neighbour (co-occurrence through the bipartite graph),
// so the cost is Σ over shared neighbours rather than the reference's O(n²) set comparisons.
import { buildCsr, transposeCsr, type Csr } from './data/csr.js';

export interface AuxMetadata {
  dim: number;
  /** m_kg: n_item × dim, mean of iEmbeds_pt over each item's top-K Jaccard neighbours. */
  itemKnowledge: Float32Array;
  /** m_soc: n_item × dim, mean of the users' social vectors p̃_u over each item's train users. */
  itemSocial: Float32Array;
  /** p̃_u: n_user × dim. */
  userSocial: Float32Array;
}

export interface MetadataInput {
  nUser: number;
  nItem: number;
  /** Train pairs (dense ids); repeats are ignored, as with the reference's Python sets. */
  users: ArrayLike<number>;
  items: ArrayLike<number>;
  uEmbedsPt: Float32Array;
  iEmbedsPt: Float32Array;
  /** Vector width (default 64). */
  dim?: number;
  /** Knowledge neighbours per item (default 20). */
  topK?: number;
}

/** Jaccard |a∩b| / (|a∪b| + 1e-8) in float64, stored as float32 like the reference's similarity matrices. */
export function jaccard(intersection: number, sizeA: number, sizeB: number): number {
  return Math.fround(intersection / (sizeA + sizeB - intersection + 1e-8));
}

/** Calls `visit(a, others, sims, count)` for every row a of `rows` (a's neighbour lists; `cols` is the
 * transpose) with the rows sharing a neighbour with a (≠ a, unordered) and their float32 Jaccard values.
 * The buffers are reused between calls: copy what you keep. */
export function forEachJaccardRow(
  rows: Csr, cols: Csr,
  visit: (a: number, others: Int32Array, sims: Float64Array, count: number) => void,
): void {
  const n = rows.nRows;
  const counter = new Int32Array(n); // dense co-occurrence counter, reset through `touched`
  const touched = new Int32Array(n);
  const sims = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    let count = 0;
    const sizeA = rows.indptr[a + 1] - rows.indptr[a];
    for (let p = rows.indptr[a]; p < rows.indptr[a + 1]; p++) {
      const mid = rows.indices[p];
      for (let q = cols.indptr[mid]; q < cols.indptr[mid + 1]; q++) {
        const b = cols.indices[q];
        if (b === a) continue;
        if (counter[b]++ === 0) touched[count++] = b;
      }
    }
    for (let t = 0; t < count; t++) {
      const b = touched[t];
      sims[t] = jaccard(counter[b], sizeA, rows.indptr[b + 1] - rows.indptr[b]);
      counter[b] = 0;
    }
    visit(a, touched, sims, count);
  }
}

/** Top-k of (others, sims) by similarity, ties to the lower id; returns the number kept (written to `outIdx`). */
export function topKByJaccard(others: Int32Array, sims: Float64Array, count: number, k: number, outIdx: Int32Array, outSim: Float64Array): number {
  let kept = 0;
  for (let t = 0; t < count; t++) {
    const v = sims[t];
    const id = others[t];
    if (kept === k && (v < outSim[k - 1] || (v === outSim[k - 1] && id > outIdx[k - 1]))) continue;
    let pos = kept < k ? kept++ : k - 1; // insertion sort into the descending buffer
    while (pos > 0 && (outSim[pos - 1] < v || (outSim[pos - 1] === v && outIdx[pos - 1] > id))) {
      outSim[pos] = outSim[pos - 1];
      outIdx[pos] = outIdx[pos - 1];
      pos--;
    }
    outSim[pos] = v;
    outIdx[pos] = id;
  }
  return kept;
}

function copyRow(dst: Float32Array, src: Float32Array, dstRow: number, srcRow: number, dim: number): void {
  dst.set(src.subarray(srcRow * dim, (srcRow + 1) * dim), dstRow * dim);
}

/** m_kg(i) = mean of iEmbeds_pt[j] over the top-K items j by Jaccard(N_i, N_j) > 0 (ties to lower id);
 * iEmbeds_pt[i] when i has no such neighbour. */
export function itemKnowledgeEmbeddings(itemUsers: Csr, userItems: Csr, iEmbedsPt: Float32Array, dim = 64, topK = 20): Float32Array {
  const nItem = itemUsers.nRows;
  const out = new Float32Array(nItem * dim);
  const idx = new Int32Array(topK);
  const sim = new Float64Array(topK);
  const acc = new Float64Array(dim);
  forEachJaccardRow(itemUsers, userItems, (i, others, sims, count) => {
    const kept = topKByJaccard(others, sims, count, topK, idx, sim);
    if (kept === 0) return copyRow(out, iEmbedsPt, i, i, dim);
    acc.fill(0);
    for (let t = 0; t < kept; t++) {
      const base = idx[t] * dim;
      for (let d = 0; d < dim; d++) acc[d] += iEmbedsPt[base + d];
    }
    for (let d = 0; d < dim; d++) out[i * dim + d] = acc[d] / kept;
  });
  return out;
}

/** acc = Σ_t sims[t]·emb[others[t]] (the hot loop of the social metadata: Σ over all co-occurring user
 * pairs × dim); returns Σ_t sims[t]. */
function weightedRowSum(acc: Float64Array, emb: Float32Array, others: Int32Array, sims: Float64Array, count: number, dim: number): number {
  acc.fill(0);
  let total = 0;
  for (let t = 0; t < count; t++) {
    const w = sims[t];
    total += w;
    const base = others[t] * dim;
    for (let d = 0; d < dim; d++) acc[d] += w * emb[base + d];
  }
  return total;
}

/** p̃_u = ½(uEmbeds_pt[u] + Σ_v J(u,v)·uEmbeds_pt[v] / Σ_v J(u,v)); uEmbeds_pt[u] when the sum is 0. */
export function userSocialEmbeddings(userItems: Csr, itemUsers: Csr, uEmbedsPt: Float32Array, dim = 64): Float32Array {
  const out = new Float32Array(uEmbedsPt.subarray(0, userItems.nRows * dim));
  const acc = new Float64Array(dim);
  forEachJaccardRow(userItems, itemUsers, (u, others, sims, count) => {
    const total = weightedRowSum(acc, uEmbedsPt, others, sims, count, dim);
    if (!(total > 0)) return;
    for (let d = 0; d < dim; d++) out[u * dim + d] = (uEmbedsPt[u * dim + d] + acc[d] / total) / 2;
  });
  return out;
}

/** m_soc(i) = mean of p̃_u over the train users u of i; iEmbeds_pt[i] for an item without train users. */
export function itemSocialEmbeddings(itemUsers: Csr, userSocial: Float32Array, iEmbedsPt: Float32Array, dim = 64): Float32Array {
  const nItem = itemUsers.nRows;
  const out = new Float32Array(nItem * dim);
  const acc = new Float64Array(dim);
  for (let i = 0; i < nItem; i++) {
    const start = itemUsers.indptr[i];
    const end = itemUsers.indptr[i + 1];
    if (start === end) {
      copyRow(out, iEmbedsPt, i, i, dim);
      continue;
    }
    acc.fill(0);
    for (let p = start; p < end; p++) {
      const base = itemUsers.indices[p] * dim;
      for (let d = 0; d < dim; d++) acc[d] += userSocial[base + d];
    }
    for (let d = 0; d < dim; d++) out[i * dim + d] = acc[d] / (end - start);
  }
  return out;
}

/** Computes all SPEC §2 metadata from train pairs and pretrained vectors. */
export function computeMetadata(input: MetadataInput): AuxMetadata {
  const dim = input.dim ?? 64;
  const { nUser, nItem } = input;
  if (input.uEmbedsPt.length !== nUser * dim) throw new Error(`metadata: uEmbeds_pt has ${input.uEmbedsPt.length} values, expected ${nUser}×${dim}`);
  if (input.iEmbedsPt.length !== nItem * dim) throw new Error(`metadata: iEmbeds_pt has ${input.iEmbedsPt.length} values, expected ${nItem}×${dim}`);
  const userItems = buildCsr(input.users, input.items, nUser, nItem);
  const itemUsers = transposeCsr(userItems);
  const userSocial = userSocialEmbeddings(userItems, itemUsers, input.uEmbedsPt, dim);
  return {
    dim,
    itemKnowledge: itemKnowledgeEmbeddings(itemUsers, userItems, input.iEmbedsPt, dim, input.topK ?? 20),
    itemSocial: itemSocialEmbeddings(itemUsers, userSocial, input.iEmbedsPt, dim),
    userSocial,
  };
}
