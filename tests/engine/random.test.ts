// The seeded PRNG: Philox4x32-10 known answers (Random123), same seed → same stream, exact resume from
// state(), distribution sanity of uniform / normal / int / permutation, tensors from the stream.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { philox, Random, setBackend } from '../../engine/index.js';
import { boxMuller } from '../../engine/random.js';
import { createReferenceBackend } from '../../backends/reference/index.js';
import { assertThrowsWith, readF64Sync } from '../helpers.js';

setBackend(createReferenceBackend());

const hex = (ws: number[]) => ws.map((w) => `0x${w.toString(16).padStart(8, '0')}`);

test('Philox4x32-10 known-answer vectors (Random123 kat_vectors); argument order (k0, k1, c0, c1, c2, c3)', () => {
  // counter {0,0,0,0}, key {0,0}
  assert.equal(hex(philox(0, 0, 0, 0, 0, 0)), hex([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]));
  // counter {0xffffffff ×4}, key {0xffffffff ×2}
  const F = 0xffffffff;
  assert.equal(hex(philox(F, F, F, F, F, F)), hex([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]));
  // counter = π digits {243f6a88 85a308d3 13198a2e 03707344}, key {a4093822 299f31d0}: distinguishes every
  // argument position (the two vectors above are symmetric in key and counter words).
  assert.equal(hex(philox(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344)),
    hex([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]));
  // c2, c3 default to 0.
  assert.equal(philox(1, 2, 3, 4), philox(1, 2, 3, 4, 0, 0));
});

test('the stream is Philox block b = position / 4 under key (seed low, seed high)', () => {
  const seed = 2 ** 40 + 12345; // exercises the high key word
  const r = new Random(seed);
  const words = Array.from({ length: 12 }, () => r.nextU32());
  const k0 = seed >>> 0;
  const k1 = Math.floor(seed / 2 ** 32) >>> 0;
  const expected = [0, 1, 2].flatMap((b) => philox(k0, k1, b, 0));
  assert.equal(words, expected);
});

test('same seed → same stream; different seeds → different streams', () => {
  const a = new Random(42);
  const b = new Random(42);
  assert.equal(Array.from(a.uniform(100)), Array.from(b.uniform(100)));
  assert.equal(Array.from(a.normal(101)), Array.from(b.normal(101)));
  assert.equal(Array.from(a.int(50, -3, 9)), Array.from(b.int(50, -3, 9)));
  assert.equal(Array.from(a.permutation(30)), Array.from(b.permutation(30)));
  const c = new Random(43);
  const x = Array.from(new Random(42).uniform(100));
  const y = Array.from(c.uniform(100));
  assert.ok(x.some((v, i) => v !== y[i]), 'seeds 42 and 43 gave the same stream');
});

test('state() / new Random(seed, position) continues exactly, from any position inside a block', () => {
  for (let skip = 0; skip < 9; skip++) {
    const r = new Random(7);
    r.uniform(skip);
    const s = r.state();
    assert.equal(s, { seed: 7, position: skip });
    const rest = [...r.uniform(5), ...r.normal(7), ...r.int(3, 0, 10)];
    const resumed = new Random(s.seed, s.position);
    const again = [...resumed.uniform(5), ...resumed.normal(7), ...resumed.int(3, 0, 10)];
    assert.equal(again, rest, `resume at position ${skip}`);
  }
  // normal(n) uses two words per pair; an odd n still consumes a whole pair.
  const r = new Random(9);
  r.normal(3);
  assert.is(r.state().position, 4);
});

test('uniform: in [0, 1), mean 1/2, variance 1/12', () => {
  const u = new Random(1).uniform(100_000);
  let s = 0;
  let s2 = 0;
  for (const v of u) {
    assert.ok(v >= 0 && v < 1);
    s += v;
    s2 += v * v;
  }
  const mean = s / u.length;
  const variance = s2 / u.length - mean * mean;
  assert.ok(Math.abs(mean - 0.5) < 0.005, `uniform mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `uniform variance ${variance}`);
});

test('normal: mean, std, tails; mean/std arguments', () => {
  const n = new Random(2).normal(100_000);
  let s = 0;
  let s2 = 0;
  let beyond3 = 0;
  for (const v of n) {
    assert.ok(Number.isFinite(v));
    s += v;
    s2 += v * v;
    if (Math.abs(v) > 3) beyond3++;
  }
  const mean = s / n.length;
  const std = Math.sqrt(s2 / n.length - mean * mean);
  assert.ok(Math.abs(mean) < 0.01, `normal mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.01, `normal std ${std}`);
  // P(|z| > 3) = 0.0027.
  assert.ok(beyond3 > 150 && beyond3 < 400, `|z| > 3 in ${beyond3} of 100000`);
  const shifted = new Random(3).normal(20_000, 5, 0.5);
  const m2 = shifted.reduce((a, b) => a + b, 0) / shifted.length;
  assert.ok(Math.abs(m2 - 5) < 0.02, `normal(mean 5) mean ${m2}`);
});

test("Box–Muller's own logarithm, sine and cosine agree with Math.log, Math.cos and Math.sin to float32 rounding", () => {
  const n = 1 << 17;
  const u = new Random(21).uniform(n);
  for (let i = 0; i < 2048; i += 2) { // the smallest and largest uniforms, and angles on a grid through every quadrant
    u[i] = (i / 2) * 2 ** -24;
    u[n - 2 - i] = 1 - (i / 2 + 1) * 2 ** -24;
    u[i + 1] = (i / 2) * 2 ** -10;
  }
  const out = new Float32Array(n);
  boxMuller(u, out, 0, n, 0, 1);
  let same = 0;
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u[i] + 2 ** -24)), theta = 2 * Math.PI * u[i + 1];
    for (const [k, want] of [[i, r * Math.cos(theta)], [i + 1, r * Math.sin(theta)]]) {
      const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(want), 2 ** -126))) - 23);
      if (Math.abs(out[k] - want) > Math.max(ulp, 1e-15)) assert.unreachable(`[${k}] u = ${u[i]}, ${u[i + 1]}: ${out[k]} vs ${want}`);
      if (out[k] === Math.fround(want)) same++;
    }
  }
  assert.ok(same > 0.999 * n, `${same} of ${n} equal to the float32 rounding of the Math functions' result`);
});

test('normal draws the same bits on the host and on the wasm backend (its Philox and Box–Muller, on its threads)', async () => {
  const { createBackend } = await import('../../backends/index.js');
  const host = new Random(11, 3).normal(10_001); // the reference backend has no Philox kernels
  const hostScaled = new Random(11, 3).normal(10_001, 0.5, 2);
  for (const threads of [1, 2]) {
    const wasm = await createBackend('wasm', { threads });
    setBackend(wasm);
    try {
      const rng = new Random(11, 3);
      const same = (a: Float32Array, b: Float32Array, what: string) => {
        for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${threads} threads, ${what} [${i}]: ${a[i]} vs ${b[i]}`);
      };
      same(rng.normal(10_001), host, 'mean 0 std 1');
      assert.is(rng.state().position, 3 + 10_002, 'position advanced by whole pairs');
      same(new Random(11, 3).normal(10_001, 0.5, 2), hostScaled, 'mean 0.5 std 2');
    } finally {
      setBackend(createReferenceBackend());
      wasm.destroy();
    }
  }
});

test('dropout masks: 16-bit halves of the stream words, the same on the host and on wasm (1 and 2 threads)', async () => {
  const { createWasmBackend } = await import('../../backends/wasm/index.js');
  const value = 1 / 0.9;
  for (const [start, n, p] of [[0, 5, 0.1], [3, 1029, 0.1], [6, 100_003, 0.25], [1, 130, 0], [2, 70, 1]] as const) {
    // the definition, from the raw words: element 2j the low half of word j, 2j + 1 the high half
    const w = new Random(13, start).words(Math.ceil(n / 2)), threshold = Math.ceil(p * 65536);
    const expected = Array.from({ length: n }, (_, i) =>
      ((i & 1 ? w[i >> 1] >>> 16 : w[i >> 1] & 0xffff) >= threshold ? Math.fround(value) : 0));
    if (n > 1000) {
      const kept = expected.filter((x) => x !== 0).length / n;
      assert.ok(Math.abs(kept - (1 - p)) < 0.01, `keeps about 1 − p: ${kept}`);
    }
    const host = new Random(13, start);
    assert.equal(Array.from(readF64Sync(host.maskAtLeast([n], p, value))), expected, `host, ${n} values from ${start}`);
    assert.is(host.state().position, start + Math.ceil(n / 2), 'host position advanced by ⌈n/2⌉ words');
    for (const threads of [1, 2]) {
      const wasm = await createWasmBackend({ threads, splitScale: 0 }); // every call split, even small ones
      setBackend(wasm);
      try {
        const rng = new Random(13, start);
        const mask = rng.maskAtLeast([n], p, value);
        assert.equal(Array.from(readF64Sync(mask)), expected, `${threads} threads, ${n} values from position ${start}, p ${p}`);
        assert.is(rng.state().position, start + Math.ceil(n / 2), 'position advanced by ⌈n/2⌉ words');
      } finally {
        setBackend(createReferenceBackend());
        wasm.destroy();
      }
    }
  }
});

test('int: in [lo, hi), every value hit about equally; bad ranges throw', async () => {
  const v = new Random(4).int(70_000, -3, 4);
  const hist = new Map<number, number>();
  for (const x of v) hist.set(x, (hist.get(x) ?? 0) + 1);
  assert.equal([...hist.keys()].sort((a, b) => a - b), [-3, -2, -1, 0, 1, 2, 3]);
  for (const [k, c] of hist) assert.ok(Math.abs(c - 10_000) < 500, `value ${k} drawn ${c} times of 70000`);
  await assertThrowsWith(() => new Random(1).int(3, 5, 5), ['Random.int', '[5, 5)'], 'empty range');
  await assertThrowsWith(() => new Random(1).int(3, 0, 1.5), ['Random.int'], 'non-integer bound');
});

test('permutation: a permutation of 0..n-1, different per seed', () => {
  const p = new Random(5).permutation(1000);
  assert.equal(Array.from(p).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  const q = new Random(6).permutation(1000);
  assert.ok(p.some((v, i) => v !== q[i]));
  assert.equal(Array.from(new Random(5).permutation(1)), [0]);
});

test('randn / rand tensors hold the stream values', () => {
  const t = new Random(8).randn([3, 4], 2);
  assert.equal(t.shape, [3, 4]);
  assert.equal(Array.from(readF64Sync(t)), Array.from(new Random(8).normal(12, 0, 2)));
  const u = new Random(8).rand([5]);
  assert.equal(Array.from(readF64Sync(u)), Array.from(new Random(8).uniform(5)));
  t.dispose();
  u.dispose();
});

test('bad seeds and positions throw', async () => {
  await assertThrowsWith(() => new Random(-1), ['Random', 'seed', '-1'], 'negative seed');
  await assertThrowsWith(() => new Random(1.5), ['Random', 'seed', '1.5'], 'fractional seed');
  await assertThrowsWith(() => new Random(1, -2), ['Random', 'position', '-2'], 'negative position');
});

test.run();
