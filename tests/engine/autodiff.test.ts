// The backward pass computes only the gradients someone reads: an input that does not require a gradient
// (data, a dropout mask, a constant) costs no kernel call, and the gradients that are computed are unchanged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReferenceBackend } from '../../backends/reference/index.js';
import { concat, matmul, mul, Random, setBackend, sum, tensor, valueAndGrads, where } from '../../engine/index.js';

/** A reference backend that counts its kernel calls by name. */
function countingBackend() {
  const b = createReferenceBackend();
  const calls = new Map<string, number>();
  for (const name of ['matmul', 'binary', 'where', 'writeStrided', 'strided', 'reduce'] as const) {
    const fn = (b[name] as (...a: unknown[]) => unknown).bind(b);
    (b as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return fn(...a);
    };
  }
  return { b, calls, count: (name: string) => calls.get(name) ?? 0 };
}

test('matmul: no gradient for a data input, the weight gradient as before', () => {
  const { b, calls, count } = countingBackend();
  setBackend(b);
  const rng = new Random(1);
  const x = rng.randn([6, 4]), w = rng.randn([3, 4]);
  const both = valueAndGrads(() => sum(matmul(x, w, { transB: true })), [w, x]).grads.map((g) => Array.from(g.dataSync()));
  calls.clear();
  const onlyW = Array.from(valueAndGrads(() => sum(matmul(x, w, { transB: true })), [w]).grads[0].dataSync());
  assert.is(count('matmul'), 2, 'forward + dW only');
  assert.equal(onlyW, both[0]);
});

test('binary, where, concat: constants and masks get no gradient', () => {
  const { b, calls, count } = countingBackend();
  setBackend(b);
  const rng = new Random(2);
  const x = rng.randn([5, 3]), mask = tensor([1, 0, 2], [3]), cond = tensor(Array.from({ length: 15 }, (_, i) => i % 2), [5, 3]);
  calls.clear();
  const { grads: [gx] } = valueAndGrads(() => sum(mul(x, mask)), [x]);
  // forward mul, backward mul(dy, mask): no mul(dy, x) and no reduction of it to mask's shape
  assert.is(count('binary'), 2);
  assert.equal(Array.from(gx.dataSync()), Array.from({ length: 15 }, (_, i) => [1, 0, 2][i % 3]));
  calls.clear();
  valueAndGrads(() => sum(where(cond, x, tensor(new Float32Array(15).fill(7), [5, 3]))), [x]);
  assert.is(count('where'), 2, 'forward + the branch of x only');
  // concat: one slice of the output gradient fewer when one input wants none
  const y = rng.randn([5, 2]);
  const slices = (xs: Parameters<typeof valueAndGrads>[1]) => {
    calls.clear();
    valueAndGrads(() => sum(concat([x, y], 1)), xs);
    return count('strided');
  };
  assert.is(slices([x]), slices([x, y]) - 1);
});

test.run();
