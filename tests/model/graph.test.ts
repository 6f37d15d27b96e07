// LightGCN normalised adjacency (SPEC §6) against the reference's scipy float32 computation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { loadGolden } from '../golden.js';
import { normalizedAdjacency, inverseSqrtDegree, type NormalizedAdjacency } from '../../ts-api/data/graph.js';
import { numpyPowf32 } from '../../ts-api/data/numpy-powf.js';
import { loadDataset } from '../../ts-api/data/dataset.js';
import { parseNpy, type NpyArray } from '../../ts-api/data/npy.js';

const officeDir = fileURLToPath(new URL('../../../shared/datasets/office', import.meta.url));

/** Minimal .npz reader (zip of .npy members, stored or deflated; local headers carry the sizes). */
function readNpz(path: string): Record<string, NpyArray> {
  const buf = readFileSync(path);
  const out: Record<string, NpyArray> = {};
  let p = 0;
  while (p + 30 <= buf.length && buf.readUInt32LE(p) === 0x04034b50) {
    const method = buf.readUInt16LE(p + 8);
    let size = buf.readUInt32LE(p + 18);
    const nameLen = buf.readUInt16LE(p + 26);
    const extraLen = buf.readUInt16LE(p + 28);
    const name = buf.subarray(p + 30, p + 30 + nameLen).toString('utf8');
    if (size === 0xffffffff) size = Number(buf.readBigUInt64LE(p + 30 + nameLen + 4 + 8)); // zip64 extra: usize, csize
    const start = p + 30 + nameLen + extraLen;
    const raw = buf.subarray(start, start + size);
    // Skip scipy's 'format' member (a byte string, which parseNpy does not read).
    if (name !== 'format.npy') out[name.replace(/\.npy$/, '')] = parseNpy(method === 8 ? inflateRawSync(raw) : raw, `${path}:${name}`);
    p = start + size;
  }
  return out;
}

/** Host-side Â·X for checking propagation against the reference's users_final / items_final. */
function spmm(a: NormalizedAdjacency, x: Float64Array, dim: number): Float64Array {
  const y = new Float64Array(a.n * dim);
  for (let r = 0; r < a.n; r++) {
    for (let k = a.indptr[r]; k < a.indptr[r + 1]; k++) {
      const c = a.indices[k];
      for (let d = 0; d < dim; d++) y[r * dim + d] += a.values[k] * x[c * dim + d];
    }
  }
  return y;
}

test('golden lightgcn: CSR indptr / indices / float32 values match the reference exactly', () => {
  const g = loadGolden('lightgcn');
  const pairs = g.tensors['in.train_pairs'].data;
  const nUser = g.config.n_user as number;
  const nItem = g.config.n_item as number;
  const users = Int32Array.from({ length: pairs.length / 2 }, (_, k) => pairs[2 * k]);
  const items = Int32Array.from({ length: pairs.length / 2 }, (_, k) => pairs[2 * k + 1]);
  const a = normalizedAdjacency(nUser, nItem, users, items);
  assert.is(a.n, 70);
  assert.equal(Array.from(a.indptr), Array.from(g.tensors['out.adj_indptr'].data));
  assert.equal(Array.from(a.indices), Array.from(g.tensors['out.adj_indices'].data));
  assert.equal(Array.from(a.values), Array.from(g.tensors['out.adj_data'].data));
  // The user without train items and the item without interactions (ids in the config) have empty rows
  // (degree 0 gives 0 in D^-1/2, not inf).
  const empty = (r: number) => a.indptr[r + 1] === a.indptr[r];
  assert.ok(empty(g.config.user_without_train_items as number));
  assert.ok(empty(nUser + (g.config.item_without_interactions as number)));
  // Two propagation layers, mean of layers 0..2, reproduce users_final / items_final.
  const dim = 64;
  const x0 = new Float64Array(a.n * dim);
  x0.set(g.tensors['in.uEmb'].data, 0);
  x0.set(g.tensors['in.iEmb'].data, nUser * dim);
  const x1 = spmm(a, x0, dim);
  const x2 = spmm(a, x1, dim);
  const final = x0.map((v, k) => (v + x1[k] + x2[k]) / 3);
  const expected = [...g.tensors['out.users_final'].data, ...g.tensors['out.items_final'].data];
  let err = 0;
  expected.forEach((v, k) => { err = Math.max(err, Math.abs(v - final[k])); });
  assert.ok(err < 1e-6, `propagation max error ${err}`);
});

test("Office: 7,325 nodes, 81,754 non-zeros, bit-identical to the authors' s_pre_adj_mat.npz", () => {
  const ds = loadDataset(officeDir, { log: () => {} });
  const a = normalizedAdjacency(ds.nUser, ds.nItem, ds.train.users, ds.train.items);
  assert.is(a.n, 7325);
  assert.is(a.indices.length, 81754);
  const ref = readNpz(join(officeDir, 's_pre_adj_mat.npz'));
  assert.equal(Array.from(ref.shape.data), [7325, 7325]);
  assert.equal(a.indptr, ref.indptr.data as Int32Array);
  assert.equal(a.indices, ref.indices.data as Int32Array);
  let differ = 0;
  for (let k = 0; k < a.values.length; k++) if (a.values[k] !== ref.data.data[k]) differ++;
  assert.is(differ, 0, `${differ} values differ`);
  // Symmetric: Â[r, c] = Â[c, r].
  const at = new Map<number, number>();
  for (let r = 0; r < a.n; r++) for (let k = a.indptr[r]; k < a.indptr[r + 1]; k++) at.set(r * a.n + a.indices[k], a.values[k]);
  for (const [key, v] of at) assert.is(at.get((key % a.n) * a.n + Math.floor(key / a.n)), v);
});

test('D^-1/2 follows numpy float32 power (AVX-512 SVML), not the correctly rounded value', () => {
  assert.is(inverseSqrtDegree(0), 0);
  assert.is(inverseSqrtDegree(1), 1);
  assert.is(inverseSqrtDegree(4), 0.5);
  // numpy gives 0.40824828 for 6^-0.5 where the correctly rounded float32 is 0.4082483.
  assert.is(inverseSqrtDegree(6), Math.fround(0.40824828));
  assert.is(Math.fround(6 ** -0.5), Math.fround(0.4082483));
  assert.is(numpyPowf32(7, -0.5), Math.fround(0.3779645));
  // Relative error stays within ~1 ulp of the exact value.
  for (let d = 1; d < 5000; d++) assert.ok(Math.abs(inverseSqrtDegree(d) * Math.sqrt(d) - 1) < 1.2e-7, `degree ${d}`);
});

test.run();
