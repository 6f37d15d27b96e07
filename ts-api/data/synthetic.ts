// Seeded synthetic implicit-feedback data with planted structure: users belong to communities, items to
// categories (community k prefers category k), item popularity is Zipf-skewed, and the pretrained-style
// side vectors carry the category / community signal plus noise. Small by default so training is fast.
import { buildDataset, writeDataset, type Dataset, type Interactions } from './dataset.js';
import { DataRng } from './rng.js';

export interface SyntheticOptions {
  nUser?: number;
  nItem?: number;
  /** Number of user communities = item categories. */
  nCommunity?: number;
  /** Mean interactions per user (log-normally spread, at least `minInteractions`). */
  meanInteractions?: number;
  minInteractions?: number;
  /** Probability that an interaction comes from the user's preferred category (else global popularity). */
  affinity?: number;
  /** Zipf exponent of item popularity. */
  popularityExponent?: number;
  /** Width of the side vectors. */
  dim?: number;
  /** Std of the noise added to the category / community centroids in the side vectors (centroid norm ≈ 1). */
  sideNoise?: number;
  seed?: number;
}

export interface SyntheticDataset extends Dataset {
  truth: { userCommunity: Int32Array; itemCategory: Int32Array; itemPopularity: Float64Array };
}

const DEFAULTS: Required<SyntheticOptions> = {
  nUser: 1500, nItem: 800, nCommunity: 8, meanInteractions: 25, minInteractions: 5,
  affinity: 0.8, popularityExponent: 0.8, dim: 64, sideNoise: 0.6, seed: 7,
};

/** Cumulative-weight sampler over a subset of ids. */
class WeightedSampler {
  private readonly cum: Float64Array;
  constructor(private readonly ids: Int32Array, weights: Float64Array) {
    this.cum = new Float64Array(ids.length);
    let s = 0;
    for (let k = 0; k < ids.length; k++) this.cum[k] = s += weights[ids[k]];
  }
  sample(rng: DataRng): number {
    const x = rng.uniform() * this.cum[this.cum.length - 1];
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return this.ids[lo];
  }
}

function balancedLabels(n: number, k: number, rng: DataRng): Int32Array {
  const labels = Int32Array.from({ length: n }, (_, i) => i % k);
  return rng.shuffle(labels);
}

function centroidVectors(count: number, dim: number, rng: DataRng): Float64Array {
  const c = new Float64Array(count * dim);
  for (let k = 0; k < c.length; k++) c[k] = rng.normal() / Math.sqrt(dim);
  return c;
}

function sideVectors(labels: Int32Array, centroids: Float64Array, dim: number, noise: number, rng: DataRng): Float32Array {
  const out = new Float32Array(labels.length * dim);
  for (let r = 0; r < labels.length; r++) {
    for (let d = 0; d < dim; d++) out[r * dim + d] = centroids[labels[r] * dim + d] + (noise * rng.normal()) / Math.sqrt(dim);
  }
  return out;
}

/** Generates a synthetic dataset (raw ids 0..n-1, every user ≥ minInteractions, every item used, per-user
 * ~8:1:1 train/valid/test split with at least one valid and one test item). Deterministic for a seed. */
export function generateSynthetic(options: SyntheticOptions = {}): SyntheticDataset {
  const o = { ...DEFAULTS, ...options };
  if (o.minInteractions < 5) throw new Error('synthetic: minInteractions must be at least 5 (train/valid/test each need items)');
  if (o.nItem < 2 * o.minInteractions) throw new Error('synthetic: too few items for minInteractions');
  const rng = new DataRng(o.seed);
  const itemCategory = balancedLabels(o.nItem, o.nCommunity, rng);
  const userCommunity = balancedLabels(o.nUser, o.nCommunity, rng);
  // Zipf popularity over a random ranking of the items.
  const rank = rng.shuffle(Int32Array.from({ length: o.nItem }, (_, i) => i));
  const itemPopularity = new Float64Array(o.nItem);
  for (let r = 0; r < o.nItem; r++) itemPopularity[rank[r]] = (r + 1) ** -o.popularityExponent;
  const all = Int32Array.from({ length: o.nItem }, (_, i) => i);
  const global = new WeightedSampler(all, itemPopularity);
  const perCategory = Array.from({ length: o.nCommunity }, (_, c) => new WeightedSampler(all.filter((i) => itemCategory[i] === c), itemPopularity));

  const baskets: number[][] = [];
  const used = new Uint8Array(o.nItem);
  const maxPerUser = Math.floor(o.nItem / 2);
  for (let u = 0; u < o.nUser; u++) {
    const n = Math.min(maxPerUser, Math.max(o.minInteractions, Math.round(o.meanInteractions * Math.exp(0.5 * rng.normal() - 0.125))));
    const basket = new Set<number>();
    while (basket.size < n) {
      basket.add(rng.uniform() < o.affinity ? perCategory[userCommunity[u]].sample(rng) : global.sample(rng));
    }
    baskets.push([...basket]);
    for (const i of basket) used[i] = 1;
  }
  // Every item needs an id in the union of splits: give unused items to a user of the matching community.
  const byCommunity = Array.from({ length: o.nCommunity }, (_, c) => Array.from(userCommunity.keys()).filter((u) => userCommunity[u] === c));
  for (let i = 0; i < o.nItem; i++) {
    if (used[i]) continue;
    const members = byCommunity[itemCategory[i]];
    baskets[members[rng.int(members.length)]].push(i);
  }
  const split = { train: [[], []], valid: [[], []], test: [[], []] } as Record<'train' | 'valid' | 'test', number[][]>;
  for (let u = 0; u < o.nUser; u++) {
    const b = rng.shuffle(baskets[u]);
    const nHold = Math.max(1, Math.round(0.1 * b.length));
    b.forEach((item, k) => {
      const part = k < nHold ? split.test : k < 2 * nHold ? split.valid : split.train;
      part[0].push(u);
      part[1].push(item);
    });
  }
  const toPairs = ([users, items]: number[][]): Interactions => ({ users: Int32Array.from(users), items: Int32Array.from(items) });
  const catCentroids = centroidVectors(o.nCommunity, o.dim, rng);
  const iEmb = sideVectors(itemCategory, catCentroids, o.dim, o.sideNoise, rng);
  const uEmb = sideVectors(userCommunity, catCentroids, o.dim, o.sideNoise, rng);
  const ds = buildDataset(
    { train: toPairs(split.train), valid: toPairs(split.valid), test: toPairs(split.test) },
    {
      name: `synthetic-${o.seed}`,
      embedDim: o.dim,
      uEmbedsPtRaw: { data: uEmb, rows: o.nUser, cols: o.dim, source: 'synthetic uEmbeds_pt' },
      iEmbedsPtRaw: { data: iEmb, rows: o.nItem, cols: o.dim, source: 'synthetic iEmbeds_pt' },
      sources: { train: 'synthetic train', valid: 'synthetic valid', test: 'synthetic test' },
    },
  );
  return { ...ds, truth: { userCommunity, itemCategory, itemPopularity } };
}

/** Generates a synthetic dataset and writes it as a dataset folder (train/valid/test.txt + *_pt.npy). */
export function writeSyntheticDataset(dir: string, options: SyntheticOptions = {}): SyntheticDataset {
  const ds = generateSynthetic(options);
  writeDataset(ds, dir);
  return ds;
}
