// Dataset folders (SPEC §1): interaction splits as text or (N,2) .npy lists, raw ids mapped to dense ids,
// an optional carved validation split, and optional pretrained vectors.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { denseIdOf } from './ids.js';
import { readNpy, writeNpy } from './npy.js';

export { denseIdOf };
import { DataRng } from './rng.js';

export type SplitName = 'train' | 'valid' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

/** Interaction pairs as parallel id arrays (dense ids in a Dataset, raw ids before mapping). */
export interface Interactions {
  users: Int32Array;
  items: Int32Array;
}

export interface Dataset {
  name: string;
  nUser: number;
  nItem: number;
  train: Interactions;
  valid: Interactions;
  test: Interactions;
  /** Dense id -> raw id, ascending (raw ids are sorted numerically, so 0-based contiguous ids map to themselves). */
  rawUserIds: Int32Array;
  rawItemIds: Int32Array;
  /** Pretrained vectors (nUser × embedDim, nItem × embedDim) with rows in dense-id order, or null. */
  uEmbedsPt: Float32Array | null;
  iEmbedsPt: Float32Array | null;
  embedDim: number;
  /** True when the validation split was carved out of train (no validation file). */
  validCarved: boolean;
  /** Where each split came from (file path, or a description). */
  sources: Record<SplitName, string>;
  /** Layout of each split's file: 'pairs' ("user item" lines), 'lists' ("user item1 item2 ..."), 'npy', or
   * 'memory' / 'carved'. */
  formats: Record<SplitName, SplitFormat>;
}

export type SplitFormat = 'pairs' | 'lists' | 'npy' | 'memory' | 'carved';

export interface BuildOptions {
  name?: string;
  /** Seed of the validation carving (default 2024). */
  seed?: number;
  /** Fraction of each user's train items carved into valid when there is no valid split (default 0.1). */
  validFraction?: number;
  /** Pretrained vectors with rows indexed by RAW id (row r = raw id r); gathered into dense-id order. */
  uEmbedsPtRaw?: { data: Float32Array; rows: number; cols: number; source: string } | null;
  iEmbedsPtRaw?: { data: Float32Array; rows: number; cols: number; source: string } | null;
  /** Required width of pretrained vectors (default 64). */
  embedDim?: number;
  /** Receives notes such as "valid carved from train" (default: a line on stderr). */
  log?: (message: string) => void;
  sources?: Partial<Record<SplitName, string>>;
  formats?: Partial<Record<SplitName, SplitFormat>>;
}

export interface LoadOptions extends Omit<BuildOptions, 'uEmbedsPtRaw' | 'iEmbedsPtRaw' | 'sources' | 'formats'> {
  /** Load uEmbeds_pt.npy / iEmbeds_pt.npy when present (default true). */
  pretrained?: boolean;
}

const defaultLog = (m: string) => process.stderr.write(`[dataset] ${m}\n`);

/** Parses "user item" lines or "user item1 item2 ..." lines (both handled per line; the result says which
 * layout the file has). Blank lines are skipped; anything else that is not non-negative integers is an error
 * naming the file and line. */
export function parseInteractionText(text: string, file: string): Interactions & { format: 'pairs' | 'lists' } {
  const users: number[] = [];
  const items: number[] = [];
  const lines = text.split('\n');
  let pairsOnly = true;
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln].trim();
    if (line === '') continue;
    const tokens = line.split(/\s+/);
    if (tokens.length !== 2) pairsOnly = false;
    const ids = tokens.map((t) => (/^\d{1,10}$/.test(t) ? Number(t) : NaN));
    const bad = ids.findIndex((v) => !(v <= 2147483647));
    if (bad >= 0) {
      throw new Error(`${file}:${ln + 1}: malformed interaction line ${JSON.stringify(line.slice(0, 80))}: ` +
        `token ${JSON.stringify(tokens[bad].slice(0, 20))} is not a non-negative 32-bit integer id ` +
        `(expected "user item" or "user item1 item2 ...")`);
    }
    if (ids.length < 2) {
      throw new Error(`${file}:${ln + 1}: malformed interaction line ${JSON.stringify(line)}: a user id needs at least one item id`);
    }
    for (let k = 1; k < ids.length; k++) {
      users.push(ids[0]);
      items.push(ids[k]);
    }
  }
  return { users: Int32Array.from(users), items: Int32Array.from(items), format: pairsOnly ? 'pairs' : 'lists' };
}

/** Reads an (N,2) integer .npy interaction list. */
export function readInteractionNpy(path: string): Interactions {
  const a = readNpy(path);
  if (a.dtype !== 'int32' && a.dtype !== 'int64') throw new Error(`${path}: interaction list must be an integer array, got ${a.dtype}`);
  if (a.shape.length !== 2 || a.shape[1] !== 2) throw new Error(`${path}: interaction list must have shape (N, 2), got (${a.shape.join(', ')})`);
  const n = a.shape[0];
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    users[k] = a.data[2 * k];
    items[k] = a.data[2 * k + 1];
    if (users[k] < 0 || items[k] < 0) throw new Error(`${path}: row ${k} has a negative id (${users[k]}, ${items[k]})`);
  }
  return { users, items };
}

function findSplitFile(dir: string, split: SplitName): string | null {
  const stems = split === 'valid' ? ['valid', 'val', 'validation'] : [split];
  // .npy lists take precedence over text, as in the reference's DataHandler.
  for (const stem of stems) if (existsSync(join(dir, `${stem}_list.npy`))) return join(dir, `${stem}_list.npy`);
  for (const stem of stems) if (existsSync(join(dir, `${stem}.txt`))) return join(dir, `${stem}.txt`);
  return null;
}

function readSplit(path: string): Interactions & { format: SplitFormat } {
  if (path.endsWith('.npy')) return { ...readInteractionNpy(path), format: 'npy' };
  return parseInteractionText(readFileSync(path, 'utf8'), path);
}

/** Sorted distinct values of the given arrays. */
function sortedUnion(arrays: Int32Array[]): Int32Array {
  const set = new Set<number>();
  for (const a of arrays) for (let k = 0; k < a.length; k++) set.add(a[k]);
  return Int32Array.from(set).sort();
}

function mapIds(table: Int32Array, raw: Int32Array): Int32Array {
  const out = new Int32Array(raw.length);
  // Contiguous 0-based ids (the common case) map to themselves.
  const identity = table.length > 0 && table[0] === 0 && table[table.length - 1] === table.length - 1;
  for (let k = 0; k < raw.length; k++) out[k] = identity ? raw[k] : denseIdOf(table, raw[k]);
  return out;
}

/** Drops repeated (user, item) pairs, keeping first occurrences in order; returns how many were dropped. */
function dedupPairs(s: Interactions, nItem: number): { split: Interactions; dropped: number } {
  const seen = new Set<number>();
  const keep: number[] = [];
  for (let k = 0; k < s.users.length; k++) {
    const key = s.users[k] * nItem + s.items[k];
    if (!seen.has(key)) {
      seen.add(key);
      keep.push(k);
    }
  }
  if (keep.length === s.users.length) return { split: s, dropped: 0 };
  return {
    split: { users: Int32Array.from(keep, (k) => s.users[k]), items: Int32Array.from(keep, (k) => s.items[k]) },
    dropped: s.users.length - keep.length,
  };
}

/** Moves, per user, floor(fraction·n) of the n train items (at least 1 when n ≥ 3, none when n < 3) into a
 * validation split; which items is decided by a seeded shuffle. Order of the remaining pairs is kept. */
export function carveValidSplit(train: Interactions, nUser: number, seed: number, fraction = 0.1): { train: Interactions; valid: Interactions } {
  const rng = new DataRng(seed);
  const byUser: number[][] = Array.from({ length: nUser }, () => []);
  for (let k = 0; k < train.users.length; k++) byUser[train.users[k]].push(k);
  const toValid = new Uint8Array(train.users.length);
  const validIdx: number[] = [];
  for (let u = 0; u < nUser; u++) {
    const pos = byUser[u];
    const n = pos.length;
    const take = n >= 3 ? Math.max(1, Math.floor(fraction * n)) : 0;
    for (let k = 0; k < take; k++) {
      const j = k + rng.int(n - k); // partial Fisher-Yates
      [pos[k], pos[j]] = [pos[j], pos[k]];
      toValid[pos[k]] = 1;
      validIdx.push(pos[k]);
    }
  }
  const keep: number[] = [];
  for (let k = 0; k < train.users.length; k++) if (!toValid[k]) keep.push(k);
  const pick = (idx: number[]): Interactions => ({
    users: Int32Array.from(idx, (k) => train.users[k]),
    items: Int32Array.from(idx, (k) => train.items[k]),
  });
  return { train: pick(keep), valid: pick(validIdx) };
}

function gatherRows(
  m: { data: Float32Array; rows: number; cols: number; source: string },
  table: Int32Array, dim: number, what: string,
): Float32Array {
  if (m.cols !== dim) throw new Error(`${m.source}: ${what} vectors must have ${dim} columns, got ${m.cols}`);
  const maxRaw = table.length ? table[table.length - 1] : -1;
  if (m.rows <= maxRaw) {
    throw new Error(`${m.source}: ${m.rows} rows, but rows are indexed by raw ${what} id and the largest raw id is ${maxRaw}`);
  }
  const out = new Float32Array(table.length * dim);
  for (let d = 0; d < table.length; d++) out.set(m.data.subarray(table[d] * dim, (table[d] + 1) * dim), d * dim);
  return out;
}

/** Builds a Dataset from splits with raw ids: ids are mapped over the union of all splits (sorted
 * numerically), repeated pairs within a split dropped, and a missing valid split carved from train. */
export function buildDataset(raw: { train: Interactions; valid?: Interactions | null; test: Interactions }, opts: BuildOptions = {}): Dataset {
  const log = opts.log ?? defaultLog;
  const sources: Record<SplitName, string> = { train: 'train', valid: 'valid', test: 'test', ...opts.sources };
  const formats: Record<SplitName, SplitFormat> = { train: 'memory', valid: 'memory', test: 'memory', ...opts.formats };
  if (raw.train.users.length === 0) throw new Error(`${sources.train}: the train split is empty`);
  if (raw.test.users.length === 0) throw new Error(`${sources.test}: the test split is empty`);
  const parts = [raw.train, raw.test, ...(raw.valid ? [raw.valid] : [])];
  const rawUserIds = sortedUnion(parts.map((p) => p.users));
  const rawItemIds = sortedUnion(parts.map((p) => p.items));
  const nUser = rawUserIds.length;
  const nItem = rawItemIds.length;
  const mapped = (s: Interactions, name: SplitName): Interactions => {
    const { split, dropped } = dedupPairs({ users: mapIds(rawUserIds, s.users), items: mapIds(rawItemIds, s.items) }, nItem);
    if (dropped) log(`${sources[name]}: dropped ${dropped} repeated (user, item) pairs`);
    return split;
  };
  let train = mapped(raw.train, 'train');
  const test = mapped(raw.test, 'test');
  let valid: Interactions;
  const validCarved = !raw.valid;
  if (raw.valid) {
    valid = mapped(raw.valid, 'valid');
  } else {
    const seed = opts.seed ?? 2024;
    ({ train, valid } = carveValidSplit(train, nUser, seed, opts.validFraction ?? 0.1));
    sources.valid = `carved from ${sources.train} (seed ${seed})`;
    formats.valid = 'carved';
    log(`no validation split: carved ${valid.users.length} pairs (${Math.round((opts.validFraction ?? 0.1) * 100)}% of each user's train items, ` +
      `at least 1 for users with >= 3) out of ${sources.train} with seed ${seed}`);
  }
  const embedDim = opts.embedDim ?? 64;
  return {
    name: opts.name ?? 'dataset',
    nUser, nItem, train, valid, test, rawUserIds, rawItemIds,
    uEmbedsPt: opts.uEmbedsPtRaw ? gatherRows(opts.uEmbedsPtRaw, rawUserIds, embedDim, 'user') : null,
    iEmbedsPt: opts.iEmbedsPtRaw ? gatherRows(opts.iEmbedsPtRaw, rawItemIds, embedDim, 'item') : null,
    embedDim, validCarved, sources, formats,
  };
}

function readPretrained(path: string): { data: Float32Array; rows: number; cols: number; source: string } {
  const a = readNpy(path);
  if (a.shape.length !== 2) throw new Error(`${path}: pretrained vectors must be 2-D, got shape (${a.shape.join(', ')})`);
  if (a.dtype !== 'float32' && a.dtype !== 'float64') throw new Error(`${path}: pretrained vectors must be float32, got ${a.dtype}`);
  const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  return { data, rows: a.shape[0], cols: a.shape[1], source: path };
}

/** Loads a dataset folder (SPEC §1). Pretrained rows are indexed by raw id: row r of iEmbeds_pt.npy belongs
 * to the item whose raw id is r (for 0-based contiguous ids, as in Office, that is dense id r). */
export function loadDataset(dir: string, opts: LoadOptions = {}): Dataset {
  if (!existsSync(dir)) throw new Error(`dataset folder not found: ${dir}`);
  const files: Partial<Record<SplitName, string>> = {};
  for (const s of SPLITS) files[s] = findSplitFile(dir, s) ?? undefined;
  if (!files.train) throw new Error(`${dir}: no train split (expected train.txt or train_list.npy)`);
  if (!files.test) throw new Error(`${dir}: no test split (expected test.txt or test_list.npy)`);
  const wantPt = opts.pretrained ?? true;
  const uPath = join(dir, 'uEmbeds_pt.npy');
  const iPath = join(dir, 'iEmbeds_pt.npy');
  const train = readSplit(files.train);
  const valid = files.valid ? readSplit(files.valid) : null;
  const test = readSplit(files.test);
  return buildDataset(
    { train, valid, test },
    {
      ...opts,
      name: opts.name ?? basename(dir),
      sources: files,
      formats: { train: train.format, test: test.format, ...(valid ? { valid: valid.format } : {}) },
      uEmbedsPtRaw: wantPt && existsSync(uPath) ? readPretrained(uPath) : null,
      iEmbedsPtRaw: wantPt && existsSync(iPath) ? readPretrained(iPath) : null,
    },
  );
}

/** Writes a dataset as a folder: {train,valid,test}.txt ("user item" lines, raw ids) and, when present,
 * uEmbeds_pt.npy / iEmbeds_pt.npy with row r = raw id r (rows of unused raw ids are zero). */
export function writeDataset(ds: Dataset, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const s of SPLITS) {
    const { users, items } = ds[s];
    const lines = new Array<string>(users.length);
    for (let k = 0; k < users.length; k++) lines[k] = `${ds.rawUserIds[users[k]]} ${ds.rawItemIds[items[k]]}`;
    writeFileSync(join(dir, `${s}.txt`), lines.length ? lines.join('\n') + '\n' : '');
  }
  const writeRows = (name: string, m: Float32Array | null, table: Int32Array) => {
    if (!m) return;
    const rows = table.length ? table[table.length - 1] + 1 : 0;
    const out = new Float32Array(rows * ds.embedDim);
    for (let d = 0; d < table.length; d++) out.set(m.subarray(d * ds.embedDim, (d + 1) * ds.embedDim), table[d] * ds.embedDim);
    writeNpy(join(dir, name), out, [rows, ds.embedDim]);
  };
  writeRows('uEmbeds_pt.npy', ds.uEmbedsPt, ds.rawUserIds);
  writeRows('iEmbeds_pt.npy', ds.iEmbedsPt, ds.rawItemIds);
}
