/**
 * One catalogue size of `bench scaling`, in its own process (so that its peak memory is its own):
 * a synthetic dataset, the real InfoDCL model (ts-api/infodcl/model.ts) trained with ts-api/train.ts's
 * `trainStep`, the fused InfoNCE op timed alone at the same shapes, and the memory high-water marks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createBackend } from '../backends/index.js';
import {
  Adam, type Backend, dotCrossEntropy, keep, Random, setBackend, sum, tensor, type Tensor, valueAndGrads,
} from '../engine/index.js';
import { buildCsr } from '../ts-api/data/csr.js';
import { generateSynthetic } from '../ts-api/data/synthetic.js';
import { resolveConfig } from '../ts-api/infodcl/config.js';
import { InfoDCL } from '../ts-api/infodcl/model.js';
import { epochBatches } from '../ts-api/sampler.js';
import { trainStep, type Recommender } from '../ts-api/train.js';
import { childMain } from './child.js';
import { median } from './compare/timing.js';

export interface ScalingCaseOptions {
  backend: string;
  threads: number;
  nUser: number;
  nItem: number;
  /** Mean interactions per user over all splits (the generator keeps ~80% for train). */
  meanInteractions: number;
  batch: number;
  steps: number;
  warmup: number;
  seed: number;
}

export interface ScalingRow {
  items: number;
  users: number;
  trainInteractions: number;
  batch: number;
  steps: number;
  /** Median and mean ms of one training step (batch sampling, forward, backward, Adam). */
  stepMs: number;
  stepMeanMs: number;
  /** The fused InfoNCE alone (dotCrossEntropy forward + backward at [batch, d] × [items, d], every channel):
   * median of runs interleaved with the steps. */
  infoNceMs: number;
  /** stepMs − infoNceMs. */
  otherMs: number;
  batchesPerEpoch: number;
  /** stepMs × batchesPerEpoch. */
  epochSeconds: number;
  setupSeconds: number;
  /** RSS after setup; peak RSS while training (high-water reset after setup where Linux allows). */
  setupRssMB: number;
  peakRssMB: number;
  peakRssScope: 'training' | 'process';
  /** Size of the wasm backend's linear memory at the end (it only grows: its high-water); null if not wasm. */
  wasmMemoryMB: number | null;
  /** What one channel's dense [batch × items] f32 logits would take (the fused op never builds them). */
  denseLogitsMB: number;
}

const MB = 1 << 20;

childMain<ScalingCaseOptions, ScalingRow>(async (o) => {
  const log = (m: string) => process.stderr.write(`bench scaling [${o.nItem} items]: ${m}\n`);
  const t0 = performance.now();
  const ds = generateSynthetic({ nUser: o.nUser, nItem: o.nItem, meanInteractions: o.meanInteractions, seed: o.seed });
  const backend = await createBackend(o.backend, { threads: o.threads });
  setBackend(backend);
  const config = resolveConfig({ batchSize: o.batch });
  const rng = new Random(config.seed);
  const model = new InfoDCL(ds.nUser, ds.nItem, config, rng);
  // Metadata tables stand in as the synthetic side vectors (SPEC §2's metadata is a one-off precomputation).
  const guide = keep(tensor(ds.iEmbedsPt!, [ds.nItem, config.dim]));
  const recommender: Recommender = {
    name: 'InfoDCL',
    parameters: () => model.parameters(),
    async batchLoss(batch, r) {
      const l = await model.losses(batch, model.drawNoise(batch.pos.length, r), config.channels.map(() => guide), true, r);
      const terms: Record<string, Tensor> & { total: Tensor } = { total: l.total, bpr: l.bpr, reg: l.reg, bal: l.bal };
      l.recon.forEach((t, k) => { terms[`recon${k + 1}`] = t; });
      l.ssl.forEach((t, k) => { terms[`ssl${k + 1}`] = t; });
      return terms;
    },
    representations() { throw new Error('bench scaling does not rank'); },
    dispose() { model.dispose(); guide.dispose(); },
  };
  const opt = new Adam(recommender.parameters(), { lr: config.lr });
  const userItems = buildCsr(ds.train.users, ds.train.items, ds.nUser, ds.nItem);
  let batches = epochBatches(ds.train, userItems, ds.nItem, o.batch, rng);
  const setupSeconds = (performance.now() - t0) / 1000;
  (globalThis as { gc?: () => void }).gc?.();
  const peakRssScope = resetPeakRss() ? 'training' : 'process';
  const setupRssMB = process.memoryUsage().rss / MB;
  log(`${ds.nUser} users, ${ds.train.users.length} train interactions; setup ${setupSeconds.toFixed(1)} s`);

  // The fused InfoNCE alone (forward + backward, every channel) at the step's shapes, against the model's
  // item table, timed after every fourth step so that it sees the same machine load as the steps.
  const nce = infoNceTimer(o.batch, model.iEmb.weight, config.channels.length);
  const times: number[] = [];
  const nceTimes: number[] = [];
  for (let i = 0; i < o.warmup + o.steps; i++) {
    const start = performance.now();
    let next = batches.next();
    if (next.done) { batches = epochBatches(ds.train, userItems, ds.nItem, o.batch, rng); next = batches.next(); }
    await trainStep(recommender, opt, next.value!, rng, 0, i);
    const ms = performance.now() - start;
    if (i >= o.warmup) times.push(ms);
    if (i === o.warmup - 1 || (i >= o.warmup && (i - o.warmup + 1) % 5 === 0)) log(`step ${i + 1}: ${ms.toFixed(1)} ms`);
    if (i === o.warmup - 1) await nce.run(); // its warm-up
    if (i >= o.warmup && (i - o.warmup) % 4 === 0) nceTimes.push(await nce.run());
  }
  nce.dispose();
  const infoNceMs = median(nceTimes);
  const stepMs = median(times);
  const batchesPerEpoch = Math.ceil(ds.train.users.length / o.batch);
  const row: ScalingRow = {
    items: ds.nItem, users: ds.nUser, trainInteractions: ds.train.users.length, batch: o.batch, steps: times.length,
    stepMs: r4(stepMs), stepMeanMs: r4(times.reduce((a, b) => a + b, 0) / times.length), infoNceMs: r4(infoNceMs), otherMs: r4(stepMs - infoNceMs),
    batchesPerEpoch, epochSeconds: r4(stepMs * batchesPerEpoch / 1000), setupSeconds: r4(setupSeconds),
    setupRssMB: r4(setupRssMB), peakRssMB: r4(peakRssMB()), peakRssScope,
    wasmMemoryMB: wasmMemoryBytes(backend) === null ? null : r4(wasmMemoryBytes(backend)! / MB),
    denseLogitsMB: r4(o.batch * ds.nItem * 4 / MB),
  };
  opt.dispose();
  recommender.dispose();
  return row;
});

/** Times `channels` fused InfoNCE forward + backward passes, [rows, d] queries against `keys` [n, d]. */
function infoNceTimer(rows: number, keys: Tensor, channels: number): { run(): Promise<number>; dispose(): void } {
  const rng = new Random(5);
  const q = keep(rng.randn([rows, keys.shape[1]]));
  const t = keep(tensor(rng.int(rows, 0, keys.shape[0])));
  return {
    async run() {
      const start = performance.now();
      for (let c = 0; c < channels; c++) {
        const { value, grads } = valueAndGrads(() => sum(dotCrossEntropy(q, keys, t)), [q, keys]);
        await value.data();
        [value, ...grads].forEach((x) => x.dispose());
      }
      return performance.now() - start;
    },
    dispose: () => { q.dispose(); t.dispose(); },
  };
}

const r4 = (x: number) => Number(x.toPrecision(4));

/** Resets the kernel's RSS high-water mark (Linux ≥ 4.0); false where that is not possible. */
function resetPeakRss(): boolean {
  try { writeFileSync('/proc/self/clear_refs', '5'); return true; } catch { return false; }
}

function peakRssMB(): number {
  try {
    const kb = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * The wasm backend's linear memory size. The Backend contract has no memory statistic, so this looks for
 * a WebAssembly.Memory among the backend's fields (one level down too); null when there is none.
 */
export function wasmMemoryBytes(backend: Backend): number | null {
  const seen = new Set<unknown>();
  const find = (x: unknown, depth: number): WebAssembly.Memory | null => {
    if (x instanceof WebAssembly.Memory) return x;
    if (!x || typeof x !== 'object' || depth > 2 || seen.has(x)) return null;
    seen.add(x);
    for (const v of Object.values(x)) {
      const m = find(v, depth + 1);
      if (m) return m;
    }
    return null;
  };
  return find(backend, 0)?.buffer.byteLength ?? null;
}
