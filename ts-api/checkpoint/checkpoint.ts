/**
 * The training checkpoint as plain data: parameters by name, Adam moments, RNG position, epoch, config,
 * raw-id maps, each user's train items and the training history, in the container of format.ts.
 * Decoding validates every field (FormatError names the first bad one). Pure: no Node imports.
 */
import type { AdamSlotState, RandomState } from '../../engine/index.js';
import type { Csr } from '../data/csr.js';
import type { MetricTable } from '../eval/evaluate.js';
import { DEFAULT_CONFIG, resolveConfig, type InfoDclConfig } from '../infodcl/config.js';
import type { EpochRecord } from '../train.js';
import { decodeContainer, encodeContainer, FormatError } from './format.js';
import { arr, csr, f32, finite, idTable, int, num, numbers, obj, plain, str } from './validate.js';

export interface NamedParameter { name: string; shape: number[]; data: Float32Array }

/** What `train` needs besides the model to continue a run exactly (TrainResult less its history). */
export interface TrainProgress {
  epochs: number;
  epochSeconds: number[];
  evalSeconds: number[];
  best: { epoch: number; valid: MetricTable | null; test: MetricTable } | null;
  sinceBest: number;
}

export interface CheckpointData {
  model: 'InfoDCL';
  dataset: string;
  createdAt: string;
  config: InfoDclConfig;
  nUser: number;
  nItem: number;
  /** In the model's registration order. */
  params: NamedParameter[];
  /** Epochs completed. */
  epoch: number;
  /** Adam state per parameter (same order as `params`), or null. */
  optimizer: AdamSlotState[] | null;
  rng: RandomState | null;
  rawUserIds: Int32Array;
  rawItemIds: Int32Array;
  trainItems: Csr;
  history: EpochRecord[];
  train: TrainProgress | null;
}

const MAX_ROWS = 2 ** 27;
const MAX_LIST = 1 << 20;

export function encodeCheckpoint(c: CheckpointData): Uint8Array {
  return encodeContainer('C', {
    model: c.model, dataset: c.dataset, createdAt: c.createdAt, config: plain(c.config),
    nUser: c.nUser, nItem: c.nItem, epoch: c.epoch,
    params: c.params.map((p) => ({ name: p.name, shape: p.shape, data: p.data })),
    optimizer: c.optimizer?.map((s) => ({ step: s.step, m: s.m, v: s.v })) ?? null,
    rng: c.rng ? { seed: c.rng.seed, position: c.rng.position } : null,
    rawUserIds: c.rawUserIds, rawItemIds: c.rawItemIds,
    trainItems: { indptr: c.trainItems.indptr, indices: c.trainItems.indices },
    history: plain(c.history), train: plain(c.train),
  });
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointData {
  const p = obj(decodeContainer(bytes, 'C'), 'payload');
  if (p.model !== 'InfoDCL') throw new FormatError(`invalid field model: expected "InfoDCL", got ${JSON.stringify(p.model)?.slice(0, 40)}`);
  const nUser = int(p.nUser, 'nUser', 1, MAX_ROWS);
  const nItem = int(p.nItem, 'nItem', 1, MAX_ROWS);
  const config = checkConfig(p.config);
  const params = arr(p.params, 'params', 10_000).map((v, i) => {
    const o = obj(v, `params[${i}]`);
    const name = str(o.name, `params[${i}].name`, 200);
    const shape = arr(o.shape, `${name}.shape`, 8).map((d, k) => int(d, `${name}.shape[${k}]`, 0, MAX_ROWS));
    const size = shape.reduce((a, b) => a * b, 1);
    return { name, shape, data: finite(f32(o.data, `${name}.data`, size), name) };
  });
  if (new Set(params.map((x) => x.name)).size !== params.length) throw new FormatError('invalid field params: repeated parameter names');
  const embedding = (name: string, rows: number) => {
    const e = params.find((x) => x.name === name);
    if (!e || e.shape.length !== 2 || e.shape[0] !== rows || e.shape[1] !== config.dim) {
      throw new FormatError(`invalid field params: ${name} must have shape [${rows}, ${config.dim}]`);
    }
  };
  embedding('uEmb.weight', nUser);
  embedding('iEmb.weight', nItem);
  const optimizer = p.optimizer === null ? null : arr(p.optimizer, 'optimizer', params.length).map((v, i) => {
    const o = obj(v, `optimizer[${i}]`);
    const size = params[i].data.length;
    return { step: int(o.step, `optimizer[${i}].step`, 0, Number.MAX_SAFE_INTEGER), m: finite(f32(o.m, `optimizer[${i}].m`, size), `optimizer[${i}].m`),
      v: finite(f32(o.v, `optimizer[${i}].v`, size), `optimizer[${i}].v`) };
  });
  if (optimizer && optimizer.length !== params.length) throw new FormatError(`invalid field optimizer: ${optimizer.length} slots for ${params.length} parameters`);
  const rng = p.rng === null ? null : (() => {
    const o = obj(p.rng, 'rng');
    return { seed: int(o.seed, 'rng.seed', 0, Number.MAX_SAFE_INTEGER), position: int(o.position, 'rng.position', 0, Number.MAX_SAFE_INTEGER) };
  })();
  return {
    model: 'InfoDCL',
    dataset: str(p.dataset, 'dataset'),
    createdAt: str(p.createdAt, 'createdAt'),
    config, nUser, nItem, params,
    epoch: int(p.epoch, 'epoch'),
    optimizer, rng,
    rawUserIds: idTable(p.rawUserIds, 'rawUserIds', nUser),
    rawItemIds: idTable(p.rawItemIds, 'rawItemIds', nItem),
    trainItems: csr(p.trainItems, 'trainItems', nUser, nItem),
    history: arr(p.history, 'history', MAX_LIST).map((v, i) => epochRecord(v, `history[${i}]`)),
    train: p.train === null ? null : trainProgress(p.train),
  };
}

/** Known keys with the default's type, then the config's own range checks; sizes bounded (no huge models:
 * d ≤ 512, at most 4 channels). */
function checkConfig(v: unknown): InfoDclConfig {
  const o = obj(v, 'config');
  const defaults = DEFAULT_CONFIG as unknown as Record<string, unknown>;
  for (const [k, x] of Object.entries(o)) {
    if (!Object.hasOwn(defaults, k)) throw new FormatError(`invalid field config: unknown key "${k.slice(0, 40)}"`);
    const d = defaults[k];
    const ok = Array.isArray(d) ? Array.isArray(x) && x.length <= 4 && x.every((e) => typeof e === typeof d[0]) : typeof x === typeof d;
    if (!ok || (typeof x === 'number' && !Number.isFinite(x))) throw new FormatError(`invalid field config.${k}: expected ${Array.isArray(d) ? 'a list' : typeof d}`);
  }
  int(o.dim, 'config.dim', 8, 512);   // bounds the model restoreModel builds (~30·d² floats per channel)
  int(o.steps, 'config.steps', 1, 100_000);
  int(o.layers, 'config.layers', 0, 64);
  try {
    return resolveConfig(o as Partial<InfoDclConfig>);
  } catch (e) {
    throw new FormatError(`invalid field ${(e as Error).message}`);
  }
}

function optionalMetrics(v: unknown, what: string): MetricTable | undefined {
  return v === undefined ? undefined : numbers(v, what);
}

function epochRecord(v: unknown, what: string): EpochRecord {
  const o = obj(v, what);
  const r: EpochRecord = { epoch: int(o.epoch, `${what}.epoch`), seconds: num(o.seconds, `${what}.seconds`), losses: numbers(o.losses, `${what}.losses`) };
  const valid = optionalMetrics(o.valid, `${what}.valid`);
  const test = optionalMetrics(o.test, `${what}.test`);
  if (valid) r.valid = valid;
  if (test) r.test = test;
  return r;
}

function trainProgress(v: unknown): TrainProgress {
  const o = obj(v, 'train');
  const seconds = (x: unknown, what: string) => arr(x, what, MAX_LIST).map((s, i) => num(s, `${what}[${i}]`));
  const best = o.best === null ? null : (() => {
    const b = obj(o.best, 'train.best');
    return { epoch: int(b.epoch, 'train.best.epoch'), valid: b.valid === null ? null : numbers(b.valid, 'train.best.valid'), test: numbers(b.test, 'train.best.test') };
  })();
  return {
    epochs: int(o.epochs, 'train.epochs'),
    epochSeconds: seconds(o.epochSeconds, 'train.epochSeconds'),
    evalSeconds: seconds(o.evalSeconds, 'train.evalSeconds'),
    best,
    sinceBest: int(o.sinceBest, 'train.sinceBest'),
  };
}
