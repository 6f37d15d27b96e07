/**
 * Top-k recommendations from a serving artifact, for any JavaScript runtime: the artifact comes in as bytes,
 * scores are σ(û·ê) (SPEC §6) over every item, the user's train items are left out unless asked otherwise.
 * Scoring runs on an engine backend when one is given (matmul + topk), else in plain JS over Float32Array.
 *
 * @example
 * const rec = await createRecommender(bytes);                       // or { backend: 'wasm' }
 * await rec.recommend(42, { k: 20 });                               // [{ item: 17, score: 0.93 }, ...]
 */
import type { Backend } from '../../engine/backend.js';
import { keep, matmul, Tensor, tidy, topk } from '../../engine/index.js';
import { decodeArtifact, type ArtifactData } from '../checkpoint/artifact.js';
import { FORMAT_VERSION } from '../checkpoint/format.js';
import { denseIdOf } from '../data/ids.js';

export interface RecommendOptions {
  /** How many items (default 20). */
  k?: number;
  /** Raw item ids to leave out (unknown ids are ignored). */
  exclude?: readonly number[];
  /** Keep the user's train items among the candidates (default false). */
  includeSeen?: boolean;
}

export interface Scored { item: number; score: number }

/** A request the recommender cannot answer (unknown user, bad k): HTTP 4xx. */
export class RecommendError extends Error {
  constructor(message: string, readonly status = 400) { super(message); }
}

export const MAX_K = 1000;

export interface Recommender {
  readonly users: number;
  readonly items: number;
  readonly version: number;
  readonly artifact: ArtifactData;
  /** Raw item ids and scores, best first. Throws RecommendError for an unknown user or a bad k. */
  recommend(rawUser: number, options?: RecommendOptions): Promise<Scored[]>;
  /** Frees backend memory (no-op for plain JS). */
  dispose(): void;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export interface RecommenderOptions {
  /** An engine Backend, or a name for backends/index.ts (loaded lazily), or nothing for plain JS. */
  backend?: Backend | string;
  /** Threads of a backend given by name (default 1: one user's scores are too little work to share). */
  threads?: number;
}

/** Decodes and validates `artifactBytes` and prepares scoring. */
export async function createRecommender(artifactBytes: Uint8Array, opts: RecommenderOptions = {}): Promise<Recommender> {
  return recommenderFromArtifact(decodeArtifact(artifactBytes), opts);
}

/** The same from an artifact already decoded (or built from a checkpoint). */
export async function recommenderFromArtifact(a: ArtifactData, opts: RecommenderOptions = {}): Promise<Recommender> {
  let backend: Backend | undefined;
  if (typeof opts.backend === 'string') {
    // The registry is imported by URL, so a bundler does not pull every backend into an edge bundle
    // (which passes a ready Backend instead).
    const registry: typeof import('../../backends/index.js') = await import(new URL('../../backends/index.js', import.meta.url).href);
    backend = await registry.createBackend(opts.backend, { threads: opts.threads ?? 1 });
  } else {
    backend = opts.backend;
  }
  const ownsBackend = typeof opts.backend === 'string';
  const items = backend ? keep(new Tensor(backend.upload(a.items), [a.nItem, a.dim], 'f32', backend)) : null;

  /** The user's candidates' top `kk` dense ids with their dot products. */
  const topDots = async (u: number, kk: number, blocked: Uint8Array): Promise<{ ids: Int32Array; dots: Float32Array }> => {
    const row = a.users.subarray(u * a.dim, (u + 1) * a.dim);
    if (items && backend) {
      const top = tidy(() => topk(matmul(new Tensor(backend!.upload(row), [1, a.dim], 'f32', backend), items, { transB: true }), kk));
      try {
        return { ids: await top.indices.data() as Int32Array, dots: await top.values.data() as Float32Array };
      } finally {
        top.indices.dispose();
        top.values.dispose();
      }
    }
    return topDotsJs(row, a.items, a.nItem, a.dim, kk, blocked);
  };

  return {
    users: a.nUser, items: a.nItem, version: FORMAT_VERSION, artifact: a,
    async recommend(rawUser, { k = 20, exclude = [], includeSeen = false } = {}) {
      if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new RecommendError(`k must be an integer from 1 to ${MAX_K}`);
      const u = Number.isInteger(rawUser) ? denseIdOf(a.rawUserIds, rawUser) : -1;
      if (u < 0) throw new RecommendError(`unknown user ${rawUser}`, 404);
      const blocked = new Uint8Array(a.nItem);
      let nBlocked = 0;
      const block = (i: number) => { if (i >= 0 && !blocked[i]) { blocked[i] = 1; nBlocked++; } };
      if (!includeSeen) for (let p = a.trainItems.indptr[u]; p < a.trainItems.indptr[u + 1]; p++) block(a.trainItems.indices[p]);
      for (const raw of exclude) block(denseIdOf(a.rawItemIds, raw));
      const want = Math.min(k, a.nItem - nBlocked);
      if (want <= 0) return [];
      // The backend path takes extra candidates and drops blocked ones; the JS path skips them as it goes.
      const kk = items ? Math.min(a.nItem, want + nBlocked) : want;
      const { ids, dots } = await topDots(u, kk, blocked);
      const out: Scored[] = [];
      for (let j = 0; j < ids.length && out.length < want; j++) {
        if (!blocked[ids[j]]) out.push({ item: a.rawItemIds[ids[j]], score: sigmoid(dots[j]) });
      }
      return out;
    },
    dispose() {
      items?.dispose();
      if (ownsBackend) backend?.destroy();
    },
  };
}

/**
 * The k best of `items · row` outside `blocked`, best first; ties keep the lower id first (as the
 * backends' topk). A bounded min-heap over one pass: O(n·d + n·log k).
 */
export function topDotsJs(row: Float32Array, items: Float32Array, n: number, d: number, k: number, blocked: Uint8Array): { ids: Int32Array; dots: Float32Array } {
  const heapIds = new Int32Array(k);
  const heapDots = new Float64Array(k);
  let size = 0;
  // "a is worse than b": lower score, or equal score and higher id.
  const worse = (i: number, j: number) => heapDots[i] < heapDots[j] || (heapDots[i] === heapDots[j] && heapIds[i] > heapIds[j]);
  const swap = (i: number, j: number) => {
    [heapIds[i], heapIds[j]] = [heapIds[j], heapIds[i]];
    [heapDots[i], heapDots[j]] = [heapDots[j], heapDots[i]];
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(l, m)) m = l;
      if (r < size && worse(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (let j = 0; j < n; j++) {
    if (blocked[j]) continue;
    let s = 0;
    const base = j * d;
    for (let c = 0; c < d; c++) s += row[c] * items[base + c];
    s = Math.fround(s);
    if (size < k) {
      heapIds[size] = j;
      heapDots[size] = s;
      for (let i = size++; i > 0;) {
        const p = (i - 1) >> 1;
        if (!worse(i, p)) break;
        swap(i, p);
        i = p;
      }
    } else if (s > heapDots[0]) {   // equal scores keep the earlier (lower) id already held
      heapIds[0] = j;
      heapDots[0] = s;
      siftDown(0);
    }
  }
  // Pop the worst repeatedly: fills the result from the back.
  const ids = new Int32Array(size);
  const dots = new Float32Array(size);
  for (let w = size - 1; w >= 0; w--) {
    ids[w] = heapIds[0];
    dots[w] = heapDots[0];
    size--;
    if (size > 0) {
      heapIds[0] = heapIds[size];
      heapDots[0] = heapDots[size];
      siftDown(0);
    }
  }
  return { ids, dots };
}
