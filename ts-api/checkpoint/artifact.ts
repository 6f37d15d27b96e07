/**
 * The serving artifact: everything `recommend` and `serve` need and nothing else: propagated user and item
 * embeddings (LightGCN output, SPEC §6), raw-id maps, each user's train items (CSR over dense ids) and the
 * config, in the container of format.ts. Pure: no Node imports, so edge runtimes decode it from bytes.
 *
 * @example
 * const bytes = encodeArtifact(artifact);          // Uint8Array, write it anywhere
 * const same = decodeArtifact(bytes);              // validated; throws FormatError on a bad file
 */
import type { Csr } from '../data/csr.js';
import { decodeContainer, encodeContainer } from './format.js';
import { csr, f32, finite, idTable, int, obj, plain, str } from './validate.js';

export interface ArtifactData {
  model: string;
  dataset: string;
  createdAt: string;
  /** Training epochs behind the embeddings. */
  epoch: number;
  nUser: number;
  nItem: number;
  dim: number;
  /** Row-major [nUser × dim] and [nItem × dim]. */
  users: Float32Array;
  items: Float32Array;
  /** Dense id → raw id, strictly ascending. */
  rawUserIds: Int32Array;
  rawItemIds: Int32Array;
  /** Each user's train items (dense ids): excluded from recommendations unless asked otherwise. */
  trainItems: Csr;
  /** The model's hyperparameters, for information. */
  config: Record<string, unknown>;
}

const MAX_ROWS = 2 ** 27;

export function encodeArtifact(a: ArtifactData): Uint8Array {
  return encodeContainer('A', {
    model: a.model, dataset: a.dataset, createdAt: a.createdAt, epoch: a.epoch,
    nUser: a.nUser, nItem: a.nItem, dim: a.dim, users: a.users, items: a.items,
    rawUserIds: a.rawUserIds, rawItemIds: a.rawItemIds,
    trainItems: { indptr: a.trainItems.indptr, indices: a.trainItems.indices },
    config: plain(a.config),
  });
}

/** Decodes and validates an artifact: every field's type, every array's length, ids, CSR, finite values. */
export function decodeArtifact(bytes: Uint8Array): ArtifactData {
  const p = obj(decodeContainer(bytes, 'A'), 'payload');
  const nUser = int(p.nUser, 'nUser', 1, MAX_ROWS);
  const nItem = int(p.nItem, 'nItem', 1, MAX_ROWS);
  const dim = int(p.dim, 'dim', 1, 4096);
  return {
    model: str(p.model, 'model'),
    dataset: str(p.dataset, 'dataset'),
    createdAt: str(p.createdAt, 'createdAt'),
    epoch: int(p.epoch, 'epoch'),
    nUser, nItem, dim,
    users: finite(f32(p.users, 'users', nUser * dim), 'users'),
    items: finite(f32(p.items, 'items', nItem * dim), 'items'),
    rawUserIds: idTable(p.rawUserIds, 'rawUserIds', nUser),
    rawItemIds: idTable(p.rawItemIds, 'rawItemIds', nItem),
    trainItems: csr(p.trainItems, 'trainItems', nUser, nItem),
    config: obj(p.config, 'config'),
  };
}
