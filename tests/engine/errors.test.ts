// Bad calls throw errors that say what went wrong and where (op, argument, shapes, index), per backend.
import { test } from 'uvu';
import { createBackend } from '../../backends/index.js';
import {
  add, concat, CsrMatrix, exp, gatherRows, layerNorm, liveTensors, matmul, maximum, permute, reshape, scatterAddRows,
  setBackend, slice, spmm, sum, tensor, topk, valueAndGrads, where, zeros,
} from '../../engine/index.js';
import { assertThrowsWith, loadBackends, registerLoadFailures } from '../helpers.js';

const load = await loadBackends();
registerLoadFailures(test, load);

test('unknown backend name', async () => {
  await assertThrowsWith(() => createBackend('nope'), ['unknown backend "nope"', 'reference', 'wasm'], 'createBackend');
});

for (const { name, backend } of load.available) {
  const t = (title: string, fn: () => Promise<void>) => test(`${name}: ${title}`, async () => { setBackend(backend); await fn(); });

  t('shape mismatch: matmul', async () => {
    await assertThrowsWith(() => matmul(zeros([2, 3]), zeros([4, 5])), ['matmul', '[2, 3]', '[4, 5]', 'do not agree', 'inner 3 vs 4'], 'matmul');
    await assertThrowsWith(() => matmul(zeros([2, 3]), zeros([2, 5]), { transA: true, transB: true }), ['matmul', 'ᵀ', 'inner 2 vs 5'], 'matmul ᵀ');
    await assertThrowsWith(() => matmul(zeros([2, 3, 4]), zeros([5, 4, 2])), ['matmul', '[2, 3, 4]', '[5, 4, 2]'], 'matmul batch');
    await assertThrowsWith(() => matmul(zeros([4]), zeros([4, 2])), ['matmul', 'rank 2 or 3', '[4]'], 'matmul rank');
  });

  t('shape mismatch: binary broadcasting and where', async () => {
    await assertThrowsWith(() => add(zeros([3, 4]), zeros([5, 4])), ['add', '[3, 4]', '[5, 4]', 'cannot be broadcast', 'dimension 0: 3 vs 5'], 'add');
    await assertThrowsWith(() => maximum(zeros([2, 3]), zeros([2])), ['max', '[2, 3]', '[2]', 'cannot be broadcast'], 'maximum');
    await assertThrowsWith(() => where(zeros([3]), zeros([3]), zeros([4])), ['where', '[3]', '[4]', 'same shape'], 'where');
  });

  t('shape mismatch: concat, reshape, slice, permute, layerNorm, spmm, topk', async () => {
    await assertThrowsWith(() => concat([zeros([2, 3]), zeros([2, 4])], 0), ['concat', 'xs[1]', '[2, 4]', '[2, 3]', 'axis 0'], 'concat');
    await assertThrowsWith(() => concat([zeros([2, 3]), zeros([2, 3], 'i32')], 0), ['concat', 'xs[1]', 'i32'], 'concat dtype');
    await assertThrowsWith(() => concat([zeros([2, 3])], 2), ['concat', 'axis 2', 'rank 2'], 'concat axis');
    await assertThrowsWith(() => reshape(zeros([2, 3]), [4, 2]), ['reshape', '[2, 3]', '6 elements', '[4, 2]'], 'reshape');
    await assertThrowsWith(() => reshape(zeros([2, 3]), [-1, 4]), ['reshape', 'infer -1', '[2, 3]', '[-1, 4]'], 'reshape -1');
    await assertThrowsWith(() => slice(zeros([4, 5]), [1, 3], [2, 3]), ['slice', 'out of bounds', '[4, 5]', 'axis 1'], 'slice');
    await assertThrowsWith(() => permute(zeros([2, 3, 4]), [0, 0, 1]), ['permute', '[0, 0, 1]', 'not a permutation'], 'permute');
    await assertThrowsWith(() => layerNorm(zeros([2, 4]), zeros([3]), zeros([4])), ['layerNorm', 'gamma [3]', '4 elements', '[2, 4]'], 'layerNorm');
    await assertThrowsWith(() => topk(zeros([2, 5]), 6), ['topk', 'k = 6', '[0, 5]', '[2, 5]'], 'topk');
    await assertThrowsWith(() => sum(zeros([2, 3]), 2), ['sum', 'axis 2', 'rank 2'], 'sum axis');
    const a = CsrMatrix.fromHost(2, 3, Int32Array.from([0, 1, 2]), Int32Array.from([0, 2]), Float32Array.from([1, 1]));
    await assertThrowsWith(() => spmm(a, zeros([4, 2])), ['spmm', '[3, d]', '2×3', '[4, 2]'], 'spmm');
    a.dispose();
    await assertThrowsWith(() => CsrMatrix.fromHost(2, 3, Int32Array.from([0, 1, 2]), Int32Array.from([0, 5]), Float32Array.from([1, 1])),
      ['CsrMatrix', 'column index 5', 'position 1', '[0, 3)'], 'CsrMatrix');
    await assertThrowsWith(() => tensor([1, 2, 3], [2, 2]), ['tensor', '3 values', '[2, 2]'], 'tensor');
    await assertThrowsWith(() => tensor([1.5], [1], 'i32'), ['tensor', 'i32', '1.5'], 'tensor i32');
  });

  t('wrong dtype: gatherRows with f32 ids, f32 ops on i32', async () => {
    const table = zeros([5, 3]);
    await assertThrowsWith(() => gatherRows(table, tensor([0, 1, 2])), ['gatherRows', 'idx', 'must be i32', 'got f32', '[3]'], 'gatherRows');
    await assertThrowsWith(() => scatterAddRows(table, tensor([0, 1, 2, 3, 4]), 5), ['scatterAddRows', 'idx', 'must be i32'], 'scatterAddRows');
    await assertThrowsWith(() => exp(zeros([2], 'i32')), ['exp', 'x', 'must be f32', 'got i32'], 'exp');
    await assertThrowsWith(() => matmul(zeros([2, 2], 'i32'), zeros([2, 2])), ['matmul', 'a', 'must be f32'], 'matmul');
    table.dispose();
  });

  t('out-of-range gather / scatter indices name the op and the index', async () => {
    const before = liveTensors();
    const table = zeros([5, 3]);
    const bad = tensor(Int32Array.from([0, 7, 1]));
    await assertThrowsWith(() => gatherRows(table, bad), ['gatherRows', '7', '[0, 5)'], 'gatherRows index');
    const neg = tensor(Int32Array.from([0, -1, 1]));
    await assertThrowsWith(() => gatherRows(table, neg), ['gatherRows', '-1', '[0, 5)'], 'gatherRows negative index');
    await assertThrowsWith(() => scatterAddRows(zeros([3, 3]), bad, 4), ['scatterAddRows', '7', '[0, 4)'], 'scatterAddRows index');
    for (const x of [table, bad, neg]) x.dispose();
    // The failed calls left nothing behind (apart from the zeros they were given).
    if (liveTensors() - before > 1) throw new Error(`failed gathers leaked ${liveTensors() - before - 1} tensor(s)`);
  });

  t('use after dispose names the op and the tensor', async () => {
    const x = tensor([1, 2, 3]);
    x.dispose();
    await assertThrowsWith(() => exp(x), ['exp', 'x', 'Tensor#', 'used after dispose'], 'exp');
    await assertThrowsWith(() => add(tensor([1, 2, 3]), x), ['add', 'b', 'used after dispose'], 'add');
    await assertThrowsWith(() => reshape(x, [3, 1]), ['reshape', 'used after dispose'], 'reshape');
    await assertThrowsWith(() => x.data(), ['data', 'used after dispose'], 'data');
    await assertThrowsWith(() => matmul(x, x), ['matmul', 'used after dispose'], 'matmul');
    await assertThrowsWith(() => concat([tensor([1]), x], 0), ['concat', 'xs[1]', 'used after dispose'], 'concat');
  });

  t('valueAndGrads: a bad seed, a non-tensor result, nesting', async () => {
    const w = tensor([1, 2]);
    await assertThrowsWith(() => valueAndGrads(() => exp(w), [w], tensor([1, 2, 3])), ['valueAndGrads', 'seed shape [3]', '[2]'], 'seed');
    await assertThrowsWith(() => valueAndGrads(() => 3 as never, [w]), ['valueAndGrads', 'must return a Tensor'], 'result');
    await assertThrowsWith(() => valueAndGrads(async () => 3 as never, [w]), ['valueAndGrads', 'must return a Tensor'], 'async result');
    // A failed call leaves no tape behind: flags restored, the next call works.
    if (w.requiresGrad) throw new Error('valueAndGrads left requiresGrad set after a failure');
    const ok = valueAndGrads(() => sum(exp(w)), [w]);
    ok.value.dispose();
    ok.grads[0].dispose();
    await assertThrowsWith(() => valueAndGrads(() => { valueAndGrads(() => sum(w), [w]); return sum(w); }, [w]),
      ['valueAndGrads', 'nested'], 'nested');
    w.dispose();
  });
}

test.run();
