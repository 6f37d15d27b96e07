// Memory: a training loop leaves live tensors and backend buffers unchanged, a deliberate leak is
// detected by the same check, tidy/keep semantics, and views that share storage (per backend).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../../engine/backend.js';
import {
  Adam, add, broadcastTo, cast, concat, div, dropout, exp, gatherRows, gelu, keep, l2Normalize, LayerNorm, layerNorm, Linear,
  liveTensors, logSoftmax, logSumExp, matmul, max, maximum, mean, mul, MultiheadAttention, pad, Random, reshape, scatterAddRows,
  setBackend, slice, softmax, square, sub, sum, sumTo, svd, tensor, Tensor, tidy, topk, TransformerEncoderLayer, transpose,
  valueAndGrads, where,
} from '../../engine/index.js';
import { loadBackends, readF64, registerLoadFailures } from '../helpers.js';

const load = await loadBackends();
registerLoadFailures(test, load);

interface Counts { tensors: number; buffers: number }
const counts = (b: Backend): Counts => ({ tensors: liveTensors(), buffers: b.liveBuffers() });

/** A small MLP (Linear–GELU–Linear) with an MSE loss and Adam. */
function makeTrainer(seed: number) {
  const rng = new Random(seed);
  const l1 = new Linear(8, 16, rng);
  const l2 = new Linear(16, 4, rng);
  const x = keep(rng.randn([32, 8]));
  const y = keep(rng.randn([32, 4]));
  const params = [...l1.parameters(), ...l2.parameters()];
  const opt = new Adam(params, { lr: 1e-2 });
  const loss = () => mean(square(sub(l2.forward(gelu(l1.forward(x))), y)));
  const step = async (): Promise<number> => {
    const value = tidy(() => {
      const r = valueAndGrads(loss, params);
      opt.step(r.grads);
      return r.value;
    });
    const v = (await readF64(value))[0];
    value.dispose();
    return v;
  };
  const dispose = () => { l1.dispose(); l2.dispose(); x.dispose(); y.dispose(); opt.dispose(); };
  return { step, dispose };
}

for (const { name, backend } of load.available) {
  test(`${name}: 200 forward/backward/Adam steps leave live tensors and buffers unchanged`, async () => {
    setBackend(backend);
    const start = counts(backend);
    const t = makeTrainer(1);
    const first = await t.step(); // allocates Adam's moments
    const base = counts(backend);
    let last = first;
    for (let i = 1; i < 200; i++) last = await t.step();
    assert.equal(counts(backend), base, `${name}: live tensors/buffers after 200 steps differ from after the first step`);
    assert.ok(last < first * 0.5, `${name}: loss did not go down (${first} → ${last})`);
    t.dispose();
    assert.equal(counts(backend), start, `${name}: disposing the model and optimizer did not free everything`);
  });

  test(`${name}: the same check detects a tensor leaked inside the loop`, async () => {
    setBackend(backend);
    const t = makeTrainer(2);
    await t.step();
    const base = counts(backend);
    const leaked: Tensor[] = [];
    for (let i = 0; i < 20; i++) {
      await t.step();
      leaked.push(tensor([i, i + 1, i + 2])); // outside any tidy: a leak
    }
    const after = counts(backend);
    assert.is(after.tensors - base.tensors, 20, `${name}: the leak check missed leaked tensors`);
    assert.is(after.buffers - base.buffers, 20, `${name}: the leak check missed leaked buffers`);
    leaked.forEach((l) => l.dispose());
    assert.equal(counts(backend), base);
    t.dispose();
  });

  test(`${name}: tidy frees what it does not return (direct, array, object), nested scopes, keep`, () => {
    setBackend(backend);
    const start = counts(backend);
    const a = tensor([1, 2, 3]);
    const r = tidy(() => {
      const b = exp(a);
      const c = add(b, 1);
      return c;
    });
    assert.is(liveTensors(), start.tensors + 2, 'tidy should leave the input and the result');
    const arr = tidy(() => [mul(a, 2), add(a, a), exp(exp(a))]);
    assert.is(liveTensors(), start.tensors + 5);
    const obj = tidy(() => ({ s: sum(a), m: mean(exp(a)) }));
    assert.is(liveTensors(), start.tensors + 7);
    let inner: Tensor | null = null;
    let dropped: Tensor | null = null;
    const outer = tidy(() => {
      inner = tidy(() => { dropped = exp(a); return add(a, 1); });
      assert.ok(dropped!.disposed, 'the inner scope frees what it does not return');
      assert.not.ok(inner.disposed, 'the inner result moves to the outer scope');
      return mul(inner, 2);
    });
    assert.ok(inner!.disposed, 'the outer scope frees the inner result it did not return');
    assert.not.ok(outer.disposed);
    let kept: Tensor | null = null;
    tidy(() => { kept = keep(exp(a)); sub(a, 1); });
    assert.not.ok(kept!.disposed, 'keep survives the scope');
    for (const t of [a, r, ...arr, obj.s, obj.m, outer, kept!]) t.dispose();
    assert.equal(counts(backend), start);
  });

  test(`${name}: tidy frees its tensors when the function throws, and works with async functions`, async () => {
    setBackend(backend);
    const start = counts(backend);
    assert.throws(() => tidy(() => { exp(tensor([1, 2])); throw new Error('boom'); }), /boom/);
    assert.equal(counts(backend), start, 'a throwing scope leaked');
    const v = await tidy(async () => {
      const t = tensor([1, 2, 3]);
      await Promise.resolve();
      const s = sum(mul(t, t));
      return s;
    });
    assert.equal(Array.from(await readF64(v)), [14]);
    v.dispose();
    assert.equal(counts(backend), start, 'an async scope leaked');
  });

  test(`${name}: views share storage; the buffer is freed at the last dispose`, async () => {
    setBackend(backend);
    const start = counts(backend);
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const v1 = reshape(x, [3, 2]);
    const v2 = reshape(v1, [6]);
    assert.is(backend.liveBuffers(), start.buffers + 1, 'a reshape must not copy');
    assert.is(liveTensors(), start.tensors + 3);
    x.dispose();
    assert.ok(x.disposed);
    assert.is(backend.liveBuffers(), start.buffers + 1, 'the storage must outlive the first owner');
    assert.equal(Array.from(await readF64(v2)), [1, 2, 3, 4, 5, 6]);
    v1.dispose();
    v1.dispose(); // a second dispose is harmless
    assert.is(backend.liveBuffers(), start.buffers + 1);
    v2.dispose();
    assert.equal(counts(backend), start, 'the last view frees the buffer');
  });

  test(`${name}: buffers keep their contents through random alloc/free and memory growth`, async () => {
    setBackend(backend);
    const start = counts(backend);
    const rng = new Random(99);
    const alive = new Map<Tensor, number>(); // tensor → the value every element holds
    let next = 1;
    for (let round = 0; round < 400; round++) {
      const r = rng.uniform(2);
      if (r[0] < 0.6 || alive.size === 0) {
        // Mostly small, sometimes large (a few MiB: the heap has to grow while others are alive).
        const n = r[1] < 0.05 ? 1 << 20 : 1 + Math.floor(r[1] * 300);
        const v = next++;
        alive.set(tensor(new Float32Array(n).fill(v)), v);
      } else {
        const victims = [...alive.keys()];
        const t = victims[Math.floor(r[1] * victims.length)];
        alive.delete(t);
        t.dispose();
      }
    }
    for (const [t, v] of alive) {
      const d = await readF64(t);
      const bad = d.findIndex((x) => x !== v);
      assert.is(bad, -1, `${name}: a buffer of ${t.size} elements lost its contents (element ${bad} is ${d[bad]}, expected ${v})`);
    }
    assert.is(backend.liveBuffers(), start.buffers + alive.size);
    for (const t of alive.keys()) t.dispose();
    assert.equal(counts(backend), start);
  });

  test(`${name}: every public op called outside any scope leaves only its outputs alive`, async () => {
    setBackend(backend);
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const g = tensor([1, 0.5, 2]);
    const b = tensor([0, 1, 0]);
    const idx = tensor(Int32Array.from([0, 1, 1]));
    const idx2 = tensor(Int32Array.from([2, 0]));
    const x3 = tensor(new Float32Array(24).map((_, i) => Math.sin(i)), [2, 3, 4]);
    const rng = new Random(1);
    const mods = {
      linear: new Linear(3, 4, rng), norm: new LayerNorm(3), mha: new MultiheadAttention(4, 2, rng),
      layer: new TransformerEncoderLayer(4, { heads: 2, ffn: 8 }, rng),
    };
    const probes: Record<string, () => unknown> = {
      exp: () => exp(x), 'add number': () => add(x, 1), 'div number by tensor': () => div(2, x), 'maximum number': () => maximum(x, 2),
      'sum all': () => sum(x), 'sum axes': () => sum(x, [0, 1]), 'sum all keepDims': () => sum(x, undefined, true),
      'max all': () => max(x), 'max axes keepDims': () => max(x, [0, 1], true), mean: () => mean(x, 1), sumTo: () => sumTo(x, [3]),
      softmax: () => softmax(x), logSoftmax: () => logSoftmax(x), logSumExp: () => logSumExp(x), topk: () => topk(x, 2),
      matmul: () => matmul(x, x, { transB: true }), gatherRows: () => gatherRows(x, idx), scatterAddRows: () => scatterAddRows(x, idx2, 3),
      layerNorm: () => layerNorm(x, g, b), l2Normalize: () => l2Normalize(x), dropout: () => dropout(x, 0.5, new Random(1)),
      concat: () => concat([x, x], 0), pad: () => pad(x, [1, 1], [4, 5]), slice: () => slice(x, [0, 1], [2, 2]),
      broadcastTo: () => broadcastTo(g, [2, 3]), transpose: () => transpose(x), where: () => where(x, x, x), cast: () => cast(x, 'i32'),
      svd: () => svd(x),
      'Linear.forward': () => mods.linear.forward(x), 'LayerNorm.forward': () => mods.norm.forward(x),
      'MultiheadAttention.forward': () => mods.mha.forward(x3), 'TransformerEncoderLayer.forward': () => mods.layer.forward(x3),
      'TransformerEncoderLayer.forward (training)': () => mods.layer.forward(x3, true, new Random(2)),
    };
    const leaks: string[] = [];
    for (const [op, f] of Object.entries(probes)) {
      const before = counts(backend);
      const r = await f();
      const outs = r instanceof Tensor ? [r] : Object.values(r as object).filter((v): v is Tensor => v instanceof Tensor);
      const now = counts(backend);
      const extra = now.tensors - before.tensors - outs.length;
      const extraBuffers = now.buffers - before.buffers - outs.length;
      outs.forEach((o) => o.dispose());
      if (extra || extraBuffers) leaks.push(`${op}: ${extra} tensor(s), ${extraBuffers} buffer(s)`);
    }
    for (const t of [x, g, b, idx, idx2, x3]) t.dispose();
    Object.values(mods).forEach((m) => m.dispose());
    assert.equal(leaks, [], `${name}: ops left intermediates alive outside tidy:\n  ${leaks.join('\n  ')}`);
  });

  test(`${name}: valueAndGrads frees every intermediate, also when the function throws`, () => {
    setBackend(backend);
    const w = tensor([0.5, -1, 2], [3]);
    const start = counts(backend);
    const { value, grads } = valueAndGrads(() => sum(exp(mul(w, w))), [w]);
    assert.equal(counts(backend), { tensors: start.tensors + 2, buffers: start.buffers + 2 });
    value.dispose();
    grads[0].dispose();
    assert.throws(() => valueAndGrads(() => { exp(w); throw new Error('inside'); }, [w]), /inside/);
    assert.equal(counts(backend), start);
    w.dispose();
  });
}

test.run();
