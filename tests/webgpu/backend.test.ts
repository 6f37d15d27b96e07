// The webgpu backend's own machinery, beyond conformance: splitting past the storage-binding limit,
// batching, buffer reuse while an encoder is open, device-side index errors, device loss, destroy().
// Runs when WEBGPU=1 (CI sets it after provisioning); then a backend that cannot be created fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createWebGpuBackend, type WebGpuBackend } from '../../backends/webgpu/index.js';
import { createReferenceBackend } from '../../backends/reference/index.js';
import { assertClose, assertSameBits, assertThrowsWith, randInt, randn, WEBGPU } from '../helpers.js';

const MATMUL = { batch: 1, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };

async function withBackend(fn: (b: WebGpuBackend) => Promise<void>, opts: Parameters<typeof createWebGpuBackend>[0] = {}) {
  const b = await createWebGpuBackend(opts);
  try { await fn(b); } finally { b.destroy(); }
}

if (!WEBGPU) {
  console.log('tests/webgpu/backend: WEBGPU is not set; the webgpu backend is not under test');
} else {
  test('elementwise kernels split operands larger than the storage-binding limit', () => withBackend(async (b) => {
    const n = 5000; // 20 000 bytes against a 4 KiB binding cap: 5 chunks
    const x = randn(1, n);
    const dy = randn(2, n);
    const sx = b.upload(x), sdy = b.upload(dy);
    const y = await b.read(b.unary('tanh', sx));
    const g = await b.read(b.unaryGrad('exp', sx, sdy));
    const a = await b.read(b.affine(sx, 2, -1));
    const ref = createReferenceBackend();
    const rx = ref.upload(x);
    assertClose(y, ref.readSync(ref.unary('tanh', rx)), { atol: 1e-6, rtol: 1e-5 }, 'tanh');
    assertClose(g, ref.readSync(ref.unaryGrad('exp', rx, ref.upload(dy))), { atol: 1e-6, rtol: 1e-5 }, 'exp grad');
    assertClose(a, ref.readSync(ref.affine(rx, 2, -1)), { atol: 1e-6, rtol: 1e-6 }, 'affine');
    // A kernel that does not split names the limit instead of failing inside the driver.
    await assertThrowsWith(() => b.binary('add', sx, sx, [n], [1], [1]), ['binary', 'maxStorageBufferBindingSize'], 'binary');
  }, { maxBindingBytes: 4096 }));

  test('row kernels and matmul split rows past the storage-binding limit', () => withBackend(async (b) => {
    const ref = createReferenceBackend();
    const rows = 200, n = 8; // 6400 bytes per operand against a 4 KiB cap: chunks of 64 rows
    const x = randn(7, rows * n), w = randn(8, n * 3), g = randn(9, n), be = randn(10, n);
    const [gx, rx] = [b.upload(x), ref.upload(x)];
    const tol = { atol: 1e-5, rtol: 1e-5 };
    assertClose(await b.read(b.softmax(gx, rows, n)), ref.readSync(ref.softmax(rx, rows, n)), tol, 'softmax');
    assertClose(await b.read(b.logSumExp(gx, rows, n)), ref.readSync(ref.logSumExp(rx, rows, n)), tol, 'logSumExp');
    const t = b.topk(gx, rows, n, 3), rt = ref.topk(rx, rows, n, 3);
    assert.equal(Array.from(await b.read(t.indices)), Array.from(ref.readSync(rt.indices)), 'topk');
    const ln = b.layerNorm(gx, b.upload(g), b.upload(be), rows, n, 1e-5);
    assertClose(await b.read(ln.y), ref.readSync(ref.layerNorm(rx, ref.upload(g), ref.upload(be), rows, n, 1e-5).y), tol, 'layerNorm');
    const args = { ...MATMUL, m: rows, n: 3, k: n };
    assertClose(await b.read(b.matmul(gx, b.upload(w), args)), ref.readSync(ref.matmul(rx, ref.upload(w), args)), tol, 'matmul');
  }, { maxBindingBytes: 4096 }));

  test('dispatches are submitted in batches; results are right across batch boundaries', () => withBackend(async (b) => {
    let x = b.upload(Float32Array.from([1, 2, 3]));
    const before = b.gpu.submissions;
    for (let i = 0; i < 20; i++) {
      const y = b.affine(x, 1, 1);
      b.free(x);
      x = y;
    }
    assert.ok(b.gpu.submissions - before >= 4, `20 dispatches in batches of 4: ${b.gpu.submissions - before} submissions`);
    assert.equal(Array.from(await b.read(x)), [21, 22, 23]);
    b.free(x);
    assert.is(b.liveBuffers(), 0);
  }, { maxBatch: 4 }));

  test('a freed buffer still read by the open encoder is not handed to an upload', () => withBackend(async (b) => {
    const a = Float32Array.from({ length: 64 }, (_, i) => i);
    const x = b.upload(a);
    const y = b.unary('neg', x); // recorded, not yet submitted
    b.free(x);
    const z = b.upload(new Float32Array(64).fill(1000)); // same size class as x
    assert.equal(Array.from(await b.read(y)), Array.from(a, (v) => -v));
    assert.equal(Array.from(await b.read(z)), new Array(64).fill(1000));
    b.free(y); b.free(z);
  }));

  test('scatterAddRows: many duplicates, deterministic, matches the reference', () => withBackend(async (b) => {
    const rows = 3000, d = 5, out = 7;
    const src = randn(3, rows * d), idx = randInt(4, rows, 0, out);
    const run = async () => b.read(b.scatterAddRows(b.upload(src), b.upload(idx), out, d));
    const first = await run();
    assertSameBits(await run(), first, 'second run');
    // Indices computed on the device take the bitonic sort instead of the host's counting sort: same bits.
    const deviceIdx = b.cast(b.upload(Float32Array.from(idx)), 'i32');
    assertSameBits(await b.read(b.scatterAddRows(b.upload(src), deviceIdx, out, d)), first, 'device-sorted');
    const ref = createReferenceBackend();
    assertClose(first, ref.readSync(ref.scatterAddRows(ref.upload(src), ref.upload(idx), out, d)), { atol: 1e-5, rtol: 1e-5 }, 'sums');
  }));

  test('indices computed on the device: an out-of-range one is reported at the next read', () => withBackend(async (b) => {
    const table = b.upload(Float32Array.from([1, 2, 3, 4, 5, 6]));
    const idx = b.cast(b.upload(Float32Array.from([0, 5, 1])), 'i32'); // no host copy: checked on the device
    const out = b.gatherRows(table, idx, 3, 2);
    await assertThrowsWith(() => b.read(out), ['gatherRows', 'out of range'], 'gather');
    const ok = b.gatherRows(table, b.cast(b.upload(Float32Array.from([2, 0])), 'i32'), 3, 2);
    assert.equal(Array.from(await b.read(ok)), [5, 6, 1, 2]); // the error was cleared
  }));

  test('device loss gives a clear error instead of a hang', () => withBackend(async (b) => {
    const x = b.upload(Float32Array.from([1, 2, 3]));
    b.gpu.device.destroy(); // what a lost device looks like from here
    await new Promise((r) => setTimeout(r, 50));
    await assertThrowsWith(async () => b.read(b.unary('exp', x)), ['webgpu backend', 'lost'], 'after loss');
  }));

  test('a buffer beyond maxBufferSize is refused with the limit named', () => withBackend(async (b) => {
    await assertThrowsWith(() => b.zeros(2 ** 31, 'f32'), ['maxBufferSize'], 'huge buffer');
  }));

  test('destroy() releases everything; later use says so', async () => {
    const b = await createWebGpuBackend();
    const x = b.upload(Float32Array.from([1, 2]));
    b.unary('exp', x);
    b.destroy();
    assert.is(b.liveBuffers(), 0);
    await assertThrowsWith(() => b.upload(Float32Array.from([1])), ['used after destroy'], 'upload after destroy');
  });

  test('matmul 300×200×100 with transposes against the reference', () => withBackend(async (b) => {
    const ref = createReferenceBackend();
    const [m, k, n] = [300, 200, 100];
    const A = randn(5, m * k), B = randn(6, k * n);
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const args = { ...MATMUL, m, n, k, transA, transB };
      const got = await b.read(b.matmul(b.upload(A), b.upload(B), args));
      assertClose(got, ref.readSync(ref.matmul(ref.upload(A), ref.upload(B), args)), { atol: 1e-5, rtol: 1e-5 }, `matmul ${transA} ${transB}`);
    }
  }));
}

test.run();
