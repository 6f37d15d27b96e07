// `bench serve` in quick mode: latency rows for plain JS and the backend, and a load test of the real
// `infodcl serve` with zero errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchServe, formatServe } from '../../benchmarks/serve.js';

test('bench serve --quick: cold start, p50/p99, a bounded load test without errors', async () => {
  const r = await benchServe({ backend: 'wasm', quick: true });
  assert.equal(r.latency.map((x) => x.scoring), ['js', 'wasm']);
  for (const x of r.latency) {
    assert.ok(x.coldStartMs > 0 && x.decodeMs > 0 && x.p50Ms > 0 && x.p99Ms >= x.p50Ms, JSON.stringify(x));
    assert.is(x.users, 300);
  }
  const l = r.load;
  assert.is(l.requests, 100);
  assert.is(l.errors, 0);
  assert.ok(l.requestsPerSecond > 0 && l.p99Ms >= l.p50Ms);
  assert.ok(l.serverRssMbBefore === null || l.serverRssMbBefore > 0);
  const lines = formatServe(r).split('\n');
  assert.match(lines[0], /top-20 latency/);
  assert.match(lines.at(-1)!, /100 requests, 8 clients, .* 0 errors/);
});

test.run();
