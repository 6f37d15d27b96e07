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
// Self time per method and shape (nested backend calls subtracted); a split call over several parts is
// "split (threads)": the time both threads work, the rest of the epoch runs on the calling thread alone.
const nested: number[] = [];
let parallel = 0;
for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(backend))) {
  const fn = (backend as any)[name];
  if (typeof fn !== 'function' || name === 'constructor') continue;
  (backend as any)[name] = function (...args: unknown[]) {
    nested.push(0);
    const t0 = performance.now();
    const r = fn.apply(backend, args);
    const ms = performance.now() - t0;
    const inner = nested.pop()!;
    if (nested.length) nested[nested.length - 1] += ms;
    const threaded = name === 'split' && (args[1] as unknown[]).length > 1;
    if (threaded) parallel += ms;
    const key = name === 'unary' || name === 'unaryGrad' ? `${name} ${args[0]} ${(args[1] as any).size}`
      : name === 'binary' ? `${name} ${args[0]} [${args[3]}]`
      : name === 'matmul' ? `${name} ${JSON.stringify(args[2]).replace(/"/g, '')}`
      : name === 'split' ? `split ${args[0]}${threaded ? ' (threads)' : ''}` : name;
    const e = totals.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms - inner; e.calls++;
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
// the first epoch warms the JIT and the heap; the second is the one measured
const options = { ...DEFAULT_CONFIG, epochs: 1, evalEvery: 1, protocol: 'reference', patience: 0 } as any;
await train(rec, ds, options, rng);
totals.clear();
parallel = 0;
const t0 = performance.now();
const r = await train(rec, ds, options, rng);
const wall = performance.now() - t0;
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
const inside = rows.reduce((s, [, v]) => s + v.ms, 0);
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`epoch ${r.epochSeconds[0].toFixed(2)} s, eval ${r.evalSeconds[0].toFixed(2)} s, wall ${sec(wall)}: in backend ${sec(inside)}` +
  ` (split over threads ${sec(parallel)}, on the calling thread alone ${sec(inside - parallel)}), JavaScript ${sec(wall - inside)}`);
for (const [name, v] of rows.slice(0, 45)) console.log(`${name.slice(0, 110).padEnd(110)} ${v.ms.toFixed(1).padStart(8)} ms ${String(v.calls).padStart(7)} calls`);
