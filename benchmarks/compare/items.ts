/**
 * The work items of `bench compare`: what each one computes, at which sizes, and what an engine module
 * provides to run it. Every engine runs the same items on the same host-generated inputs (data.ts).
 */
import type { OfficeData } from './data.js';

export const ENGINES = ['ours', 'tfjs-wasm', 'tfjs-cpu'] as const;
export type EngineId = (typeof ENGINES)[number];

export type Group = 'ops' | 'train' | 'eval';

export interface ItemSpec {
  id: string;
  group: Group;
  name: string;
  /** matmul [m, k, n]; spmm [rows, cols, d]; top-k [rows, n]; adam [params]; train [batch, items, d]; eval [users, items, d]. */
  shape: number[];
  /** Floating-point work of one run (null where flops mean little). */
  gflop: number | null;
  /** Set where TensorFlow.js has no counterpart: the item runs on this project's engine only. */
  oursOnly?: string;
}

/** Sizes: the shapes, or (quick) every dense size shrunk about 8× for tests. */
export interface Sizes {
  quick: boolean;
  square: number;
  scoreRows: number;
  scoreItems: number;
  mlpRows: number;
  topkRows: number;
  topkItems: number;
  adamParams: number;
  spmmDim: number;
  batch: number;
  evalUsers: number;
}

export const DIM = 64;
/** The reduced InfoDCL step: two channels (as InfoDCL), each an MLP 3d → 2d → d and an InfoNCE term. */
export const STEP = { channels: 2, hidden: 128, tau: 0.5, lr: 0.005, bprWeight: 0.6, sslWeight: 5e-6, sslChannelWeights: [2, 1], initStd: 0.1 };
export const TOP_K = 100;
/** Users per scoring batch in the full-ranking evaluation (as ts-api/eval/evaluate.ts). */
export const EVAL_BATCH = 2000;

export function sizes(quick: boolean, data: OfficeData): Sizes {
  const s = (n: number) => (quick ? Math.ceil(n / 8) : n);
  return {
    quick, square: s(1024), scoreRows: s(2000), scoreItems: s(2420), mlpRows: s(2000), topkRows: s(2000), topkItems: s(2420),
    adamParams: s(500_000), spmmDim: s(DIM), batch: s(2000), evalUsers: quick ? Math.min(500, data.nUser) : data.nUser,
  };
}

const NO_SVD = 'n/a: tfjs-core has no SVD (only QR / Gram-Schmidt)';
const NO_SPMM_GRAPH = 'n/a: ours only (LightGCN propagation; tfjs is timed on one sparse product above)';

export function itemSpecs(z: Sizes, data: OfficeData): ItemSpec[] {
  const mm = (m: number, k: number, n: number) => 2 * m * k * n / 1e9;
  const nnz = data.adjacency.values.length;
  const n = data.adjacency.n;
  const { channels, hidden } = STEP;
  // Per channel: the MLP forward and backward (3 products of each weight), InfoNCE logits forward and
  // both gradients (3 products of [B, d] × [N, d]ᵀ).
  const stepGflop = channels * (3 * (mm(z.batch, 3 * DIM, hidden) + mm(z.batch, hidden, DIM)) + 3 * mm(z.batch, DIM, data.nItem));
  return [
    ...(['NN', 'NT', 'TN'] as const).map((v): ItemSpec => ({
      id: `matmul-${v.toLowerCase()}`, group: 'ops', name: `matmul ${v}`, shape: [z.square, z.square, z.square], gflop: mm(z.square, z.square, z.square),
    })),
    { id: 'matmul-scores', group: 'ops', name: 'matmul NT (users·itemsᵀ)', shape: [z.scoreRows, DIM, z.scoreItems], gflop: mm(z.scoreRows, DIM, z.scoreItems) },
    { id: 'matmul-mlp', group: 'ops', name: 'matmul NN (MLP layer)', shape: [z.mlpRows, 3 * DIM, DIM], gflop: mm(z.mlpRows, 3 * DIM, DIM) },
    { id: 'spmm', group: 'ops', name: `spmm (${data.source} Â)`, shape: [n, n, z.spmmDim], gflop: 2 * nnz * z.spmmDim / 1e9 },
    { id: 'topk', group: 'ops', name: `top-${TOP_K}`, shape: [z.topkRows, z.topkItems], gflop: null },
    { id: 'adam', group: 'ops', name: 'Adam step', shape: [z.adamParams], gflop: null },
    { id: 'train-step', group: 'train', name: 'InfoDCL-shaped step (fwd+bwd+Adam)', shape: [z.batch, data.nItem, DIM], gflop: stepGflop },
    { id: 'svd', group: 'train', name: 'svd (PSNet, one channel)', shape: [z.batch, DIM], gflop: null, oursOnly: NO_SVD },
    { id: 'svd-grad', group: 'train', name: 'svd fwd+bwd (PSNet, one channel)', shape: [z.batch, DIM], gflop: null, oursOnly: NO_SVD },
    { id: 'eval-rank', group: 'eval', name: `full ranking: scores, mask train, top-${TOP_K}`, shape: [z.evalUsers, data.nItem, DIM], gflop: mm(z.evalUsers, DIM, data.nItem) },
    { id: 'eval-propagate', group: 'eval', name: 'LightGCN propagation (2 layers)', shape: [n, n, DIM], gflop: 2 * 2 * nnz * DIM / 1e9, oursOnly: NO_SPMM_GRAPH },
  ];
}

/** What an engine module gives for one item: a runnable case, or why it cannot run it ("n/a: …"). */
export type Prepared = string | {
  /** One run; resolves once the result is on the host. May return a cleanup, called outside the timing. */
  run(): Promise<(() => void) | void>;
  dispose(): void;
  /** A number computed by the first run (e.g. the first step's loss), to see that engines agree. */
  check?(): number | null;
  /** How this engine's version departs from the plain one, where it must. */
  note?: string;
};

export interface EngineInfo {
  name: string;
  version: string;
  backend: string;
  threads: number;
  simd: boolean;
  note?: string;
}

export interface Engine {
  info: EngineInfo;
  prepare(item: ItemSpec, z: Sizes, data: OfficeData): Promise<Prepared> | Prepared;
}
