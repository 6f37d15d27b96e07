// Linear.forwardBlocks: the product of a concatenation computed block by block (shared rows and gathered
// table rows multiplied once) gives the values and gradients of forward(concat(…)), and names a bad block.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReferenceBackend } from '../../backends/reference/index.js';
import { broadcastTo, concat, gatherRows, Linear, mul, Random, setBackend, sum, tensor, valueAndGrads } from '../../engine/index.js';
import { assertClose } from '../helpers.js';

setBackend(createReferenceBackend());

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
