/**
 * `bench compare` on TensorFlow.js (@tensorflow/tfjs-core with its WASM or CPU backend; devDependencies,
 * loaded here only, never by the project's runtime code), each item written as a tfjs user would.
 * tfjs-core's Node bundle registers no gradients: the union package @tensorflow/tfjs does (that is how a
 * Node user gets tf.variableGrads to work), so it is loaded too; its WebGL backend is never selected.
 */
import { createRequire } from 'node:module';
import type * as Tf from '@tensorflow/tfjs-core';
import { trainBatches, transposeHost, uniform, type OfficeData } from './data.js';
import { DIM, EVAL_BATCH, STEP, TOP_K, type Engine, type ItemSpec, type Prepared, type Sizes } from './items.js';

const require = createRequire(import.meta.url);

export const TFJS_PACKAGES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs'];

/** The TensorFlow.js packages that do not resolve from here (empty when all are installed). */
export function missingTfjs(): string[] {
  return TFJS_PACKAGES.filter((p) => { try { require.resolve(p); return false; } catch { return true; } });
}

export async function tfjsEngine(kind: 'wasm' | 'cpu', threads: number): Promise<Engine> {
  require('@tensorflow/tfjs'); // the gradients
  const tf = require('@tensorflow/tfjs-core') as typeof Tf;
  let note: string | undefined;
  let used = 1;
  if (kind === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    // tfjs-backend-wasm turns its threaded build off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there).
    if (threads > 1) wasm.setThreadsCount(threads);
  } else {
    require('@tensorflow/tfjs-backend-cpu');
  }
  if (!(await tf.setBackend(kind))) throw new Error(`tfjs: the ${kind} backend did not initialise`);
  await tf.ready();
  const simd = kind === 'wasm' && await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') as boolean;
  if (kind === 'wasm') {
    const multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') as boolean;
    used = multithread ? (require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : 1;
    if (!multithread) note = 'tfjs-backend-wasm disables its threaded build under Node: 1 thread, SIMD build';
  } else {
    note = 'plain JavaScript kernels, 1 thread';
  }
  return {
    info: { name: 'tfjs', version: tf.version_core, backend: kind, threads: used, simd, note },
    prepare: (item, z, data) => prepare(tf, kind, item, z, data),
  };
}

function prepare(tf: typeof Tf, kind: 'wasm' | 'cpu', item: ItemSpec, z: Sizes, data: OfficeData): Prepared {
  if (item.oursOnly) return item.oursOnly;
  const inputs: Tf.Tensor[] = [];
  const hold = <T extends Tf.Tensor>(t: T) => { inputs.push(t); return t; };
  const f32 = (shape: number[], seed: number, scale = 1) => hold(tf.tensor(uniform(shape.reduce((a, b) => a * b, 1), seed, scale), shape, 'float32'));
  const dispose = () => inputs.forEach((t) => t.dispose());
  /** Runs `fn` in a tidy and reads one element back (the tfjs CPU and WASM backends compute eagerly). */
  const timed = (fn: () => Tf.Tensor | Tf.Tensor[]) => async () => {
    const out = tf.tidy(fn);
    const outs = Array.isArray(out) ? out : [out];
    await firstValue(tf, outs[0]);
    return () => outs.forEach((t) => t.dispose());
  };
  switch (item.id) {
    case 'matmul-nn': case 'matmul-nt': case 'matmul-tn': case 'matmul-scores': case 'matmul-mlp': {
      const [m, k, n] = item.shape;
      const transA = item.id === 'matmul-tn';
      const transB = item.id === 'matmul-nt' || item.id === 'matmul-scores';
      const a = f32(transA ? [k, m] : [m, k], 1);
      const b = f32(transB ? [n, k] : [k, n], 2);
      return { run: timed(() => tf.matMul(a, b, transA, transB)), dispose };
    }
    case 'spmm': {
      // No sparse × dense product in tfjs: gather the neighbours' rows, weight them, sum per row.
      const adj = data.adjacency;
      const rowIds = new Int32Array(adj.indices.length);
      for (let r = 0; r < adj.n; r++) rowIds.fill(r, adj.indptr[r], adj.indptr[r + 1]);
      const cols = hold(tf.tensor1d(adj.indices, 'int32'));
      const values = hold(tf.tensor2d(adj.values, [adj.values.length, 1]));
      const segments = hold(tf.tensor1d(rowIds, 'int32'));
      const positions = hold(tf.range(0, adj.indices.length, 1, 'int32'));
      const x = f32([adj.n, z.spmmDim], 3);
      return { run: timed(() => tf.sparse.sparseSegmentSum(tf.mul(tf.gather(x, cols), values), positions, segments)), dispose };
    }
    case 'topk': {
      const x = f32(item.shape, 4);
      return { run: timed(() => { const r = tf.topk(x, TOP_K); return [r.values, r.indices]; }), dispose };
    }
    case 'adam': {
      const p = tf.variable(f32(item.shape, 5), true, 'adam_param');
      const g = f32(item.shape, 6);
      const opt = tf.train.adam(1e-3);
      return {
        run: async () => { opt.applyGradients([{ name: 'adam_param', tensor: g }]); await firstValue(tf, p); },
        dispose: () => { opt.dispose(); p.dispose(); dispose(); },
      };
    }
    case 'train-step': return trainStep(tf, z, data);
    case 'eval-rank': return evalRank(tf, z, data, f32([data.nUser, DIM], 9, 0.1), f32([data.nItem, DIM], 10, 0.1), dispose);
    default:
      return `n/a: no such item on tfjs (${item.id})`;
  }
}

async function firstValue(tf: typeof Tf, t: Tf.Tensor): Promise<number> {
  const first = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
  const v = (await first.data())[0];
  first.dispose();
  return v;
}

/**
 * The same step as ours.ts, in tfjs idiom: variables, tf.variableGrads, tf.train.adam, tf.losses. One
 * departure: the gradient of tf.gather is UnsortedSegmentSum, which tfjs-backend-wasm lacks and which
 * tfjs-backend-cpu runs as one masked pass over the rows per table row (~20 s for the quick step), so on
 * both backends the row lookup gets its gradient from tf.customGrad with scatterND (which sums repeats).
 */
function trainStep(tf: typeof Tf, z: Sizes, data: OfficeData): Prepared {
  const { channels, hidden, tau, lr, bprWeight, sslWeight, sslChannelWeights, initStd } = STEP;
  const B = z.batch;
  const N = data.nItem;
  const batches = trainBatches(data, B, 4);
  const noises = batches.map((_, b) => Array.from({ length: channels }, (_, k) => uniform(B * DIM, 100 + 10 * b + k, 1)));
  const variable = (values: Float32Array, shape: number[], name: string) => tf.tidy(() => tf.variable(tf.tensor(values, shape), true, name));
  const U = variable(uniform(data.nUser * DIM, 20, initStd), [data.nUser, DIM], 'U');
  const I = variable(uniform(N * DIM, 21, initStd), [N, DIM], 'I');
  // Same initial values as ours.ts; tfjs layers keep weights as [in, out], so they are transposed once.
  const mlps = Array.from({ length: channels }, (_, k) => {
    const s1 = 1 / Math.sqrt(3 * DIM), s2 = 1 / Math.sqrt(hidden);
    return {
      w1: variable(transposeHost(uniform(hidden * 3 * DIM, 30 + 4 * k, s1), hidden, 3 * DIM), [3 * DIM, hidden], `w1_${k}`),
      b1: variable(uniform(hidden, 31 + 4 * k, s1), [hidden], `b1_${k}`),
      w2: variable(transposeHost(uniform(DIM * hidden, 32 + 4 * k, s2), DIM, hidden), [hidden, DIM], `w2_${k}`),
      b2: variable(uniform(DIM, 33 + 4 * k, s2), [DIM], `b2_${k}`),
    };
  });
  const vars = [U, I, ...mlps.flatMap((m) => [m.w1, m.b1, m.w2, m.b2])];
  const opt = tf.train.adam(lr, 0.9, 0.999, 1e-8);
  const l2Normalize = (x: Tf.Tensor) => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), -1, true)), 1e-12));
  const gelu = (x: Tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  // customGrad keeps only what `save` holds for the backward pass: the ids go through it.
  const scatterGather = tf.customGrad(((table: Tf.Tensor, ids: Tf.Tensor, save: Tf.GradSaveFunc) => {
    save([ids]);
    return {
      value: tf.gather(table, ids),
      gradFunc: (dy: Tf.Tensor, [saved]: Tf.Tensor[]) => [tf.scatterND(tf.expandDims(saved, 1), dy, table.shape), tf.zerosLike(saved)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const gather = (table: Tf.Tensor, ids: Tf.Tensor1D) => scatterGather(table, ids) as Tf.Tensor;
  let step = 0;
  let check: number | null = null;
  const loss = (b: number) => (): Tf.Scalar => {
    const { users, pos, neg } = batches[b];
    const posT = tf.tensor1d(pos, 'int32');
    const u = gather(U, tf.tensor1d(users, 'int32'));
    const ePos = gather(I, posT);
    const eNeg = gather(I, tf.tensor1d(neg, 'int32'));
    const bpr = tf.mean(tf.softplus(tf.sub(tf.sum(tf.mul(u, eNeg), -1), tf.sum(tf.mul(u, ePos), -1))));
    const keys = l2Normalize(I);
    const labels = tf.cast(tf.oneHot(posT, N), 'float32');
    let total = tf.mul(bpr, bprWeight);
    mlps.forEach((m, k) => {
      const h = tf.concat([ePos, u, tf.tensor2d(noises[b][k], [B, DIM])], 1);
      const view = tf.add(tf.matMul(gelu(tf.add(tf.matMul(h, m.w1), m.b1)), m.w2), m.b2);
      const logits = tf.div(tf.matMul(l2Normalize(view), keys, false, true), tau);
      const ssl = tf.losses.softmaxCrossEntropy(labels, logits, undefined, 0, tf.Reduction.SUM);
      total = tf.add(total, tf.mul(ssl, sslWeight * sslChannelWeights[k]));
    });
    return total as Tf.Scalar;
  };
  return {
    run: async () => {
      const value = tf.tidy(() => {
        const { value: v, grads } = tf.variableGrads(loss(step++ % batches.length), vars);
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        return v;
      });
      const v = (await value.data())[0];
      check ??= v;
      value.dispose();
    },
    dispose: () => { opt.dispose(); vars.forEach((v) => v.dispose()); },
    check: () => check,
    note: 'tfjs: gather gradient via tf.customGrad + scatterND (tf.gather\'s own gradient, UnsortedSegmentSum, is missing on wasm and a per-row loop on cpu)',
  };
}

/** Scores of every user against every item in batches of EVAL_BATCH users, train items masked, top-k. */
function evalRank(tf: typeof Tf, z: Sizes, data: OfficeData, users: Tf.Tensor, items: Tf.Tensor, dispose: () => void): Prepared {
  const { indptr, indices } = data.userItems;
  let check: number | null = null;
  return {
    run: async () => {
      const out = new Int32Array(z.evalUsers * TOP_K);
      for (let start = 0; start < z.evalUsers; start += EVAL_BATCH) {
        const end = Math.min(z.evalUsers, start + EVAL_BATCH);
        const masked = new Int32Array(2 * (indptr[end] - indptr[start]));
        for (let u = start, w = 0; u < end; u++) {
          for (let p = indptr[u]; p < indptr[u + 1]; p++) { masked[w++] = u - start; masked[w++] = indices[p]; }
        }
        const top = tf.tidy(() => {
          const ids = tf.range(start, end, 1, 'int32');
          const scores = tf.matMul(tf.gather(users, ids), items, false, true);
          const mask = tf.scatterND(tf.tensor2d(masked, [masked.length / 2, 2], 'int32'),
            tf.fill([masked.length / 2], -Infinity), [end - start, data.nItem]);
          return tf.topk(tf.add(scores, mask), TOP_K).indices;
        });
        out.set(await top.data() as Int32Array, start * TOP_K);
        top.dispose();
      }
      check ??= out.reduce((s, item, p) => (p % TOP_K === 0 ? s + item : s), 0);
    },
    dispose, check: () => check,
  };
}
