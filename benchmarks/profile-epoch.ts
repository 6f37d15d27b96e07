/**
 * Where an InfoDCL training epoch spends its time, per public backend method and shape (wall time inside
 * each call; the rest is JavaScript between calls). Methods that call others (a split call inside matmul)
 * count in both. `node --import tsx benchmarks/profile-epoch.ts [dataDir] [batches] [threads]`.
 */
import { Random, setBackend } from '../engine/index.js';
import { createBackend } from '../backends/index.js';
import { loadDataset } from '../ts-api/data/dataset.js';
import { DEFAULT_CONFIG } from '../ts-api/infodcl/config.js';
import { InfoDclRecommender } from '../ts-api/infodcl/recommender.js';
import { train } from '../ts-api/train.js';

const [dir = '../shared/datasets/office', batchArg = '0', threadArg] = process.argv.slice(2);
const backend = await createBackend('wasm', { threads: threadArg ? Number(threadArg) : undefined });
const totals = new Map<string, { ms: number; calls: number }>();
for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(backend))) {
  const fn = (backend as any)[name];
  if (typeof fn !== 'function' || name === 'constructor') continue;
  (backend as any)[name] = function (...args: unknown[]) {
    const t0 = performance.now();
    const r = fn.apply(backend, args);
    const ms = performance.now() - t0;
    const key = name === 'unary' || name === 'unaryGrad' ? `${name} ${args[0]} ${(args[1] as any).size}`
      : name === 'binary' ? `${name} ${args[0]} [${args[3]}]`
      : name === 'matmul' ? `${name} ${JSON.stringify(args[2]).replace(/"/g, '')}` : name;
    const e = totals.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms; e.calls++;
    totals.set(key, e);
    return r;
  };
}
setBackend(backend);
const ds = loadDataset(dir);
const rng = new Random(DEFAULT_CONFIG.seed);
const rec = await InfoDclRecommender.create(ds, DEFAULT_CONFIG, rng);
const limit = Number(batchArg);
if (limit > 0) ds.train = { ...ds.train, users: ds.train.users.subarray(0, limit * DEFAULT_CONFIG.batchSize), items: ds.train.items.subarray(0, limit * DEFAULT_CONFIG.batchSize) };
totals.clear();
const t0 = performance.now();
const r = await train(rec, ds, { ...DEFAULT_CONFIG, epochs: 1, evalEvery: 1, protocol: 'reference', patience: 0 } as any, rng);
const wall = performance.now() - t0;
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
const inside = rows.reduce((s, [, v]) => s + v.ms, 0);
console.log(`epoch ${r.epochSeconds[0].toFixed(2)} s, eval ${r.evalSeconds[0].toFixed(2)} s, wall ${(wall / 1000).toFixed(2)} s, in backend ${(inside / 1000).toFixed(2)} s`);
for (const [name, v] of rows.slice(0, 45)) console.log(`${name.slice(0, 110).padEnd(110)} ${v.ms.toFixed(1).padStart(8)} ms ${String(v.calls).padStart(7)} calls`);
