// Dataset folder loading (SPEC §1) and the .npy reader/writer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { carveValidSplit, denseIdOf, loadDataset, parseInteractionText, type Dataset } from '../../ts-api/data/dataset.js';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../ts-api/data/npy.js';
import { buildCsr, csrHas, csrRow, transposeCsr } from '../../ts-api/data/csr.js';

const officeDir = fileURLToPath(new URL('../../../shared/datasets/office', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'infodcl-data-'));
let folderCount = 0;
const quiet = { log: () => {} };

/** Writes `files` (name -> text or bytes) into a fresh folder under the OS temp dir. */
function folder(files: Record<string, string | Uint8Array>): string {
  const dir = join(scratch, `ds${folderCount++}`);
  mkdirSync(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

function pairs(ds: Dataset, split: 'train' | 'valid' | 'test'): string[] {
  const s = ds[split];
  return Array.from(s.users, (u, k) => `${ds.rawUserIds[u]}:${ds.rawItemIds[s.items[k]]}`).sort();
}

function expectThrow(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test('npy: float32 / int32 / int64 round trip, v1 and v2 headers', () => {
  const f = Float32Array.from([1.5, -2, 3.25, 0, 7, 8]);
  const back = parseNpy(encodeNpy(f, [2, 3]));
  assert.equal(back.shape, [2, 3]);
  assert.is(back.dtype, 'float32');
  assert.equal(Array.from(back.data), Array.from(f));
  const i = Int32Array.from([5, -1, 2147483647, 0]);
  assert.equal(Array.from(parseNpy(encodeNpy(i, [4])).data), Array.from(i));
  const wide = parseNpy(encodeNpy(i, [2, 2], 'int64'));
  assert.is(wide.dtype, 'int64');
  assert.ok(wide.data instanceof Int32Array);
  assert.equal(Array.from(wide.data), Array.from(i));
  // A version 2.0 header (4-byte length) carrying the same array.
  const v1 = encodeNpy(f, [6]);
  const headerLen = v1[8] | (v1[9] << 8);
  const v2 = new Uint8Array(v1.length + 2);
  v2.set(v1.subarray(0, 8));
  v2[6] = 2;
  new DataView(v2.buffer).setUint32(8, headerLen, true);
  v2.set(v1.subarray(10), 12);
  assert.equal(Array.from(parseNpy(v2).data), Array.from(f));
  // The header pads the payload to a multiple of 64 bytes, as numpy does.
  assert.is((v1.length - f.byteLength) % 64, 0);
});

test('npy: numpy-written file (Office iEmbeds_pt) reads with the right shape', () => {
  const a = readNpy(join(officeDir, 'iEmbeds_pt.npy'));
  assert.equal(a.shape, [2420, 64]);
  assert.is(a.dtype, 'float32');
  assert.ok(Number.isFinite(a.data[0]) && a.data.length === 2420 * 64);
});

test('npy: rejects fortran order, bad magic, unsupported dtypes and truncated data, naming the file', () => {
  const good = encodeNpy(Float32Array.from([1, 2, 3, 4]), [2, 2]);
  const text = Buffer.from(good).toString('latin1');
  const patch = (from: string, to: string) => Buffer.from(text.replace(from, to.padEnd(from.length)), 'latin1');
  const dir = folder({
    'fortran.npy': patch("'fortran_order': False", "'fortran_order': True"),
    'magic.npy': Buffer.concat([Buffer.from('XNUMPY'), Buffer.from(good).subarray(6)]),
    'dtype.npy': patch("'<f4'", "'<f2'"),
    'bigendian.npy': patch("'<f4'", "'>f4'"),
    'short.npy': good.subarray(0, good.length - 3),
  });
  expectThrow(() => readNpy(join(dir, 'fortran.npy')), /fortran\.npy.*Fortran/i);
  expectThrow(() => readNpy(join(dir, 'magic.npy')), /magic\.npy.*magic/);
  expectThrow(() => readNpy(join(dir, 'dtype.npy')), /dtype\.npy.*unsupported .npy dtype '<f2'/);
  expectThrow(() => readNpy(join(dir, 'bigendian.npy')), /bigendian\.npy.*'>f4'/);
  expectThrow(() => readNpy(join(dir, 'short.npy')), /short\.npy.*truncated/);
  const roundTrip = join(dir, 'w.npy');
  writeNpy(roundTrip, Float32Array.from([9, 8]), [1, 2]);
  assert.equal(Array.from(readNpy(roundTrip).data), [9, 8]);
});

test('text parsing: "user item" lines and "user item1 item2 ..." lines give the same pairs', () => {
  const a = parseInteractionText('0 5\n0 7\n1 5\n\n2 9\n', 'a.txt');
  const b = parseInteractionText('0 5 7\r\n1 5\n2\t9\n', 'b.txt');
  assert.is(a.format, 'pairs');
  assert.is(b.format, 'lists');
  assert.equal(Array.from(a.users), Array.from(b.users));
  assert.equal(Array.from(a.items), Array.from(b.items));
});

test('loader: both text layouts per file, and .npy lists (int32 and int64), agree', () => {
  const t1 = folder({ 'train.txt': '0 1\n0 2\n1 2\n2 0\n', 'valid.txt': '0 3 4\n', 'test.txt': '1 3\n2 4\n' });
  const t2 = folder({ 'train.txt': '0 1 2\n1 2\n2 0\n', 'val.txt': '0 3\n0 4\n', 'test.txt': '1 3\n2 4\n' });
  const list = (xs: number[][], wide: boolean) => encodeNpy(Int32Array.from(xs.flat()), [xs.length, 2], wide ? 'int64' : 'int32');
  const t3 = folder({
    'train_list.npy': list([[0, 1], [0, 2], [1, 2], [2, 0]], true),
    'valid_list.npy': list([[0, 3], [0, 4]], false),
    'test_list.npy': list([[1, 3], [2, 4]], true),
  });
  const [d1, d2, d3] = [t1, t2, t3].map((d) => loadDataset(d, quiet));
  assert.equal(d1.formats, { train: 'pairs', valid: 'lists', test: 'pairs' });
  assert.equal(d2.formats, { train: 'lists', valid: 'pairs', test: 'pairs' });
  assert.equal(d3.formats, { train: 'npy', valid: 'npy', test: 'npy' });
  for (const d of [d2, d3]) {
    for (const s of ['train', 'valid', 'test'] as const) assert.equal(pairs(d, s), pairs(d1, s), s);
    assert.is(d.nUser, 3);
    assert.is(d.nItem, 5);
  }
  assert.ok(d2.sources.valid.endsWith('val.txt'));
  assert.is(d1.validCarved, false);
  assert.is(d1.uEmbedsPt, null);
});

test('loader: raw non-contiguous ids map over the union of splits, sorted numerically; pretrained rows by raw id', () => {
  // Users 42, 7, 1000; items 30, 11, 5 (item 5 occurs only in test).
  const dim = 64;
  const uRows = 1001;
  const iRows = 31;
  const u = new Float32Array(uRows * dim).map((_, k) => Math.floor(k / dim)); // row r filled with r
  const it = new Float32Array(iRows * dim).map((_, k) => -Math.floor(k / dim));
  const dir = folder({
    'train.txt': '42 30\n7 11\n1000 30\n42 11\n',
    'valid.txt': '7 30\n',
    'test.txt': '1000 5\n42 5\n',
    'uEmbeds_pt.npy': encodeNpy(u, [uRows, dim]),
    'iEmbeds_pt.npy': encodeNpy(it, [iRows, dim]),
  });
  const ds = loadDataset(dir, quiet);
  assert.equal(Array.from(ds.rawUserIds), [7, 42, 1000]);
  assert.equal(Array.from(ds.rawItemIds), [5, 11, 30]);
  assert.is(denseIdOf(ds.rawUserIds, 1000), 2);
  assert.is(denseIdOf(ds.rawUserIds, 8), -1);
  assert.equal(Array.from(ds.train.users), [1, 0, 2, 1]);
  assert.equal(Array.from(ds.train.items), [2, 1, 2, 1]);
  assert.equal(Array.from(ds.test.items), [0, 0]);
  // Row r of the .npy belongs to raw id r.
  assert.is(ds.uEmbedsPt!.length, 3 * dim);
  assert.equal([ds.uEmbedsPt![0], ds.uEmbedsPt![dim], ds.uEmbedsPt![2 * dim + 63]], [7, 42, 1000]);
  assert.equal([ds.iEmbedsPt![0], ds.iEmbedsPt![dim], ds.iEmbedsPt![2 * dim]], [-5, -11, -30]);
  // Too few rows for the largest raw id, or the wrong width: clear errors naming the file.
  const bad = folder({
    'train.txt': '42 30\n', 'test.txt': '1000 5\n',
    'uEmbeds_pt.npy': encodeNpy(new Float32Array(1000 * dim), [1000, dim]),
  });
  expectThrow(() => loadDataset(bad, quiet), /uEmbeds_pt\.npy: 1000 rows, but rows are indexed by raw user id and the largest raw id is 1000/);
  const narrow = folder({ 'train.txt': '0 0\n', 'test.txt': '0 1\n', 'iEmbeds_pt.npy': encodeNpy(new Float32Array(2 * 8), [2, 8]) });
  expectThrow(() => loadDataset(narrow, quiet), /iEmbeds_pt\.npy: item vectors must have 64 columns, got 8/);
});

test('loader: a missing valid split is carved from train, deterministically for a seed, with a message', () => {
  // User 0: 25 train items, user 1: 3, user 2: 2, user 3: 12.
  const lines: string[] = [];
  const add = (u: number, n: number) => { for (let k = 0; k < n; k++) lines.push(`${u} ${(u * 7 + k) % 40}`); };
  add(0, 25); add(1, 3); add(2, 2); add(3, 12);
  const dir = folder({ 'train.txt': lines.join('\n'), 'test.txt': '0 39\n1 39\n2 39\n3 39\n' });
  const messages: string[] = [];
  const a = loadDataset(dir, { log: (m) => messages.push(m) });
  const b = loadDataset(dir, quiet);
  const c = loadDataset(dir, { ...quiet, seed: 99 });
  assert.ok(a.validCarved);
  assert.is(a.formats.valid, 'carved');
  assert.match(messages.join('\n'), /no validation split: carved 4 pairs/);
  assert.equal(pairs(a, 'valid'), pairs(b, 'valid'));
  assert.equal(pairs(a, 'train'), pairs(b, 'train'));
  assert.not.equal(pairs(a, 'valid'), pairs(c, 'valid'));
  const perUser = (ds: Dataset) => [0, 1, 2, 3].map((u) => ds.valid.users.filter((x) => x === u).length);
  assert.equal(perUser(a), [2, 1, 0, 1]); // floor(10%), at least 1 from 3 items on, none below 3
  assert.is(a.train.users.length + a.valid.users.length, 42);
  const trainSet = new Set(pairs(a, 'train'));
  for (const p of pairs(a, 'valid')) assert.not.ok(trainSet.has(p), `${p} is in both splits`);
  // Stand-alone helper: the remaining train keeps its order.
  const carved = carveValidSplit({ users: Int32Array.from([0, 0, 0, 0]), items: Int32Array.from([3, 1, 4, 2]) }, 1, 5);
  assert.is(carved.valid.items.length, 1);
  const rest = Array.from(carved.train.items);
  assert.equal(rest, [3, 1, 4, 2].filter((i) => i !== carved.valid.items[0]));
});

test('loader: malformed lines are rejected with file and line number; empty train/test splits too', () => {
  const bad = folder({ 'train.txt': '0 1\n0 2\n0 x3\n', 'test.txt': '0 1\n' });
  expectThrow(() => loadDataset(bad, quiet), /train\.txt:3: malformed interaction line "0 x3"/);
  const neg = folder({ 'train.txt': '0 1\n', 'test.txt': '0 1\n1 -2\n' });
  expectThrow(() => loadDataset(neg, quiet), /test\.txt:2: /);
  const lone = folder({ 'train.txt': '0 1\n5\n', 'test.txt': '0 1\n' });
  expectThrow(() => loadDataset(lone, quiet), /train\.txt:2: .*at least one item/);
  const float = folder({ 'train.txt': '0 1.5\n', 'test.txt': '0 1\n' });
  expectThrow(() => loadDataset(float, quiet), /train\.txt:1:/);
  const emptyTrain = folder({ 'train.txt': '\n\n', 'test.txt': '0 1\n' });
  expectThrow(() => loadDataset(emptyTrain, quiet), /train\.txt: the train split is empty/);
  const emptyTest = folder({ 'train.txt': '0 1\n', 'test.txt': '' });
  expectThrow(() => loadDataset(emptyTest, quiet), /test\.txt: the test split is empty/);
  expectThrow(() => loadDataset(folder({ 'test.txt': '0 1\n' }), quiet), /no train split/);
  const npyBad = folder({ 'train_list.npy': encodeNpy(Int32Array.from([0, 1, 2]), [1, 3]), 'test.txt': '0 1\n' });
  expectThrow(() => loadDataset(npyBad, quiet), /train_list\.npy: interaction list must have shape \(N, 2\)/);
});

test('loader: repeated pairs inside a split count once', () => {
  const messages: string[] = [];
  const ds = loadDataset(folder({ 'train.txt': '0 1\n0 1\n1 1\n', 'valid.txt': '', 'test.txt': '1 0\n' }), { log: (m) => messages.push(m) });
  assert.is(ds.train.users.length, 2);
  assert.is(ds.valid.users.length, 0);
  assert.match(messages.join('\n'), /dropped 1 repeated/);
});

test('Office: 4,905 users, 2,420 items, 40,877 / 5,880 / 6,501 pairs, identity id mapping', () => {
  const ds = loadDataset(officeDir, quiet);
  assert.is(ds.nUser, 4905);
  assert.is(ds.nItem, 2420);
  assert.is(ds.train.users.length, 40877);
  assert.is(ds.valid.users.length, 5880);
  assert.is(ds.test.users.length, 6501);
  assert.equal(ds.formats, { train: 'pairs', valid: 'pairs', test: 'pairs' });
  assert.ok(ds.rawUserIds.every((r, k) => r === k) && ds.rawItemIds.every((r, k) => r === k));
  assert.is(ds.uEmbedsPt!.length, 4905 * 64);
  const raw = readNpy(join(officeDir, 'iEmbeds_pt.npy')).data;
  assert.equal(Array.from(ds.iEmbedsPt!.subarray(0, 64 * 3)), Array.from(raw.subarray(0, 64 * 3)));
  // First line of train.txt is "0 163".
  assert.is(readFileSync(join(officeDir, 'train.txt'), 'utf8').split('\n')[0], '0 163');
  assert.equal([ds.train.users[0], ds.train.items[0]], [0, 163]);
  // 3 items occur only in valid/test.
  const trainItems = new Set(ds.train.items);
  assert.is(ds.nItem - trainItems.size, 3);
});

test('csr: sorted, deduplicated rows; transpose; membership', () => {
  const a = buildCsr([2, 0, 2, 2, 0], [3, 1, 0, 3, 4], 3, 5);
  assert.equal(Array.from(a.indptr), [0, 2, 2, 4]);
  assert.equal(Array.from(a.indices), [1, 4, 0, 3]);
  const t = transposeCsr(a);
  assert.equal(Array.from(csrRow(t, 3)), [2]);
  assert.equal(Array.from(csrRow(t, 4)), [0]);
  assert.ok(csrHas(a, 2, 3));
  assert.not.ok(csrHas(a, 1, 3));
  assert.throws(() => buildCsr([3], [0], 3, 5), /out of range/);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
