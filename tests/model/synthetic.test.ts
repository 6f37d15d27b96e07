// Synthetic dataset generator: determinism, shapes, splits, planted signal, folder round trip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic, writeSyntheticDataset } from '../../ts-api/data/synthetic.js';
import { loadDataset, type Dataset } from '../../ts-api/data/dataset.js';
import { buildCsr, csrRow } from '../../ts-api/data/csr.js';
import { perUserMeanMetrics } from '../../ts-api/eval/metrics.js';

const ds = generateSynthetic();
const scratch = mkdtempSync(join(tmpdir(), 'infodcl-synth-'));

function perUserCounts(d: Dataset, split: 'train' | 'valid' | 'test'): Int32Array {
  const c = new Int32Array(d.nUser);
  for (const u of d[split].users) c[u]++;
  return c;
}

/** Top-n items by score, excluding `seen`, ties to the lower id. */
function topN(scores: Float64Array, seen: Int32Array, n: number): number[] {
  const s = Float64Array.from(scores);
  for (const i of seen) s[i] = -Infinity;
  return Array.from(s.keys()).sort((a, b) => s[b] - s[a] || a - b).slice(0, n);
}

test('deterministic for a seed, different for another', () => {
  const again = generateSynthetic();
  assert.equal(again.train, ds.train);
  assert.equal(again.test, ds.test);
  assert.equal(again.iEmbedsPt, ds.iEmbedsPt);
  const other = generateSynthetic({ seed: 8 });
  assert.not.equal(other.train.items, ds.train.items);
});

test('shapes, raw ids 0..n-1, every user has train/valid/test items, ~8:1:1 split', () => {
  assert.is(ds.nUser, 1500);
  assert.is(ds.nItem, 800);
  assert.ok(ds.rawUserIds.every((r, k) => r === k) && ds.rawItemIds.every((r, k) => r === k));
  assert.is(ds.uEmbedsPt!.length, 1500 * 64);
  assert.is(ds.iEmbedsPt!.length, 800 * 64);
  assert.is(ds.truth.userCommunity.length, 1500);
  const [tr, va, te] = (['train', 'valid', 'test'] as const).map((s) => perUserCounts(ds, s));
  for (let u = 0; u < ds.nUser; u++) {
    assert.ok(tr[u] >= 3 && va[u] >= 1 && te[u] >= 1, `user ${u}: ${tr[u]}/${va[u]}/${te[u]}`);
  }
  const total = ds.train.users.length + ds.valid.users.length + ds.test.users.length;
  assert.ok(total / ds.nUser > 20 && total / ds.nUser < 30, `mean ${total / ds.nUser} per user`);
  assert.ok(Math.abs(ds.train.users.length / total - 0.8) < 0.03);
  // No pair is in two splits.
  const seen = new Set<number>();
  for (const s of ['train', 'valid', 'test'] as const) {
    ds[s].users.forEach((u, k) => {
      const key = u * ds.nItem + ds[s].items[k];
      assert.not.ok(seen.has(key));
      seen.add(key);
    });
  }
});

test('planted structure: collaborative filtering clearly beats popularity', () => {
  const ui = buildCsr(ds.train.users, ds.train.items, ds.nUser, ds.nItem);
  const pop = new Float64Array(ds.nItem);
  for (const i of ds.train.items) pop[i]++;
  // Item-item cosine on train co-occurrence (dense, 800 × 800).
  const sim = new Float64Array(ds.nItem * ds.nItem);
  for (let u = 0; u < ds.nUser; u++) {
    const row = csrRow(ui, u);
    for (const i of row) for (const j of row) if (i !== j) sim[i * ds.nItem + j]++;
  }
  for (let i = 0; i < ds.nItem; i++) for (let j = 0; j < ds.nItem; j++) sim[i * ds.nItem + j] /= Math.sqrt(pop[i] * pop[j]) || 1;
  const test = buildCsr(ds.test.users, ds.test.items, ds.nUser, ds.nItem);
  const gts = Array.from({ length: ds.nUser }, (_, u) => csrRow(test, u));
  const popTop = gts.map((_, u) => topN(pop, csrRow(ui, u), 20));
  const knnTop = gts.map((_, u) => {
    const s = new Float64Array(ds.nItem);
    for (const i of csrRow(ui, u)) for (let j = 0; j < ds.nItem; j++) s[j] += sim[i * ds.nItem + j];
    return topN(s, csrRow(ui, u), 20);
  });
  const rPop = perUserMeanMetrics(gts, popTop, [20]).recall[0];
  const rKnn = perUserMeanMetrics(gts, knnTop, [20]).recall[0];
  assert.ok(rKnn > 1.5 * rPop, `item-kNN Recall@20 ${rKnn.toFixed(3)} vs popularity ${rPop.toFixed(3)}`);
  // Side vectors carry the category signal: same-category items are closer than others on average.
  const cat = ds.truth.itemCategory;
  const dot = (a: number, b: number) => { let s = 0; for (let d = 0; d < 64; d++) s += ds.iEmbedsPt![a * 64 + d] * ds.iEmbedsPt![b * 64 + d]; return s; };
  let same = 0, diff = 0, nSame = 0, nDiff = 0;
  for (let a = 0; a < 200; a++) for (let b = a + 1; b < 200; b++) {
    if (cat[a] === cat[b]) { same += dot(a, b); nSame++; } else { diff += dot(a, b); nDiff++; }
  }
  assert.ok(same / nSame > diff / nDiff + 0.3, `same-category ${same / nSame} vs ${diff / nDiff}`);
});

test('written folder loads back to the same dataset', () => {
  const dir = join(scratch, 'small');
  const small = writeSyntheticDataset(dir, { nUser: 60, nItem: 50, seed: 3 });
  const back = loadDataset(dir, { log: () => {} });
  assert.is(back.nUser, small.nUser);
  assert.is(back.nItem, small.nItem);
  for (const s of ['train', 'valid', 'test'] as const) assert.equal(back[s], small[s], s);
  assert.equal(back.uEmbedsPt, small.uEmbedsPt);
  assert.equal(back.iEmbedsPt, small.iEmbedsPt);
  assert.is(back.validCarved, false);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
