// The op benchmark's inputs and table, in-process (the CLI test runs the whole benchmark).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTable, officeAdjacency, type BenchRow } from '../../benchmarks/ops.js';

function checkAdjacency(file: string | undefined): string {
  const messages: string[] = [];
  const a = officeAdjacency(file, (m) => messages.push(m));
  assert.is(a.n, 4905 + 2420);
  assert.is(a.indices.length, 81_754);
  assert.is(a.indptr[a.n], 81_754);
  for (let r = 0; r < a.n; r++) {
    const deg = a.indptr[r + 1] - a.indptr[r];
    for (let p = a.indptr[r]; p < a.indptr[r + 1]; p++) {
      const c = a.indices[p];
      assert.ok((r < 4905) !== (c < 4905), `edge ${r}-${c} is bipartite`);
      if (p > a.indptr[r]) assert.ok(c > a.indices[p - 1], `row ${r} sorted`);
      const expected = Math.fround(1 / Math.sqrt(deg * (a.indptr[c + 1] - a.indptr[c])));
      assert.is(a.values[p], expected, `Â[${r}, ${c}]`);
    }
  }
  return `${a.source}: ${messages.join(' ')}`;
}

test('a missing train file gives a synthetic graph of Office size, and says so', () => {
  assert.match(checkAdjacency('no/such/train.txt'), /^synthetic: .*synthetic random bipartite graph/);
});

test('the Office adjacency, where the dataset is present', () => {
  const result = checkAdjacency(undefined);
  if (!result.startsWith('office')) console.error('(Office train.txt not found: checked the synthetic graph)');
});

test('the table has one line per row plus a header', () => {
  const rows: BenchRow[] = [
    { op: 'matmul', variant: 'NT', shape: [2, 3, 4], backend: 'wasm', threads: 1, medianMs: 1.5, gflops: 0.01 },
    { op: 'adam step', variant: null, shape: [10], backend: 'wasm', threads: 1, medianMs: 0.25, gflops: null },
  ];
  const lines = formatTable(rows).split('\n');
  assert.is(lines.length, 4);
  assert.match(lines[2], /^matmul\s+NT\s+2×3×4\s+wasm\s+1\s+1\.500\s+0\.01$/);
  assert.match(lines[3], /^adam step\s+-\s+10\s+wasm\s+1\s+0\.250\s+-$/);
});

test.run();
