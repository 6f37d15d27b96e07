/**
 * The inputs every engine of `bench compare` gets, generated on the host from fixed seeds so that each
 * child process builds the same numbers: Office's train interactions (or a random graph of Office's size
 * when the dataset is absent), its normalised adjacency, training batches and initial weights.
 */
import { readFileSync } from 'node:fs';
import { buildCsr, csrHas, type Csr } from '../../ts-api/data/csr.js';
import { parseInteractionText } from '../../ts-api/data/dataset.js';
import { normalizedBipartite, OFFICE, officeTrainFile, randomFloats, rng, type Adjacency } from '../ops.js';

export interface OfficeData {
  source: 'office' | 'synthetic';
  nUser: number;
  nItem: number;
  /** Train pairs (user, item), and each user's sorted train items. */
  users: Int32Array;
  items: Int32Array;
  userItems: Csr;
  adjacency: Adjacency;
}

/** Office's train split (`trainFile` or ../shared/datasets/office/train.txt), or a random bipartite graph. */
export function loadOffice(trainFile?: string): OfficeData {
  const { file } = officeTrainFile(trainFile);
  let users: Int32Array, items: Int32Array, nUser: number, nItem: number;
  if (file) {
    ({ users, items } = parseInteractionText(readFileSync(file, 'utf8'), file));
    nUser = 1 + users.reduce((m, u) => Math.max(m, u), -1);
    nItem = 1 + items.reduce((m, i) => Math.max(m, i), -1);
  } else {
    [nUser, nItem] = [OFFICE.users, OFFICE.items];
    const next = rng(7);
    const keys = new Set<number>();
    while (keys.size < OFFICE.nnz / 2) keys.add(Math.floor(next() * nUser * nItem));
    const sorted = Float64Array.from(keys).sort();
    users = Int32Array.from(sorted, (k) => Math.floor(k / nItem));
    items = Int32Array.from(sorted, (k) => k % nItem);
  }
  const keys = Array.from(users, (u, p) => u * nItem + items[p]);
  return {
    source: file ? 'office' : 'synthetic', nUser, nItem, users, items,
    userItems: buildCsr(users, items, nUser, nItem),
    adjacency: { source: file ? 'office' : 'synthetic', ...normalizedBipartite(nUser, nItem, keys) },
  };
}

export interface HostBatch { users: Int32Array; pos: Int32Array; neg: Int32Array }

/** `count` batches of `size` train pairs (a seeded shuffle) with one negative each (an item not in train). */
export function trainBatches(data: OfficeData, size: number, count: number, seed = 11): HostBatch[] {
  const next = rng(seed);
  const n = data.users.length;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return Array.from({ length: count }, (_, b) => {
    const idx = Array.from({ length: size }, (_, r) => order[(b * size + r) % n]);
    const users = Int32Array.from(idx, (p) => data.users[p]);
    const pos = Int32Array.from(idx, (p) => data.items[p]);
    const neg = Int32Array.from(users, (u) => {
      for (;;) {
        const j = Math.floor(next() * data.nItem);
        if (!csrHas(data.userItems, u, j)) return j;
      }
    });
    return { users, pos, neg };
  });
}

/** Uniform values in [-scale, scale) from `seed`. */
export function uniform(n: number, seed: number, scale: number): Float32Array {
  const x = randomFloats(n, seed);
  for (let i = 0; i < n; i++) x[i] *= scale;
  return x;
}

/** Row-major [rows, cols] → [cols, rows]. */
export function transposeHost(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}
