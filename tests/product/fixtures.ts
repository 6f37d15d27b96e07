/** Small, seeded checkpoints and artifacts for the product tests (reference backend, tiny InfoDCL). */
import { Random, setBackend } from '../../engine/index.js';
import { createReferenceBackend } from '../../backends/reference/index.js';
import type { ArtifactData } from '../../ts-api/checkpoint/artifact.js';
import { type CheckpointData } from '../../ts-api/checkpoint/checkpoint.js';
import { buildCsr } from '../../ts-api/data/csr.js';
import { resolveConfig } from '../../ts-api/infodcl/config.js';
import { InfoDCL } from '../../ts-api/infodcl/model.js';

/** A random artifact: raw ids 10, 13, 16, … for users and 100, 102, … for items; user r has seen items r..r+2. */
export function randomArtifact(nUser: number, nItem: number, dim = 16, seed = 1): ArtifactData {
  const rng = new Random(seed);
  const users = Int32Array.from({ length: nUser * 3 }, (_, k) => Math.floor(k / 3));
  const items = Int32Array.from({ length: nUser * 3 }, (_, k) => (Math.floor(k / 3) + (k % 3)) % nItem);
  return {
    model: 'InfoDCL', dataset: 'random', createdAt: '2026-01-01T00:00:00.000Z', epoch: 0, nUser, nItem, dim,
    users: rng.normal(nUser * dim, 0, 0.3), items: rng.normal(nItem * dim, 0, 0.3),
    rawUserIds: Int32Array.from({ length: nUser }, (_, i) => 10 + 3 * i),
    rawItemIds: Int32Array.from({ length: nItem }, (_, i) => 100 + 2 * i),
    trainItems: buildCsr(users, items, nUser, nItem), config: { dim, note: 'random embeddings' },
  };
}

/** A tiny InfoDCL (d = 8) on the reference backend and a checkpoint of it with optimizer and RNG state. */
export async function tinyCheckpoint(): Promise<{ model: InfoDCL; data: Omit<CheckpointData, 'createdAt'> }> {
  setBackend(createReferenceBackend());
  const config = resolveConfig({ dim: 8, steps: 10, seed: 5 });
  const [nUser, nItem] = [6, 9];
  const model = new InfoDCL(nUser, nItem, config, new Random(5));
  const params = [];
  for (const [name, t] of model.namedParameters()) params.push({ name, shape: [...t.shape], data: await t.data() as Float32Array });
  const a = randomArtifact(nUser, nItem, 8);
  const metrics = { 'recall@20': 0.5, 'ndcg@20': 0.25 };
  return {
    model,
    data: {
      model: 'InfoDCL', dataset: 'tiny', config, nUser, nItem, params, epoch: 2,
      optimizer: params.map((p, i) => ({ step: 2, m: new Float32Array(p.data.length).fill(i), v: new Float32Array(p.data.length).fill(0.5) })),
      rng: { seed: 5, position: 1234 },
      rawUserIds: a.rawUserIds, rawItemIds: a.rawItemIds, trainItems: a.trainItems,
      history: [{ epoch: 1, seconds: 0.5, losses: { total: 1 }, valid: metrics, test: metrics }, { epoch: 2, seconds: 0.4, losses: { total: 0.9 } }],
      train: { epochs: 2, epochSeconds: [0.5, 0.4], evalSeconds: [0.1], best: { epoch: 1, valid: metrics, test: metrics }, sinceBest: 1 },
    },
  };
}
