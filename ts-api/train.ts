/**
 * The training loop shared by InfoDCL and the baselines: shuffled batches with negatives, Adam, a finite
 * check on every loss term, periodic full-ranking evaluation under either protocol, early stopping.
 */
import { Adam, type AdamSlotState, liveTensors, Random, type RandomState, type Tensor, valueAndGrads } from '../engine/index.js';
import { type Csr } from './data/csr.js';
import type { Dataset } from './data/dataset.js';
import { evaluateRanking, splitCsr, type MetricTable, type Protocol } from './eval/evaluate.js';
import type { Batch } from './infodcl/model.js';
import { epochBatches } from './sampler.js';

/** A model the loop can train and rank with. */
export interface Recommender {
  readonly name: string;
  parameters(): Tensor[];
  /** Every loss term of one batch (scalars); `total` is minimised. */
  batchLoss(batch: Batch, rng: Random): Promise<Record<string, Tensor> & { total: Tensor }>;
  /** User and item representations to rank with (after propagation where the model has one). */
  representations(): { users: Tensor; items: Tensor };
  dispose(): void;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  protocol: Protocol;
  /** Evaluate after epoch index e (0-based) when e mod evalEvery = 0, and after the last epoch. */
  evalEvery: number;
  /** Stop after this many evaluations without a better selection metric (0 = never). */
  patience: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Called after every batch (progress display). */
  onBatch?: (progress: { epoch: number; batch: number; batches: number; loss: number }) => void;
  /** Called after every epoch with its record and a way to snapshot the whole training state (checkpoints). */
  onEpoch?: (record: EpochRecord, snapshot: () => Promise<TrainState>) => void | Promise<void>;
  /** Continue a run from a snapshot (same model parameters, loaded by the caller). */
  resume?: TrainState;
}

/** Everything besides the model parameters that a run needs to continue exactly where it stopped. */
export interface TrainState {
  /** Epochs completed. */
  epoch: number;
  optimizer: AdamSlotState[];
  rng: RandomState;
  result: TrainResult;
  sinceBest: number;
}

export interface EpochRecord {
  epoch: number;
  seconds: number;
  /** Mean of each loss term over the epoch's batches. */
  losses: Record<string, number>;
  valid?: MetricTable;
  test?: MetricTable;
}

export interface TrainResult {
  epochs: number;
  epochSeconds: number[];
  evalSeconds: number[];
  history: EpochRecord[];
  /** The selected evaluation: trained epochs behind it, its valid metrics (null under `reference`) and test. */
  best: { epoch: number; valid: MetricTable | null; test: MetricTable } | null;
}

const SELECT = 'recall@20';

export async function train(model: Recommender, ds: Dataset, opts: TrainOptions, rng = new Random(opts.seed)): Promise<TrainResult> {
  const log = opts.log ?? (() => {});
  const trainCsr = splitCsr(ds, ds.train);
  const validCsr = splitCsr(ds, ds.valid);
  const testCsr = splitCsr(ds, ds.test);
  const opt = new Adam(model.parameters(), { lr: opts.lr });
  const r0 = opts.resume;
  if (r0) opt.loadState(r0.optimizer);
  const result: TrainResult = r0 ? structuredClone(r0.result) : { epochs: 0, epochSeconds: [], evalSeconds: [], history: [], best: null };
  let sinceBest = r0?.sinceBest ?? 0;
  const batches = Math.ceil(ds.train.users.length / opts.batchSize);
  try {
    for (let epoch = r0?.epoch ?? 0; epoch < opts.epochs; epoch++) {
      const t0 = performance.now();
      const sums: Record<string, number> = {};
      let done = 0;
      for (const batch of epochBatches(ds.train, trainCsr, ds.nItem, opts.batchSize, rng)) {
        const terms = await trainStep(model, opt, batch, rng, epoch, done);
        for (const [k, v] of Object.entries(terms)) sums[k] = (sums[k] ?? 0) + v;
        done++;
        opts.onBatch?.({ epoch: epoch + 1, batch: done, batches, loss: terms.total });
      }
      const seconds = (performance.now() - t0) / 1000;
      result.epochSeconds.push(seconds);
      result.epochs = epoch + 1;
      const record: EpochRecord = { epoch: epoch + 1, seconds, losses: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / done])) };
      log(`epoch ${epoch + 1}/${opts.epochs}  loss ${record.losses.total.toFixed(5)}  ${seconds.toFixed(2)} s`);

      if (epoch % opts.evalEvery === 0 || epoch === opts.epochs - 1) {
        const e0 = performance.now();
        const improved = await evaluate(model, ds, opts.protocol, record, result, { trainCsr, validCsr, testCsr });
        result.evalSeconds.push((performance.now() - e0) / 1000);
        const shown = opts.protocol === 'honest' ? record.valid! : record.test!;
        log(`  ${opts.protocol === 'honest' ? 'valid' : 'test'} recall@20 ${shown[SELECT].toFixed(4)}  ndcg@20 ${shown['ndcg@20'].toFixed(4)}${improved ? '  (best)' : ''}`);
        sinceBest = improved ? 0 : sinceBest + 1;
      }
      result.history.push(record);
      await opts.onEpoch?.(record, async () => ({
        epoch: epoch + 1, optimizer: await opt.state(), rng: rng.state(), result: structuredClone(result), sinceBest,
      }));
      if (opts.patience > 0 && sinceBest >= opts.patience) {
        log(`early stop: no better ${SELECT} in ${opts.patience} evaluations`);
        break;
      }
    }
  } finally {
    opt.dispose();
  }
  return result;
}

/**
 * One training step: every loss term of `batch` (read back and checked finite), the backward pass and one
 * Adam update; returns the terms. `epoch` and `index` (0-based) only name the batch in a divergence error.
 * Used by `train` and by the scaling benchmark.
 */
export async function trainStep(model: Recommender, opt: Adam, batch: Batch, rng: Random, epoch = 0, index = 0): Promise<Record<string, number>> {
  const live = liveTensors();
  const values: Record<string, number> = {};
  const { value, grads } = await valueAndGrads(async () => {
    const terms = await model.batchLoss(batch, rng);
    for (const [k, t] of Object.entries(terms)) {
      const v = await t.item();
      if (!Number.isFinite(v)) throw new Error(`training diverged: loss term "${k}" is ${v} at epoch ${epoch + 1}, batch ${index + 1}`);
      values[k] = v;
    }
    return terms.total;
  }, opt.params);
  opt.step(grads);
  value.dispose();
  grads.forEach((g) => g.dispose());
  if (liveTensors() !== live) throw new Error(`internal: a training step leaked ${liveTensors() - live} tensors`);
  return values;
}

async function evaluate(model: Recommender, ds: Dataset, protocol: Protocol, record: EpochRecord, result: TrainResult,
  s: { trainCsr: Csr; validCsr: Csr; testCsr: Csr }): Promise<boolean> {
  const reps = model.representations();
  try {
    if (protocol === 'reference') {
      record.test = await evaluateRanking(reps.users, reps.items, ds, s.testCsr, [s.trainCsr], 'reference');
      if (result.best && record.test[SELECT] <= result.best.test[SELECT]) return false;
      result.best = { epoch: record.epoch, valid: null, test: record.test };
      return true;
    }
    record.valid = await evaluateRanking(reps.users, reps.items, ds, s.validCsr, [s.trainCsr], 'honest');
    if (result.best && record.valid[SELECT] <= result.best.valid![SELECT]) return false;
    record.test = await evaluateRanking(reps.users, reps.items, ds, s.testCsr, [s.trainCsr, s.validCsr], 'honest');
    result.best = { epoch: record.epoch, valid: record.valid, test: record.test };
    return true;
  } finally {
    reps.users.dispose();
    reps.items.dispose();
  }
}
