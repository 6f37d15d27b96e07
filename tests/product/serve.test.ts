// The serverless recommender and its fetch handler, in-process: scoring against a brute-force ranking on
// every backend, seen-item exclusion, and 4xx answers (never 500) for every kind of bad request.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createBackend } from '../../backends/index.js';
import { encodeArtifact } from '../../ts-api/checkpoint/artifact.js';
import { createHandler, createRecommender, MAX_BODY, type Recommender } from '../../ts-api/serve/index.js';
import { listen } from '../../ts-api/serve/node.js';
import { randomArtifact } from './fixtures.js';

const a = randomArtifact(40, 300, 16, 3);
const bytes = encodeArtifact(a);
const recs: Record<string, Recommender> = {
  js: await createRecommender(bytes),
  reference: await createRecommender(bytes, { backend: 'reference' }),
  wasm: await createRecommender(bytes, { backend: await createBackend('wasm') }),
};

/** Brute force in f64: every item not excluded, by score then lower id. */
function expected(u: number, k: number, excluded: Set<number>) {
  const row = a.users.subarray(u * a.dim, (u + 1) * a.dim);
  const all = [];
  for (let i = 0; i < a.nItem; i++) {
    if (excluded.has(i)) continue;
    let s = 0;
    for (let c = 0; c < a.dim; c++) s += row[c] * a.items[i * a.dim + c];
    all.push({ i, s });
  }
  all.sort((x, y) => y.s - x.s || x.i - y.i);
  return all.slice(0, k).map(({ i, s }) => ({ item: a.rawItemIds[i], score: 1 / (1 + Math.exp(-s)) }));
}

const seen = (u: number) => new Set(a.trainItems.indices.subarray(a.trainItems.indptr[u], a.trainItems.indptr[u + 1]));

test('every backend ranks as brute force; seen items excluded unless includeSeen; exclude takes raw ids', async () => {
  for (const [name, rec] of Object.entries(recs)) {
    for (const u of [0, 7, 39]) {
      const raw = a.rawUserIds[u];
      const got = await rec.recommend(raw, { k: 20 });
      const want = expected(u, 20, seen(u));
      assert.equal(got.map((x) => x.item), want.map((x) => x.item), `${name} user ${raw}`);
      got.forEach((x, j) => assert.ok(Math.abs(x.score - want[j].score) < 1e-5, `${name} score ${j}`));
      const withSeen = await rec.recommend(raw, { k: 5, includeSeen: true });
      assert.equal(withSeen.map((x) => x.item), expected(u, 5, new Set()).map((x) => x.item), `${name} includeSeen`);
      const drop = [got[0].item, got[3].item, 99_999];
      const ex = await rec.recommend(raw, { k: 20, exclude: drop });
      const dense = new Set([...seen(u), ...drop.map((r) => a.rawItemIds.indexOf(r)).filter((i) => i >= 0)]);
      assert.equal(ex.map((x) => x.item), expected(u, 20, dense).map((x) => x.item), `${name} exclude`);
    }
    // k larger than what is left: everything not seen, best first.
    assert.is((await rec.recommend(a.rawUserIds[1], { k: 1000 })).length, a.nItem - seen(1).size);
  }
});

const handler = createHandler(recs.js);
const call = async (path: string, init?: RequestInit) => {
  const r = await handler(new Request(`http://x${path}`, init));
  return { status: r.status, body: await r.json(), type: r.headers.get('content-type') };
};
const post = (body: unknown) => call('/recommend', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

test('GET /health and GET|POST /recommend answer JSON with raw ids', async () => {
  const h = await call('/health');
  assert.equal(h.body, { status: 'ok', users: 40, items: 300, version: 1 });
  assert.match(h.type!, /application\/json/);
  const g = await call(`/recommend?user=${a.rawUserIds[7]}&k=5`);
  assert.is(g.status, 200);
  assert.equal(g.body.user, a.rawUserIds[7]);
  assert.equal(g.body.items.map((x: { item: number }) => x.item), expected(7, 5, seen(7)).map((x) => x.item));
  const p = await post({ user: a.rawUserIds[7], k: 5, exclude: [g.body.items[0].item], includeSeen: false });
  assert.equal(p.body.items.map((x: { item: number }) => x.item).slice(0, 4), g.body.items.slice(1).map((x: { item: number }) => x.item));
  assert.is((await call(`/recommend?user=${a.rawUserIds[0]}`)).body.items.length, 20, 'k defaults to 20');
  assert.is((await post({ user: String(a.rawUserIds[0]), k: 3 })).body.items.length, 3, 'ids as strings');
});

test('bad requests are 4xx with {error}, never 500', async () => {
  const cases: [Promise<{ status: number; body: { error?: string } }>, number, RegExp][] = [
    [call('/recommend?user=11'), 404, /unknown user 11/],
    [call('/recommend?user=-1'), 400, /user must be a non-negative integer/],
    [call('/recommend?user=abc'), 400, /user must be/],
    [call('/recommend'), 400, /missing query parameter user/],
    [call('/recommend?user=10&k=0'), 400, /k must be an integer from 1 to 1000/],
    [call('/recommend?user=10&k=1001'), 400, /k must be/],
    [call('/recommend?user=10&k=2.5'), 400, /k must be/],
    [call('/recommend?user=10&includeSeen=maybe'), 400, /includeSeen/],
    [post('{"user": 10,'), 400, /malformed JSON/],
    [post('[1,2]'), 400, /must be a JSON object/],
    [post({ user: 10, k: 'lots' }), 400, /k must be/],
    [post({ user: 10, exclude: 'all' }), 400, /exclude must be an array/],
    [post({ user: 10, exclude: [1.5] }), 400, /exclude\[\] must be/],
    [post({ user: 10, includeSeen: 'yes' }), 400, /includeSeen/],
    [post({ user: 10, evil: true }), 400, /unknown field "evil"/],
    [post({ user: 1e300 }), 400, /user must be/],
    [post({}), 400, /user must be/],
    [post('x'.repeat(MAX_BODY + 1)), 413, /larger than/],
    [call('/nope'), 404, /no route \/nope/],
    [call('/recommend', { method: 'DELETE' }), 405, /not allowed/],
    [call('/health', { method: 'POST', body: '{}' }), 405, /not allowed/],
  ];
  for (const [p, status, re] of cases) {
    const r = await p;
    assert.is(r.status, status, `${re}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error ?? '', re);
    assert.not.match(r.body.error ?? '', /\n\s+at /);
  }
});

test('Node http adapter: 127.0.0.1, real sockets, bounded requests, clean shutdown', async () => {
  const s = await listen(handler, { port: 0 });
  try {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const signal = AbortSignal.timeout(5000);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      fetch(`${s.url}/recommend?user=${a.rawUserIds[i]}&k=3`, { signal }).then((r) => r.status)));
    assert.ok(results.every((x) => x === 200), String(results));
    const p = await fetch(`${s.url}/recommend`, { method: 'POST', body: JSON.stringify({ user: 10, k: 2 }), signal });
    assert.is((await p.json()).items.length, 2);
    const bad = await fetch(`${s.url}/recommend`, { method: 'POST', body: '{', signal });
    assert.is(bad.status, 400);
  } finally {
    await s.close();
  }
  assert.is(s.server.listening, false);
});

test.after(() => Object.values(recs).forEach((r) => r.dispose()));

test.run();
