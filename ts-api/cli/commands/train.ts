/** `infodcl train`: trains InfoDCL (or a baseline) on a dataset folder or the synthetic default, then evaluates. */
import { Random } from '../../../engine/index.js';
import { BASELINE_DEFAULTS, LightGcn, MfBpr, MostPop } from '../../baselines.js';
import { loadDataset, type Dataset } from '../../data/dataset.js';
import { generateSynthetic } from '../../data/synthetic.js';
import { evaluateRanking, splitCsr } from '../../eval/evaluate.js';
import { resolveConfig, DEFAULT_CONFIG, type InfoDclConfig } from '../../infodcl/config.js';
import { InfoDclRecommender } from '../../infodcl/recommender.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { curvesSvg } from '../../report/curves.js';
import { loadCheckpoint, saveCheckpoint, trainStateOf } from '../../checkpoint/index.js';
import { train, type EpochRecord, type Recommender, type TrainResult } from '../../train.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const d = DEFAULT_CONFIG;
const MODELS = ['infodcl', 'lightgcn', 'mf-bpr', 'mostpop'] as const;

/** Model hyperparameters: no flag defaults, so that a flag given wins over --config and the defaults. */
const HYPER = {
  batchSize: { type: 'int', min: 1, description: `rows per batch (${d.batchSize}; baselines ${BASELINE_DEFAULTS.batchSize})` },
  lr: { type: 'number', min: 0, description: `Adam learning rate (${d.lr}; baselines ${BASELINE_DEFAULTS.lr})` },
  dim: { type: 'int', min: 8, description: `embedding width (${d.dim})` },
  steps: { type: 'int', min: 1, description: `diffusion steps T (${d.steps})` },
  schedule: { type: 'string', choices: ['exp', 'linear', 'cosine', 'sqrt'], description: `beta schedule (${d.schedule})` },
  betaStart: { type: 'number', description: `linear schedule start (${d.betaStart})` },
  betaEnd: { type: 'number', description: `linear schedule end (${d.betaEnd})` },
  diffuser: { type: 'string', choices: ['mlp1', 'mlp2'], description: `denoiser type (${d.diffuser})` },
  flag: { type: 'int', min: 0, max: 3, description: `how metadata enters training, SPEC §4 (${d.flag})` },
  channels: { type: 'list', description: `metadata per channel: knowledge,social (${d.channels.join(',')})` },
  tau: { type: 'number', description: `InfoNCE temperature (${d.tau})` },
  reconWeight: { type: 'number', description: `reconstruction weight (${d.reconWeight})` },
  bprWeight: { type: 'number', description: `BPR weight (${d.bprWeight})` },
  regWeight: { type: 'number', description: `embedding regularisation weight (${d.regWeight})` },
  balWeight: { type: 'number', description: `balance (predicted-x) weight (${d.balWeight})` },
  sslWeight: { type: 'number', description: `contrastive weight (${d.sslWeight})` },
  dropout: { type: 'number', min: 0, max: 0.99, description: `PSNet transformer dropout (${d.dropout})` },
  initStd: { type: 'number', description: `embedding init std (${d.initStd})` },
  guidance: { type: 'number', description: `classifier-free guidance w of reverse sampling (${d.guidance})` },
  sslChannelWeights: { type: 'list', description: `contrastive weight per channel (${d.sslChannelWeights.join(',')})` },
  layers: { type: 'int', min: 0, description: `LightGCN layers (${d.layers}; LightGCN baseline ${BASELINE_DEFAULTS.layers})` },
  l2: { type: 'number', min: 0, description: `baselines' L2 weight (${BASELINE_DEFAULTS.l2})` },
} as const;

export interface TrainOutput extends TrainResult {
  model: string;
  dataset: string;
  backend: string;
  epochSecondsMedian: number | null;
  evalSecondsMedian: number | null;
  config: Record<string, unknown>;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new UsageError(`--config: cannot read ${path}: ${(e as Error).message}`); }
  try {
    const v = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    for (const k of Object.keys(v)) if (!(k in HYPER) && !['epochs', 'seed', 'protocol', 'evalEvery', 'patience', 'model'].includes(k)) throw new Error(`unknown key "${k}"`);
    return v;
  } catch (e) {
    throw new UsageError(`--config ${path}: ${(e as Error).message}`);
  }
}

export default defineCommand({
  summary: 'train InfoDCL or a baseline, evaluate, and write metrics.json',
  description: 'Trains on --data <dir> (SPEC §1 formats) or --synthetic, evaluating every --eval-every epochs.\n'
    + 'Protocols: honest (select on valid, report test) or reference (the authors\': test every 10 epochs).\n'
    + 'Hyperparameters come from the defaults (office.sh), then --config <file.json>, then flags.\n'
    + 'With --out, InfoDCL writes model.ckpt after every epoch; --resume continues it to the bit.',
  flags: {
    data: { type: 'string', placeholder: 'dir', description: 'dataset folder' },
    synthetic: { type: 'boolean', description: 'use the built-in seeded synthetic dataset' },
    model: { type: 'string', default: 'infodcl', choices: MODELS, description: 'what to train' },
    epochs: { type: 'int', min: 0, description: 'training epochs (default 100)' },
    seed: { type: 'int', min: 0, description: `random seed (default ${d.seed})` },
    protocol: { type: 'string', choices: ['honest', 'reference'], description: 'evaluation protocol (default honest)' },
    evalEvery: { type: 'int', min: 1, description: 'evaluate every n epochs (default 10)' },
    patience: { type: 'int', min: 0, description: 'stop after n evaluations without improvement (default 0: never)' },
    out: { type: 'string', placeholder: 'dir', description: 'folder for metrics.json' },
    config: { type: 'string', placeholder: 'file.json', description: 'hyperparameters as JSON (flags win)' },
    resume: { type: 'string', placeholder: 'model.ckpt', description: 'continue an InfoDCL run from its checkpoint (same data; --epochs is the total)' },
    ...HYPER,
  },
  async run(ctx): Promise<TrainOutput> {
    const f = ctx.flags;
    if (!!f.data === f.synthetic) throw new UsageError('train: give exactly one of --data <dir> or --synthetic');
    const file = f.config ? readConfigFile(f.config) : {};
    const given = Object.fromEntries(Object.entries(f).filter(([k, v]) => k in HYPER && v !== undefined && !(Array.isArray(v) && v.length === 0)));
    const opts = { ...file, ...given } as Record<string, unknown>;
    const pick = <T>(k: string, fallback: T): T => (f[k as keyof typeof f] ?? file[k] ?? fallback) as T;
    const ckpt = f.resume ? loadCheckpoint(f.resume) : null;
    const model = pick('model', 'infodcl') as (typeof MODELS)[number];
    if (ckpt && model !== 'infodcl') throw new UsageError('--resume continues InfoDCL runs only (baselines write no checkpoint)');
    const state = ckpt ? trainStateOf(ckpt) : undefined;
    if (ckpt && !state) throw new Error(`${f.resume}: the checkpoint holds no training state to resume from`);
    const seed = ckpt?.config.seed ?? pick('seed', d.seed);
    const backend = await ctx.useBackend();
    const ds: Dataset = f.synthetic ? generateSynthetic({ seed }) : loadDataset(f.data!, { log: ctx.log });
    ctx.log(`${ds.name}: ${ds.nUser} users, ${ds.nItem} items, ${ds.train.users.length}/${ds.valid.users.length}/${ds.test.users.length} interactions; backend ${backend.name}`);
    const rng = new Random(seed);
    let rec: Recommender;
    let config: Record<string, unknown>;
    let infodcl: InfoDclRecommender | null = null;
    if (model === 'infodcl') {
      const cfg: InfoDclConfig = ckpt?.config ?? resolveConfig({ ...opts, seed } as Partial<InfoDclConfig>);
      config = { ...cfg };
      rec = infodcl = await InfoDclRecommender.create(ds, cfg, rng, ctx.log);
      if (ckpt) {
        if (ckpt.nUser !== ds.nUser || ckpt.nItem !== ds.nItem) {
          throw new Error(`${f.resume}: trained on ${ckpt.nUser} users × ${ckpt.nItem} items, this dataset has ${ds.nUser} × ${ds.nItem}`);
        }
        for (const p of ckpt.params) infodcl.model.setParameter(p.name, p.data);
        ctx.log(`resuming after epoch ${ckpt.epoch} from ${f.resume}`);
      }
    } else {
      const b = { ...BASELINE_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([k]) => k in BASELINE_DEFAULTS)) } as typeof BASELINE_DEFAULTS;
      config = { ...b, seed };
      rec = model === 'mostpop' ? new MostPop(ds) : model === 'mf-bpr' ? new MfBpr(ds, rng, b) : new LightGcn(ds, rng, b);
    }
    const protocol = pick('protocol', 'honest') as 'honest' | 'reference';
    const epochs = model === 'mostpop' ? 0 : pick('epochs', 100);
    const history: EpochRecord[] = state ? [...state.result.history] : [];
    const trainRng = state ? new Random(state.rng.seed, state.rng.position) : rng;
    const progress = new ProgressLine(process.stderr);
    try {
      const result = epochs === 0
        ? await evaluateOnly(rec, ds, protocol)
        : await train(rec, ds, {
          epochs, protocol, seed,
          batchSize: (config.batchSize as number), lr: (config.lr as number),
          evalEvery: pick('evalEvery', 10), patience: pick('patience', 0),
          log: (line) => { progress.clear(); ctx.log(line); },
          onBatch: (p) => progress.update(p, epochs),
          resume: state ?? undefined,
          onEpoch: async (record, snapshot) => {
            history.push(record);
            if (!f.out) return;
            writeFileAtomic(join(f.out, 'curves.svg'), curvesSvg(history));
            if (infodcl) {
              await saveCheckpoint(join(f.out, 'model.ckpt'), {
                model: infodcl.model, config: infodcl.model.config, dataset: ds.name, ...await snapshot(),
                rawUserIds: ds.rawUserIds, rawItemIds: ds.rawItemIds, trainItems: splitCsr(ds, ds.train),
              });
            }
          },
        }, trainRng);
      progress.clear();
      const out: TrainOutput = {
        model: rec.name, dataset: ds.name, backend: backend.name, ...result,
        epochSecondsMedian: median(result.epochSeconds), evalSecondsMedian: median(result.evalSeconds), config,
      };
      if (f.out) writeFileAtomic(join(f.out, 'metrics.json'), `${JSON.stringify(out, null, 2)}\n`);
      return out;
    } finally {
      rec.dispose();
    }
  },
  render: (r) => {
    const b = r.best;
    if (!b) return `${r.model}: no evaluation`;
    const row = (name: string, m: Record<string, number> | null) => m
      ? `${name.padEnd(6)} ${[10, 20, 50, 100].map((k) => `R@${k} ${m[`recall@${k}`].toFixed(4)}  N@${k} ${m[`ndcg@${k}`].toFixed(4)}`).join('  ')}` : '';
    return [`${r.model} on ${r.dataset} (${r.backend}): best after ${b.epoch} epochs, ${r.epochSecondsMedian?.toFixed(2) ?? '-'} s/epoch`,
      row('valid', b.valid), row('test', b.test)].filter(Boolean).join('\n');
  },
});

/** Models without training (MostPop): one evaluation under the protocol. */
async function evaluateOnly(rec: Recommender, ds: Dataset, protocol: 'honest' | 'reference'): Promise<TrainResult> {
  const t0 = performance.now();
  const reps = rec.representations();
  const train = splitCsr(ds, ds.train);
  const valid = splitCsr(ds, ds.valid);
  const test = protocol === 'honest'
    ? await evaluateRanking(reps.users, reps.items, ds, splitCsr(ds, ds.test), [train, valid], 'honest')
    : await evaluateRanking(reps.users, reps.items, ds, splitCsr(ds, ds.test), [train], 'reference');
  const v = protocol === 'honest' ? await evaluateRanking(reps.users, reps.items, ds, valid, [train], 'honest') : null;
  reps.users.dispose();
  reps.items.dispose();
  return { epochs: 0, epochSeconds: [], evalSeconds: [(performance.now() - t0) / 1000], history: [], best: { epoch: 0, valid: v, test } };
}

/** A live "epoch · batch · loss · ETA" line on a terminal; silent when stderr is piped (epoch lines suffice). */
class ProgressLine {
  private start = performance.now();
  private done = 0;
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(p: { epoch: number; batch: number; batches: number; loss: number }, epochs: number): void {
    this.done++;
    if (!this.stream.isTTY) return;
    const left = (epochs - p.epoch) * p.batches + (p.batches - p.batch);
    const eta = ((performance.now() - this.start) / this.done) * left / 1000;
    const mmss = `${Math.floor(eta / 60)}:${String(Math.floor(eta % 60)).padStart(2, '0')}`;
    this.stream.write(`\r\x1b[Kepoch ${p.epoch}/${epochs}  batch ${p.batch}/${p.batches}  loss ${p.loss.toFixed(5)}  ETA ${mmss}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
