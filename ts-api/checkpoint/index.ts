/**
 * Checkpoints and serving artifacts on disk (Node): atomic writes, validated reads, and the bridges to the
 * model (rebuild InfoDCL from a checkpoint) and to serving (propagate once, keep the embeddings).
 *
 * @example
 * // in train's onEpoch callback:
 * onEpoch: async (record, snapshot) => {
 *   const s = await snapshot();   // { epoch, optimizer, rng, result, sinceBest }
 *   await saveCheckpoint(join(out, 'model.ckpt'), { model: rec.model, config, ...s, dataset: ds.name,
 *     rawUserIds: ds.rawUserIds, rawItemIds: ds.rawItemIds, trainItems: splitCsr(ds, ds.train) });
 * }
 * // resuming (see tests/product/resume.test.ts):
 * const ckpt = loadCheckpoint(path);
 * const rec = await InfoDclRecommender.create(ds, ckpt.config, new Random(ckpt.config.seed));
 * loadParameters(rec.model, ckpt);
 * const resume = trainStateOf(ckpt)!;        // TrainState for train(..., { resume })
 * await train(rec, ds, { ...opts, resume }, new Random(resume.rng.seed, resume.rng.position));
 */
import { readFileSync, statSync } from 'node:fs';
import { CsrMatrix, Random, type AdamSlotState, type RandomState, type Tensor } from '../../engine/index.js';
import type { Csr } from '../data/csr.js';
import { normalizedAdjacency } from '../data/graph.js';
import { propagate } from '../eval/evaluate.js';
import type { InfoDclConfig } from '../infodcl/config.js';
import { InfoDCL } from '../infodcl/model.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { EpochRecord, TrainResult, TrainState } from '../train.js';
import { decodeArtifact, encodeArtifact, type ArtifactData } from './artifact.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from './checkpoint.js';
import { FormatError, readHeader } from './format.js';

export { decodeArtifact, encodeArtifact, type ArtifactData } from './artifact.js';
export { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from './checkpoint.js';
export { FormatError, FORMAT_VERSION, readHeader } from './format.js';

export interface CheckpointInput {
  /** The model (or anything with named parameters in a fixed order). */
  model: { namedParameters(): [string, Tensor][] };
  config: InfoDclConfig;
  /** Epochs completed. */
  epoch: number;
  rawUserIds: Int32Array;
  rawItemIds: Int32Array;
  /** Each user's train items (dense ids), e.g. splitCsr(ds, ds.train). */
  trainItems: Csr;
  optimizer?: AdamSlotState[] | null;
  rng?: RandomState | null;
  /** Epoch records; defaults to result.history. */
  history?: EpochRecord[];
  /** With sinceBest (both from a TrainState snapshot): makes `trainStateOf` give back an exact resume. */
  result?: TrainResult;
  sinceBest?: number;
  dataset?: string;
}

/** Reads the model's parameters and writes the checkpoint atomically (temp file + rename). */
export async function saveCheckpoint(path: string, input: CheckpointInput): Promise<CheckpointData> {
  const params = [];
  for (const [name, t] of input.model.namedParameters()) params.push({ name, shape: [...t.shape], data: await t.data() as Float32Array });
  const { result } = input;
  const data: CheckpointData = {
    model: 'InfoDCL', dataset: input.dataset ?? 'dataset', createdAt: new Date().toISOString(),
    config: input.config, nUser: input.rawUserIds.length, nItem: input.rawItemIds.length, params,
    epoch: input.epoch, optimizer: input.optimizer ?? null, rng: input.rng ?? null,
    rawUserIds: input.rawUserIds, rawItemIds: input.rawItemIds, trainItems: input.trainItems,
    history: input.history ?? result?.history ?? [],
    train: result ? {
      epochs: result.epochs, epochSeconds: result.epochSeconds, evalSeconds: result.evalSeconds,
      best: result.best, sinceBest: input.sinceBest ?? 0,
    } : null,
  };
  writeFileAtomic(path, encodeCheckpoint(data));
  return data;
}

/** Reads a whole file, with a one-line error for a missing, unreadable or oversized file. */
export function readBytes(path: string, maxBytes = 2 ** 31): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (size > maxBytes) throw new Error(`cannot read ${path}: ${size} bytes is more than the ${maxBytes} allowed`);
  return readFileSync(path);
}

const inFile = <T>(path: string, decode: () => T): T => {
  try {
    return decode();
  } catch (e) {
    if (e instanceof FormatError) throw new FormatError(`${path}: ${e.message}`);
    throw e;
  }
};

export function loadCheckpoint(path: string): CheckpointData {
  const bytes = readBytes(path);
  return inFile(path, () => decodeCheckpoint(bytes));
}

export function saveArtifact(path: string, artifact: ArtifactData): void {
  writeFileAtomic(path, encodeArtifact(artifact));
}

export function loadArtifact(path: string): ArtifactData {
  const bytes = readBytes(path);
  return inFile(path, () => decodeArtifact(bytes));
}

/** A checkpoint or an artifact, whichever the file is. */
export function loadModelFile(path: string): { kind: 'checkpoint'; checkpoint: CheckpointData } | { kind: 'artifact'; artifact: ArtifactData } {
  const bytes = readBytes(path);
  return inFile(path, () => readHeader(bytes).kind === 'C'
    ? { kind: 'checkpoint' as const, checkpoint: decodeCheckpoint(bytes) }
    : { kind: 'artifact' as const, artifact: decodeArtifact(bytes) });
}

/** The training state to resume from (train's `resume` option), or null when the checkpoint lacks one. */
export function trainStateOf(c: CheckpointData): TrainState | null {
  if (!c.optimizer || !c.rng || !c.train) return null;
  const { sinceBest, ...progress } = c.train;
  return { epoch: c.epoch, optimizer: c.optimizer, rng: c.rng, result: { ...progress, history: c.history }, sinceBest };
}

/**
 * Overwrites every parameter of `model` with the checkpoint's (in place, so an optimizer's references stay
 * valid). The names and shapes must match the model's exactly.
 */
export function loadParameters(model: { namedParameters(): [string, Tensor][]; setParameter(path: string, values: Float32Array): void }, c: CheckpointData): void {
  const expected = model.namedParameters();
  const byName = new Map(c.params.map((p) => [p.name, p]));
  for (const [name, t] of expected) {
    const p = byName.get(name);
    if (!p) throw new FormatError(`the checkpoint has no parameter ${name}`);
    if (p.shape.join() !== t.shape.join()) throw new FormatError(`parameter ${name} has shape [${p.shape}], the model expects [${t.shape}]`);
  }
  if (c.params.length !== expected.length) {
    const extra = c.params.find((p) => !expected.some(([n]) => n === p.name));
    throw new FormatError(`the checkpoint has a parameter the model does not: ${extra?.name}`);
  }
  for (const p of c.params) model.setParameter(p.name, p.data);
}

/** Rebuilds InfoDCL on the active backend: `new InfoDCL(nUser, nItem, config, rng)`, then `loadParameters`. */
export function restoreModel(c: CheckpointData, rng = new Random(c.config.seed)): InfoDCL {
  const model = new InfoDCL(c.nUser, c.nItem, c.config, rng);
  try {
    loadParameters(model, c);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Propagated user and item embeddings (LightGCN over the train graph, SPEC §6) of a model's raw ones. */
export async function propagatedEmbeddings(users: Tensor, items: Tensor, trainItems: Csr, layers: number): Promise<{ users: Float32Array; items: Float32Array }> {
  const rows = new Int32Array(trainItems.indices.length);
  for (let u = 0; u < trainItems.nRows; u++) rows.fill(u, trainItems.indptr[u], trainItems.indptr[u + 1]);
  const a = normalizedAdjacency(trainItems.nRows, trainItems.nCols, rows, trainItems.indices);
  const graph = CsrMatrix.fromHost(a.n, a.n, a.indptr, a.indices, a.values, true);
  const reps = propagate(users, items, graph, layers);
  try {
    return { users: await reps.users.data() as Float32Array, items: await reps.items.data() as Float32Array };
  } finally {
    reps.users.dispose();
    reps.items.dispose();
    graph.dispose();
  }
}

/** The serving artifact of a checkpoint (propagation runs on the active backend). */
export async function artifactFromCheckpoint(c: CheckpointData): Promise<ArtifactData> {
  const model = restoreModel(c);
  try {
    const reps = await propagatedEmbeddings(model.uEmb.weight, model.iEmb.weight, c.trainItems, c.config.layers);
    return {
      model: c.model, dataset: c.dataset, createdAt: new Date().toISOString(), epoch: c.epoch,
      nUser: c.nUser, nItem: c.nItem, dim: c.config.dim, ...reps,
      rawUserIds: c.rawUserIds, rawItemIds: c.rawItemIds, trainItems: c.trainItems, config: { ...c.config },
    };
  } finally {
    model.dispose();
  }
}

/** An artifact from either kind of file; a checkpoint is propagated on the active backend. */
export async function loadAsArtifact(path: string): Promise<ArtifactData> {
  const f = loadModelFile(path);
  return f.kind === 'artifact' ? f.artifact : artifactFromCheckpoint(f.checkpoint);
}
