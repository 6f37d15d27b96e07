// Checkpoints and artifacts: round trips, the model rebuilt from a checkpoint, and clear errors for
// truncated, corrupted, wrong-version and hostile files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeArtifact, decodeCheckpoint, encodeArtifact, encodeCheckpoint, FormatError, loadArtifact, loadCheckpoint,
  restoreModel, saveArtifact, saveCheckpoint, trainStateOf,
} from '../../ts-api/checkpoint/index.js';
import { crc32, encodeContainer, HEADER_BYTES } from '../../ts-api/checkpoint/format.js';
import { randomArtifact, tinyCheckpoint } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'infodcl-ckpt-'));
const { model, data } = await tinyCheckpoint();
const good = encodeCheckpoint({ ...data, createdAt: 'now' });

/** Runs `fn` and returns its FormatError message (fails on success or on any other error). */
function formatError(fn: () => unknown, label: string): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof FormatError) return e.message;
    throw new Error(`${label}: expected a FormatError, got ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : e}`);
  }
  throw new Error(`${label}: expected a FormatError, but it decoded`);
}

/** A container whose payload is `payload` with a correct header and checksum (a "hostile" but well-formed file). */
const packr = new Packr({ moreTypes: true, useRecords: false });
function withPayload(kind: 'C' | 'A', body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length);
  out.set(encodeContainer(kind, null).subarray(0, HEADER_BYTES));
  const v = new DataView(out.buffer);
  v.setUint32(12, crc32(body), true);
  v.setBigUint64(16, BigInt(body.length), true);
  out.set(body, HEADER_BYTES);
  return out;
}
const payloadOf = (bytes: Uint8Array) => packr.unpack(bytes.subarray(HEADER_BYTES)) as Record<string, unknown>;

test('saveCheckpoint / loadCheckpoint round trip: parameters, optimizer, RNG, ids, CSR, history', async () => {
  const path = join(dir, 'a', 'model.ckpt');
  const { result, sinceBest } = trainStateOf({ ...data, createdAt: '' })!;
  await saveCheckpoint(path, { model, config: data.config, epoch: 2, optimizer: data.optimizer, rng: data.rng, result, sinceBest,
    rawUserIds: data.rawUserIds, rawItemIds: data.rawItemIds, trainItems: data.trainItems, dataset: 'tiny' });
  const c = loadCheckpoint(path);
  assert.equal(c.params.map((p) => p.name), model.namedParameters().map(([n]) => n));
  for (const [i, p] of c.params.entries()) {
    assert.ok(p.data instanceof Float32Array);
    assert.equal(Array.from(p.data), Array.from(data.params[i].data), p.name);
  }
  assert.equal(c.optimizer![3].m, data.optimizer![3].m);
  assert.equal(c.rng, { seed: 5, position: 1234 });
  assert.equal(c.config, data.config);
  assert.ok(c.rawUserIds instanceof Int32Array && c.trainItems.indptr instanceof Int32Array);
  assert.equal(c.trainItems, data.trainItems);
  assert.equal(c.history, data.history);
  assert.equal(trainStateOf(c), trainStateOf({ ...data, createdAt: '' }));
  assert.match(readFileSync(path).subarray(0, 5).toString(), 'IDCLC');
});

test('restoreModel rebuilds InfoDCL with every parameter; mismatches are named', async () => {
  const c = decodeCheckpoint(good);
  const m = restoreModel(c);
  for (const [name, t] of m.namedParameters()) {
    assert.equal(Array.from(await t.data()), Array.from(c.params.find((p) => p.name === name)!.data), name);
  }
  m.dispose();
  const missing = { ...c, params: c.params.slice(1) };
  assert.match(formatError(() => restoreModel(missing), 'missing'), /no parameter uEmb\.weight|must have shape/);
  const wrong = { ...c, params: c.params.map((p) => (p.name === 'model_1.none_embedding.weight' ? { ...p, shape: [8, 1] } : p)) };
  assert.match(formatError(() => restoreModel(wrong), 'shape'), /model_1\.none_embedding\.weight has shape \[8,1\]/);
});

test('artifact round trip keeps typed arrays', () => {
  const a = randomArtifact(7, 11);
  const path = join(dir, 'x.artifact');
  saveArtifact(path, a);
  const b = loadArtifact(path);
  assert.ok(b.users instanceof Float32Array && b.users.length === 7 * 16);
  assert.equal(b, a);
});

test('CRC-32 is zlib\'s', () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.is(crc32(new Uint8Array(0)), 0);
});

test('truncated, extended, wrong magic, wrong version, wrong kind, bad checksum: one clear message each', () => {
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 10), /too short/],
    [good.subarray(0, good.length - 1), /truncated file: the header declares \d+ payload bytes, the file has \d+/],
    [new Uint8Array([...good, 0]), /trailing bytes/],
    [new Uint8Array(100), /bad magic/],
    [(() => { const b = good.slice(); b[8] = 9; return b; })(), /unsupported format version 9 \(this build reads version 1\)/],
    [(() => { const b = good.slice(); b[200] ^= 1; return b; })(), /checksum mismatch/],
    [(() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(16, 2n ** 62n, true); return b; })(), /truncated file/],
  ];
  for (const [bytes, re] of cases) assert.match(formatError(() => decodeCheckpoint(bytes), String(re)), re);
  assert.match(formatError(() => decodeArtifact(good), 'kind'), /this is a checkpoint, expected a serving artifact/);
  writeFileSync(join(dir, 'cut.ckpt'), good.subarray(0, 1000));
  assert.match(formatError(() => loadCheckpoint(join(dir, 'cut.ckpt')), 'file'), /cut\.ckpt: truncated file/);
  assert.throws(() => loadCheckpoint(join(dir, 'none.ckpt')), /cannot read .*none\.ckpt: no such file/);
});

test('hostile payloads with a valid checksum: huge lengths, wrong types, NaN ints, missing fields, bad ids', () => {
  const p = payloadOf(good);
  const hostile: [string, unknown, RegExp][] = [
    ['nUser NaN', { ...p, nUser: NaN }, /nUser: expected an integer/],
    ['nItem huge', { ...p, nItem: 2 ** 40 }, /nItem: expected an integer/],
    ['missing rng field', { ...p, rng: undefined }, /extension|rng/],
    ['missing config', (() => { const q = { ...p }; delete q.config; return q; })(), /config: expected an object/],
    ['params not an array', { ...p, params: 'x' }, /params: expected an array/],
    ['param data as Float64Array', { ...p, params: [{ ...(p.params as any[])[0], data: new Float64Array(48) }] }, /Float32Array, got Float64Array/],
    ['param shape NaN', { ...p, params: [{ ...(p.params as any[])[0], shape: [NaN, 8] }] }, /shape\[0\]: expected an integer/],
    ['ids not ascending', { ...p, rawUserIds: Int32Array.from([5, 4, 6, 7, 8, 9]) }, /rawUserIds\[1\]/],
    ['csr out of range', { ...p, trainItems: { ...(p.trainItems as object), indices: new Int32Array(18).fill(99) } }, /trainItems\.indices\[0\]/],
    ['config unknown key', { ...p, config: { ...(p.config as object), evil: 1 } }, /unknown key "evil"/],
    ['config dim huge', { ...p, config: { ...(p.config as object), dim: 1 << 20 } }, /config\.dim/],
    ['optimizer NaN step', { ...p, optimizer: [{ step: NaN, m: new Float32Array(1), v: new Float32Array(1) }] }, /optimizer\[0\]\.step/],
    ['history entry wrong', { ...p, history: [{ epoch: 'one' }] }, /history\[0\]\.epoch/],
    ['model name', { ...p, model: 'GPT' }, /model: expected "InfoDCL"/],
  ];
  for (const [label, payload, re] of hostile) {
    assert.match(formatError(() => decodeCheckpoint(withPayload('C', packr.pack(payload))), label), re, label);
  }
  // Hand-made MessagePack: declared lengths far beyond the file, deep nesting, foreign extensions.
  const raw: [string, number[], RegExp][] = [
    ['array32 of 4e9', [0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0], /declares 4294967295 bytes/],
    ['map32 of 4e9', [0xdf, 0xff, 0xff, 0xff, 0xff], /declares/],
    ['str32 of 4e9', [0xdb, 0xff, 0xff, 0xff, 0xff, 0x41], /declares 4294967295 bytes/],
    ['ext32 typed array of 4e9', [0xc9, 0xff, 0xff, 0xff, 0xff, 0x74, 7], /declares/],
    ['typed array of odd length', [0xc7, 4, 0x74, 7, 1, 2, 3], /bad typed array/],
    ['Date extension', [0xd6, 0xff, 0, 0, 0, 0], /unsupported extension type 255/],
    ['deep nesting', [...new Array(100).fill(0x91), 0xc0], /nesting deeper than 32/],
    ['reserved byte 0xc1', [0xc1], /invalid MessagePack byte 0xc1/],
    ['two values', [0xc0, 0xc0], /1 bytes after the end/],
  ];
  for (const [label, bytes, re] of raw) {
    assert.match(formatError(() => decodeCheckpoint(withPayload('C', Uint8Array.from(bytes))), label), re, label);
  }
});

test('fuzz: 3000 mutated checkpoints and artifacts decode or fail with a FormatError, never anything else', () => {
  const t0 = performance.now();
  const artifact = encodeArtifact(randomArtifact(5, 7, 4));
  const small = encodeCheckpoint({ ...data, optimizer: null, createdAt: 'now' });   // ~90 KB: fast iterations
  let seed = 12345;
  const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  const outcomes = { decoded: 0, rejected: 0 };
  for (let iter = 0; iter < 3000; iter++) {
    const base = iter % 3 === 0 ? artifact : small;
    const kind = base === artifact ? 'A' : 'C';
    const body = base.slice(HEADER_BYTES);
    const mode = rand(5);
    let bytes: Uint8Array;
    if (mode === 0) {   // raw bit flips anywhere (the checksum should catch them)
      bytes = base.slice();
      for (let k = 1 + rand(4); k > 0; k--) bytes[rand(bytes.length)] ^= 1 << rand(8);
    } else if (mode === 1) {   // payload bytes overwritten, checksum fixed: the structure walk and validators see it
      for (let k = 1 + rand(8); k > 0; k--) body[rand(body.length)] = rand(256);
      bytes = withPayload(kind, body);
    } else if (mode === 2) {   // truncated or padded payload, header fixed
      const len = rand(body.length + 64);
      const b = new Uint8Array(len);
      b.set(body.subarray(0, Math.min(len, body.length)));
      bytes = withPayload(kind, b);
    } else if (mode === 3) {   // a MessagePack length prefix planted somewhere
      const at = rand(body.length - 5);
      body.set([[0xdc, 0xdd, 0xde, 0xdf, 0xc6, 0xc9, 0xdb][rand(7)], 0xff, 0xff, rand(256), rand(256)], at);
      bytes = withPayload(kind, body);
    } else {   // header fields mutated
      bytes = base.slice();
      bytes[4 + rand(20)] = rand(256);
    }
    try {
      if (kind === 'A') decodeArtifact(bytes);
      else decodeCheckpoint(bytes);
      outcomes.decoded++;
    } catch (e) {
      if (!(e instanceof FormatError)) throw new Error(`iteration ${iter} (mode ${mode}): ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : e}`);
      outcomes.rejected++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(outcomes.rejected > 2000, JSON.stringify(outcomes));
  assert.ok(seconds < 10, `fuzzing took ${seconds.toFixed(1)} s`);
});

test.after(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
