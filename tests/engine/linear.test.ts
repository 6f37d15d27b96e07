// linear (a product with its bias added in the backend's product where it can) gives the bits of matmul then
// add, values and gradients; Linear.forwardBlocks (the product of a concatenation computed block by block,
// shared rows and gathered table rows multiplied once) gives those of forward(concat(…)), and names a bad block.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReferenceBackend } from '../../backends/reference/index.js';
import {
  add, broadcastTo, concat, gatherRows, Linear, linear, matmul, mul, Random, setBackend, sum, tensor, valueAndGrads,
} from '../../engine/index.js';
import { createWasmBackend } from '../../backends/wasm/index.js';
import { assertSameBits } from '../helpers.js';
import { assertClose } from '../helpers.js';

setBackend(createReferenceBackend());

test('linear on the wasm backend (bias inside the product): the bits of matmul then add, values and gradients', async () => {
  // row and column splits, the depth split (small output, long depth), an empty depth
  for (const [threads, m, k, n] of [[1, 7, 5, 9], [2, 300, 64, 64], [2, 20, 300, 700], [2, 16, 2000, 16], [2, 3, 0, 4]]) {
    const wasm = await createWasmBackend({ threads, splitScale: 0 });
    setBackend(wasm);
    try {
      const rng = new Random(m + k + n);
      const x = rng.randn([m, k]), w = rng.randn([n, k]), b = rng.randn([n]), R = rng.randn([m, n]);
      const fused = await valueAndGrads(() => sum(mul(linear(x, w, b), R)), [x, w, b]);
      const plain = await valueAndGrads(() => sum(mul(add(matmul(x, w, { transB: true }), b), R)), [x, w, b]);
      assertSameBits(linear(x, w, b).dataSync(), add(matmul(x, w, { transB: true }), b).dataSync(), `y ${m}×${k}×${n}`);
      for (const i of [0, 1, 2]) {
        assertSameBits(fused.grads[i]!.dataSync(), plain.grads[i]!.dataSync(), `gradient ${i}, ${m}×${k}×${n} on ${threads} threads`);
      }
    } finally {
      setBackend(createReferenceBackend());
      wasm.destroy();
    }
  }
  assert.throws(() => linear(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(8), [2, 4]), tensor(new Float32Array(2))),
    /linear: needs x \[m, k\], w \[n, k\] and b \[n\], got \[2, ?3\], \[2, ?4\] and \[2\]/);
});

test('forwardBlocks = forward over the concatenation: values and every gradient', async () => {
  const rng = new Random(3);
  const fc = new Linear(9, 5, rng);
  const x = rng.randn([6, 3]), row = rng.randn([1, 2]), table = rng.randn([4, 4]);
  const index = tensor(Int32Array.from([2, 0, 2, 3, 1, 2]));
  const R = rng.randn([6, 5]);
  const inputs = [x, row, table, ...fc.parameters()];
  const blocks = await valueAndGrads(() => sum(mul(fc.forwardBlocks([x, row, { table, index }]), R)), inputs);
  const whole = await valueAndGrads(() =>
    sum(mul(fc.forward(concat([x, broadcastTo(row, [6, 2]), gatherRows(table, index)], 1)), R)), inputs);
  assertClose([await blocks.value.item()], [await whole.value.item()], { atol: 1e-5, rtol: 1e-5 }, 'value');
  for (const [i, name] of ['x', 'row', 'table', 'weight', 'bias'].entries()) {
    assertClose(await blocks.grads[i]!.data() as Float32Array, await whole.grads[i]!.data() as Float32Array,
      { atol: 1e-5, rtol: 1e-5 }, `gradient of ${name}`);
  }
});

test('forwardBlocks names the block that does not fit', () => {
  const rng = new Random(4);
  const fc = new Linear(4, 2, rng);
  assert.throws(() => fc.forwardBlocks([rng.randn([3, 2]), rng.randn([3, 3])]), /block 1 \[3, ?3\] does not fit columns 2\.\. of 4 inputs/);
  assert.throws(() => fc.forwardBlocks([rng.randn([3, 2]), rng.randn([5, 2])]), /block 1 has 5 rows, an earlier block 3/);
  assert.throws(() => fc.forwardBlocks([rng.randn([3, 3])]), /the blocks have 3 columns, the layer 4 inputs/);
});

test.run();
