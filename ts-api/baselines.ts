/**
 * Baselines on the same engine and evaluation: MostPop, MF-BPR and LightGCN (propagation in training).
 * Defaults follow the LightGCN paper (He et al., SIGIR 2020) and its released code: d = 64,
 * N(0, 0.1²) init, Adam lr 1e-3, L2 λ = 1e-4 on the batch's ego embeddings, batch 2048, L = 3 layers.
 */
import { add, affine, type CsrMatrix, Embedding, gatherRows, type Random, square, sum, tensor, type Tensor } from '../engine/index.js';
import type { Dataset } from './data/dataset.js';
import { propagate, trainGraph } from './eval/evaluate.js';
import { bprLoss } from './infodcl/losses.js';
import type { Batch } from './infodcl/model.js';
import type { Recommender } from './train.js';

export const BASELINE_DEFAULTS = { dim: 64, lr: 1e-3, l2: 1e-4, batchSize: 2048, layers: 3, initStd: 0.1 };

/** Ranks every item by its number of train interactions. */
export class MostPop implements Recommender {
  readonly name = 'MostPop';
  constructor(private readonly ds: Dataset) {}
  parameters(): Tensor[] { return []; }
  async batchLoss(): Promise<never> { throw new Error('MostPop has nothing to train'); }
  representations(): { users: Tensor; items: Tensor } {
    const counts = new Float32Array(this.ds.nItem);
    for (const i of this.ds.train.items) counts[i]++;
    // u·e = count(e) for every user: a one-dimensional "embedding".
    return { users: tensor(new Float32Array(this.ds.nUser).fill(1), [this.ds.nUser, 1]), items: tensor(counts, [this.ds.nItem, 1]) };
  }
  dispose(): void {}
}

function l2Reg(rows: Tensor[], batch: number, l2: number): Tensor {
  return affine(rows.map((r) => sum(square(r))).reduce((a, b) => add(a, b)), l2 / (2 * batch));
}

/** Matrix factorisation with the BPR loss. */
export class MfBpr implements Recommender {
  readonly name = 'MF-BPR';
  readonly users: Embedding;
  readonly items: Embedding;

  constructor(ds: Dataset, rng: Random, readonly opts = BASELINE_DEFAULTS) {
    this.users = new Embedding(ds.nUser, opts.dim, rng, opts.initStd);
    this.items = new Embedding(ds.nItem, opts.dim, rng, opts.initStd);
  }

  parameters(): Tensor[] { return [this.users.weight, this.items.weight]; }

  async batchLoss(b: Batch) {
    const u = gatherRows(this.users.weight, tensor(b.users));
    const p = gatherRows(this.items.weight, tensor(b.pos));
    const n = gatherRows(this.items.weight, tensor(b.neg));
    const bpr = bprLoss(u, p, n);
    const reg = l2Reg([u, p, n], b.pos.length, this.opts.l2);
    return { total: add(bpr, reg), bpr, reg };
  }

  representations() {
    return { users: affine(this.users.weight, 1), items: affine(this.items.weight, 1) };
  }

  dispose(): void { this.users.dispose(); this.items.dispose(); }
}

/** LightGCN: BPR on propagated embeddings, L2 on the ego embeddings. */
export class LightGcn implements Recommender {
  readonly name = 'LightGCN';
  readonly users: Embedding;
  readonly items: Embedding;
  private readonly graph: CsrMatrix;

  constructor(private readonly ds: Dataset, rng: Random, readonly opts = BASELINE_DEFAULTS) {
    this.users = new Embedding(ds.nUser, opts.dim, rng, opts.initStd);
    this.items = new Embedding(ds.nItem, opts.dim, rng, opts.initStd);
    this.graph = trainGraph(ds);
  }

  parameters(): Tensor[] { return [this.users.weight, this.items.weight]; }

  async batchLoss(b: Batch) {
    const { users, items } = propagate(this.users.weight, this.items.weight, this.graph, this.opts.layers);
    const ids = [tensor(b.users), tensor(b.pos), tensor(b.neg)];
    const [u, p, n] = [gatherRows(users, ids[0]), gatherRows(items, ids[1]), gatherRows(items, ids[2])];
    const bpr = bprLoss(u, p, n);
    const ego = [gatherRows(this.users.weight, ids[0]), gatherRows(this.items.weight, ids[1]), gatherRows(this.items.weight, ids[2])];
    const reg = l2Reg(ego, b.pos.length, this.opts.l2);
    return { total: add(bpr, reg), bpr, reg };
  }

  representations() {
    return propagate(this.users.weight, this.items.weight, this.graph, this.opts.layers);
  }

  dispose(): void { this.users.dispose(); this.items.dispose(); this.graph.dispose(); }
}
