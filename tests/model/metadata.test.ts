// SPEC §2 metadata against the golden `metadata` case and the files shipped with Office.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGolden } from '../golden.js';
import {
  computeMetadata, forEachJaccardRow, itemKnowledgeEmbeddings, jaccard, topKByJaccard,
} from '../../ts-api/metadata.js';
import { buildCsr, transposeCsr } from '../../ts-api/data/csr.js';
import { loadDataset } from '../../ts-api/data/dataset.js';
import { readNpy } from '../../ts-api/data/npy.js';

const officeDir = fileURLToPath(new URL('../../../shared/datasets/office', import.meta.url));
const g = loadGolden('metadata');
const nUser = g.config.n_user as number;
const nItem = g.config.n_item as number;
const pairs = g.tensors['in.interactions'].data;
const users = Int32Array.from({ length: pairs.length / 2 }, (_, k) => pairs[2 * k]);
const items = Int32Array.from({ length: pairs.length / 2 }, (_, k) => pairs[2 * k + 1]);
const userItems = buildCsr(users, items, nUser, nItem);
const itemUsers = transposeCsr(userItems);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

/** Dense similarity matrix from the sparse rows (for comparison with the reference's dense one). */
function denseSimilarity(rows: typeof userItems, cols: typeof userItems): Float32Array {
  const n = rows.nRows;
  const out = new Float32Array(n * n);
  forEachJaccardRow(rows, cols, (a, others, sims, count) => {
    for (let t = 0; t < count; t++) out[a * n + others[t]] = sims[t];
  });
  return out;
}

test('golden: sparse Jaccard equals the reference float32 similarity matrices exactly', () => {
  assert.equal(Array.from(denseSimilarity(itemUsers, userItems)), Array.from(g.tensors['out.item_sim'].data));
  assert.equal(Array.from(denseSimilarity(userItems, itemUsers)), Array.from(g.tensors['out.user_sim'].data));
  assert.is(jaccard(1, 2, 2), Math.fround(1 / (3 + 1e-8)));
});

test('golden: knowledge, item social and user social embeddings', () => {
  const m = computeMetadata({
    nUser, nItem, users, items,
    uEmbedsPt: g.tensors['in.uEmb_pt'].data as Float32Array,
    iEmbedsPt: g.tensors['in.iEmb_pt'].data as Float32Array,
  });
  // README tolerance for this case: f32 vs f64 max_abs ~8e-8 at scale ~2; allow 10x.
  assert.ok(maxAbsDiff(m.itemKnowledge, g.tensors['out.item_knowledge_emb'].data) < 1e-6);
  assert.ok(maxAbsDiff(m.itemSocial, g.tensors['out.item_social_emb'].data) < 1e-6);
  assert.ok(maxAbsDiff(m.userSocial, g.tensors['out.u_social_emb'].data) < 1e-6);
});

test('golden: selected top-20 neighbour sets equal torch.topk\'s (positive similarities only)', () => {
  const topIdx = g.tensors['out.topk_indices'].data;
  const topVal = g.tensors['out.topk_values'].data;
  const idx = new Int32Array(20);
  const sim = new Float64Array(20);
  let checked = 0;
  forEachJaccardRow(itemUsers, userItems, (i, others, sims, count) => {
    const kept = topKByJaccard(others, sims, count, 20, idx, sim);
    const expected = [];
    for (let r = 0; r < 20; r++) if (topVal[i * 20 + r] > 0) expected.push(topIdx[i * 20 + r]);
    assert.equal(Array.from(idx.subarray(0, kept)).sort((a, b) => a - b), expected.sort((a, b) => a - b), `item ${i}`);
    checked++;
  });
  assert.is(checked, nItem);
});

test('top-K ties are broken by the lower item id', () => {
  const others = Int32Array.from([9, 4, 7, 2, 5]);
  const sims = Float64Array.from([0.5, 0.25, 0.5, 0.25, 0.25]);
  const idx = new Int32Array(3);
  const sim = new Float64Array(3);
  assert.is(topKByJaccard(others, sims, 5, 3, idx, sim), 3);
  assert.equal(Array.from(idx), [7, 9, 2]);
  // End to end: item 0 has 3 neighbours with equal similarity, top-2 keeps the two lowest ids.
  const ui = buildCsr([0, 0, 0, 0], [0, 3, 1, 2], 1, 4);
  const iEmb = Float32Array.from([0, 0, 10, 10, 20, 20, 30, 30]);
  const kg = itemKnowledgeEmbeddings(transposeCsr(ui), ui, iEmb, 2, 2);
  assert.equal(Array.from(kg.subarray(0, 2)), [15, 15]); // mean of items 1 and 2
});

test('Office: matches the shipped item_knowledge_emb.npy and item_social_emb.npy to 1e-5 on every item, in < 2 s', () => {
  const ds = loadDataset(officeDir, { log: () => {} });
  const t0 = performance.now();
  const m = computeMetadata({
    nUser: ds.nUser, nItem: ds.nItem, users: ds.train.users, items: ds.train.items,
    uEmbedsPt: ds.uEmbedsPt!, iEmbedsPt: ds.iEmbedsPt!,
  });
  const ms = performance.now() - t0;
  const kg = readNpy(join(officeDir, 'item_knowledge_emb.npy'));
  const soc = readNpy(join(officeDir, 'item_social_emb.npy'));
  assert.equal(kg.shape, [2420, 64]);
  const worst = (a: Float32Array, b: ArrayLike<number>) => {
    let items = 0;
    for (let i = 0; i < ds.nItem; i++) {
      let e = 0;
      for (let d = 0; d < 64; d++) e = Math.max(e, Math.abs(a[i * 64 + d] - b[i * 64 + d]));
      if (e > 1e-5) items++;
    }
    return items;
  };
  assert.is(worst(m.itemKnowledge, kg.data), 0, 'items off in item_knowledge_emb');
  assert.is(worst(m.itemSocial, soc.data), 0, 'items off in item_social_emb');
  assert.ok(maxAbsDiff(m.itemKnowledge, kg.data) < 1e-6);
  assert.ok(ms < 2000, `metadata took ${ms.toFixed(0)} ms`);
});

test.run();
