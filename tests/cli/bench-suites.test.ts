// `bench compare` and `bench scaling` through the CLI, quick sizes: the documented JSON shape (stdout holds
// only the JSON object), positive finite times, and engines that agree on what they computed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { missingTfjs } from '../../benchmarks/compare/tfjs.js';
import { runCli } from '../cli-run.js';

const positive = (x: unknown, what: string) => assert.ok(typeof x === 'number' && Number.isFinite(x) && x > 0, `${what}: ${x}`);
const ENGINES = ['ours', 'tfjs-wasm', 'tfjs-cpu'];
const ITEMS = ['matmul-nn', 'matmul-nt', 'matmul-tn', 'matmul-scores', 'matmul-mlp', 'spmm', 'topk', 'adam',
  'train-step', 'svd', 'svd-grad', 'eval-rank', 'eval-propagate'];
const OURS_ONLY = ['svd', 'svd-grad', 'eval-propagate'];

test('bench compare --quick --json: one JSON object, every engine timed on every item it can run', async () => {
  const missing = missingTfjs();
  const r = await runCli('bench', 'compare', '--quick', '--json', '--repeat', '1', '--warmup', '1');
  if (missing.length) {
    console.error(`SKIP the TensorFlow.js part: ${missing.join(', ')} not installed (npm install)`);
    assert.is(r.code, 1);
    assert.match(r.stderr, /^infodcl: bench compare needs TensorFlow\.js, which is not installed/m);
    return;
  }
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim().split('\n').length, 1, 'stdout: one line of JSON');
  const out = JSON.parse(r.stdout);
  assert.is(out.suite, 'compare');
  assert.equal(Object.keys(out.engines).sort(), [...ENGINES].sort());
  assert.is(out.engines.ours.backend, 'wasm');
  assert.is(out.engines['tfjs-wasm'].backend, 'wasm');
  assert.is(out.engines['tfjs-cpu'].backend, 'cpu');
  assert.is(out.options.quick, true);
  assert.equal(out.items.map((i: { id: string }) => i.id), ITEMS);
  for (const item of out.items) {
    assert.ok(['ops', 'train', 'eval'].includes(item.group), item.id);
    assert.ok(Array.isArray(item.shape) && item.shape.every(Number.isInteger), `${item.id} shape`);
    positive(item.medianMs.ours, `${item.id} ours`);
    for (const e of ['tfjs-wasm', 'tfjs-cpu']) {
      if (OURS_ONLY.includes(item.id)) {
        assert.is(item.medianMs[e], null, `${item.id} ${e}`);
        assert.is(item.ratio[e], null);
        assert.match(item.na[e], /^n\/a: /);
      } else {
        positive(item.medianMs[e], `${item.id} ${e}`);
        positive(item.ratio[e], `${item.id} ${e}/ours`);
        assert.ok(Math.abs(item.ratio[e] - item.medianMs[e] / item.medianMs.ours) <= 0.01 * item.ratio[e], `${item.id} ratio`);
      }
    }
  }
  // Same inputs, same work: the first step's loss agrees to float32 rounding, the top items exactly.
  const step = out.items.find((i: { id: string }) => i.id === 'train-step');
  for (const e of ENGINES) assert.ok(Math.abs(step.check[e] - step.check.ours) < 1e-4 * Math.abs(step.check.ours), `${e} loss ${step.check[e]}`);
  const rank = out.items.find((i: { id: string }) => i.id === 'eval-rank');
  for (const e of ENGINES) assert.is(rank.check[e], rank.check.ours, `${e} Σ top-1 items`);
});

test('bench scaling --quick --json: time and memory per catalogue size, also written by --out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'infodcl-scaling-'));
  try {
    const file = join(dir, 'results', 'scaling.json');
    const r = await runCli('bench', 'scaling', '--quick', '--json', '--out', file);
    assert.is(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')), out);
    assert.is(out.suite, 'scaling');
    assert.equal(out.rows.map((x: { items: number }) => x.items), [500, 1000, 2000]);
    for (const row of out.rows) {
      for (const k of ['stepMs', 'stepMeanMs', 'infoNceMs', 'epochSeconds', 'peakRssMB', 'setupRssMB', 'wasmMemoryMB', 'denseLogitsMB']) positive(row[k], `${row.items} items: ${k}`);
      assert.ok(Number.isFinite(row.otherMs));
      assert.is(row.users, 2000);
      assert.is(row.batchesPerEpoch, Math.ceil(row.trainInteractions / row.batch));
      assert.is(row.steps, 2);
    }
    assert.ok(out.fit && Number.isFinite(out.fit.stepMsPer1kItems), 'a fitted line');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
