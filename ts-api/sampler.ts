/** Training batches: shuffled train pairs with one uniformly drawn negative each (SPEC §1). */
import type { Random } from '../engine/index.js';
import { csrHas, csrRowLength, type Csr } from './data/csr.js';
import type { Interactions } from './data/dataset.js';
import type { Batch } from './infodcl/model.js';

/**
 * One epoch of batches: all train pairs in a random order, each with an item j the user has not
 * interacted with in train (rejection sampling against the user's sorted train items).
 */
export function* epochBatches(train: Interactions, userItems: Csr, nItem: number, batchSize: number, rng: Random): Generator<Batch> {
  const n = train.users.length;
  const order = rng.permutation(n);
  for (let start = 0; start < n; start += batchSize) {
    const idx = order.subarray(start, Math.min(n, start + batchSize));
    const users = Int32Array.from(idx, (k) => train.users[k]);
    const pos = Int32Array.from(idx, (k) => train.items[k]);
    const neg = new Int32Array(idx.length);
    users.forEach((u, r) => { neg[r] = sampleNegative(userItems, u, nItem, rng); });
    yield { users, pos, neg };
  }
}

function sampleNegative(userItems: Csr, u: number, nItem: number, rng: Random): number {
  if (csrRowLength(userItems, u) >= nItem) throw new Error(`sampler: user ${u} has interacted with every item, so no negative exists`);
  for (;;) {
    const j = rng.below(nItem);
    if (!csrHas(userItems, u, j)) return j;
  }
}
