/** `bench compare` on this project's engine: the work items written with the engine's public ops. */
import { createBackend } from '../../backends/index.js';
import {
  Adam, add, affine, concat, CsrMatrix, dotCrossEntropy, gatherRows, gelu, keep, l2Normalize, matmul, mean, mul,
  setBackend, slice, softplus, spmm, sub, sum, svd, tensor, type Tensor, tidy, topk, valueAndGrads,
} from '../../engine/index.js';
import { propagate, rankItems } from '../../ts-api/eval/evaluate.js';
import { trainBatches, uniform, type OfficeData } from './data.js';
import { DIM, STEP, TOP_K, EVAL_BATCH, type Engine, type ItemSpec, type Prepared, type Sizes } from './items.js';

export async function oursEngine(backendName: string, threads: number): Promise<Engine> {
  const backend = await createBackend(backendName, { threads });
  setBackend(backend);
  const build = 'build' in backend ? (backend as { build: { threads: number; simd: string } }).build : null;
  return {
    info: {
      name: 'infodcl', version: '0.1.0', backend: backend.name, threads: build?.threads ?? 1, simd: backend.name === 'wasm',
      ...(build ? { note: `${build.simd} SIMD build` } : {}),
    },
    prepare,
  };
}

const f32 = (shape: number[], seed: number, scale = 1) => tensor(uniform(shape.reduce((a, b) => a * b, 1), seed, scale), shape);

/** Resolves once one element of `t` is on the host (asynchronous backends finish their work first). */
async function readFirst(t: Tensor): Promise<number> {
  const first = tidy(() => slice(t.view([t.size]), [0], [1]));
  const v = (await first.data())[0];
  first.dispose();
  return v;
}

/** Runs `fn` in a scope and waits for its first output; the outputs are freed after the timing. */
function timedOutputs(fn: () => Tensor[]): () => Promise<() => void> {
  return async () => {
    const outs = tidy(fn);
    await readFirst(outs[0]);
    return () => outs.forEach((t) => t.dispose());
  };
}

function prepare(item: ItemSpec, z: Sizes, data: OfficeData): Prepared | Promise<Prepared> {
  const inputs: Tensor[] = [];
  const hold = <T extends Tensor>(t: T) => { inputs.push(keep(t)); return t; };
  const dispose = () => inputs.forEach((t) => t.dispose());
  switch (item.id) {
    case 'matmul-nn': case 'matmul-nt': case 'matmul-tn': case 'matmul-scores': case 'matmul-mlp': {
      const [m, k, n] = item.shape;
      const transA = item.id === 'matmul-tn';
      const transB = item.id === 'matmul-nt' || item.id === 'matmul-scores';
      const a = hold(f32(transA ? [k, m] : [m, k], 1));
      const b = hold(f32(transB ? [n, k] : [k, n], 2));
      return { run: timedOutputs(() => [matmul(a, b, { transA, transB })]), dispose };
    }
    case 'spmm': {
      const adj = data.adjacency;
      const graph = CsrMatrix.fromHost(adj.n, adj.n, adj.indptr, adj.indices, adj.values, true);
      const x = hold(f32([adj.n, z.spmmDim], 3));
      return { run: timedOutputs(() => [spmm(graph, x)]), dispose: () => { dispose(); graph.dispose(); } };
    }
    case 'topk': {
      const x = hold(f32(item.shape, 4));
      return { run: timedOutputs(() => { const r = topk(x, TOP_K); return [r.values, r.indices]; }), dispose };
    }
    case 'adam': {
      const p = hold(f32(item.shape, 5));
      const g = hold(f32(item.shape, 6));
      const adam = new Adam([p], { lr: 1e-3 });
      return { run: async () => { adam.step([g]); await readFirst(p); }, dispose: () => { adam.dispose(); dispose(); } };
    }
    case 'train-step': return trainStep(z, data);
    case 'svd': case 'svd-grad': {
      const y = hold(f32([z.batch, DIM], 8));
      if (item.id === 'svd') {
        return {
          run: async () => {
            const { U, S, Vh } = await svd(y);
            await readFirst(U);
            return () => [U, S, Vh].forEach((t) => t.dispose());
          },
          dispose,
        };
      }
      return {
        run: async () => {
          const { value, grads } = await valueAndGrads(async () => {
            const { U, S, Vh } = await svd(y);
            return add(add(sum(U), sum(S)), sum(Vh));
          }, [y]);
          await readFirst(grads[0]);
          return () => [value, ...grads].forEach((t) => t.dispose());
        },
        dispose,
      };
    }
    case 'eval-rank': {
      const users = hold(f32([data.nUser, DIM], 9, 0.1));
      const items = hold(f32([data.nItem, DIM], 10, 0.1));
      const ids = Int32Array.from({ length: z.evalUsers }, (_, u) => u);
      let check: number | null = null;
      return {
        run: async () => {
          const top = await rankItems(users, items, ids, [data.userItems], TOP_K, EVAL_BATCH);
          check ??= top.reduce((s, item, p) => (p % TOP_K === 0 ? s + item : s), 0);
        },
        dispose, check: () => check,
      };
    }
    case 'eval-propagate': {
      const adj = data.adjacency;
      const graph = CsrMatrix.fromHost(adj.n, adj.n, adj.indptr, adj.indices, adj.values, true);
      const users = hold(f32([data.nUser, DIM], 9, 0.1));
      const items = hold(f32([data.nItem, DIM], 10, 0.1));
      return {
        run: timedOutputs(() => { const r = propagate(users, items, graph, 2); return [r.users, r.items]; }),
        dispose: () => { dispose(); graph.dispose(); },
      };
    }
    default:
      return `n/a: no such item on this engine (${item.id})`;
  }
}

/**
 * The reduced InfoDCL step (see README): gathered user / item rows, per channel an MLP [e_pos ‖ u ‖ noise]
 * → 2d → d (GELU) and InfoNCE of its cosine view against all items (the fused dotCrossEntropy), BPR with
 * one negative, backward, Adam over the tables and both MLPs.
 */
function trainStep(z: Sizes, data: OfficeData): Prepared {
  const { channels, hidden, tau, lr, bprWeight, sslWeight, sslChannelWeights, initStd } = STEP;
  const B = z.batch;
  const batches = trainBatches(data, B, 4);
  const noises = batches.map((_, b) => Array.from({ length: channels }, (_, k) => uniform(B * DIM, 100 + 10 * b + k, 1)));
  const U = keep(f32([data.nUser, DIM], 20, initStd));
  const I = keep(f32([data.nItem, DIM], 21, initStd));
  const mlps = Array.from({ length: channels }, (_, k) => {
    const s1 = 1 / Math.sqrt(3 * DIM), s2 = 1 / Math.sqrt(hidden);
    return {
      w1: keep(f32([hidden, 3 * DIM], 30 + 4 * k, s1)), b1: keep(f32([hidden], 31 + 4 * k, s1)),
      w2: keep(f32([DIM, hidden], 32 + 4 * k, s2)), b2: keep(f32([DIM], 33 + 4 * k, s2)),
    };
  });
  const params = [U, I, ...mlps.flatMap((m) => [m.w1, m.b1, m.w2, m.b2])];
  const adam = new Adam(params, { lr });
  let step = 0;
  let check: number | null = null;
  const loss = (b: number) => {
    const { users, pos, neg } = batches[b];
    const [ut, pt, nt] = [tensor(users), tensor(pos), tensor(neg)];
    const u = gatherRows(U, ut);
    const ePos = gatherRows(I, pt);
    const eNeg = gatherRows(I, nt);
    const bpr = mean(softplus(sub(sum(mul(u, eNeg), -1), sum(mul(u, ePos), -1))));
    const keys = l2Normalize(I);
    let total = affine(bpr, bprWeight);
    mlps.forEach((m, k) => {
      const h = concat([ePos, u, tensor(noises[b][k], [B, DIM])], 1);
      const a = gelu(add(matmul(h, m.w1, { transB: true }), m.b1));
      const view = add(matmul(a, m.w2, { transB: true }), m.b2);
      const ssl = sum(dotCrossEntropy(affine(l2Normalize(view), 1 / tau), keys, pt));
      total = add(total, affine(ssl, sslWeight * sslChannelWeights[k]));
    });
    return total;
  };
  return {
    run: async () => {
      const { value, grads } = valueAndGrads(() => loss(step++ % batches.length), params);
      adam.step(grads);
      const v = await value.item();
      check ??= v;
      value.dispose();
      grads.forEach((g) => g.dispose());
    },
    dispose: () => { adam.dispose(); params.forEach((p) => p.dispose()); },
    check: () => check,
  };
}
