// InfoDCL beyond the golden fixtures: small batches, every flag and channel layout, determinism,
// reverse sampling, divergence reporting, and the PyTorch-like identical transformer layers at init.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createBackend } from '../../backends/index.js';
import { Adam, liveTensors, Random, setBackend, tensor, type Tensor, valueAndGrads } from '../../engine/index.js';
import { createWasmBackend } from '../../backends/wasm/index.js';
import { generateSynthetic } from '../../ts-api/data/synthetic.js';
import { resolveConfig, type InfoDclConfig } from '../../ts-api/infodcl/config.js';
import { InfoDCL } from '../../ts-api/infodcl/model.js';
import { InfoDclRecommender } from '../../ts-api/infodcl/recommender.js';
import { train, type Recommender } from '../../ts-api/train.js';

const shared = await createBackend('wasm');
setBackend(shared);
const small = (over: Partial<InfoDclConfig> = {}) => resolveConfig({ steps: 20, ...over });

async function oneStep(cfg: InfoDclConfig, B: number, seed = 7) {
  const rng = new Random(seed);
  const model = new InfoDCL(30, 50, cfg, rng);
  const guide = rng.randn([50, cfg.dim]);
  const batch = { users: rng.int(B, 0, 30), pos: rng.int(B, 0, 50), neg: rng.int(B, 0, 50) };
  const noise = model.drawNoise(B, rng);
  const { value, grads } = await valueAndGrads(async () => (await model.losses(batch, noise, cfg.channels.map(() => guide), true, rng)).total, model.parameters());
  const loss = await value.item();
  const finite = (await Promise.all(grads.map((g) => g.data()))).every((a) => a.every(Number.isFinite));
  [value, ...grads, guide, ...noise.noise as Tensor[]].forEach((t: Tensor) => t.dispose());
  model.dispose();
  return { loss, finite };
}

for (const threads of [1, 2]) test(`steady state on ${threads} thread(s): training steps reuse freed wasm memory (no growth)`, async () => {
  const backend = await createWasmBackend({ threads, splitScale: 0 });
  setBackend(backend);
  try {
    const cfg = small({ dim: 16 }), rng = new Random(3);
    const model = new InfoDCL(40, 60, cfg, rng);
    const guides = cfg.channels.map(() => rng.randn([60, cfg.dim]));
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const step = async () => {
      const batch = { users: rng.int(96, 0, 40), pos: rng.int(96, 0, 60), neg: rng.int(96, 0, 60) };
      const { value, grads } = await valueAndGrads(async () => (await model.losses(batch, model.drawNoise(96, rng), guides, true, rng)).total, opt.params);
      opt.step(grads);
      [value, ...grads].forEach((t) => t.dispose());
    };
    for (let i = 0; i < 3; i++) await step();
    const before = backend.memoryStats();
    for (let i = 0; i < 20; i++) await step();
    assert.equal(backend.memoryStats(), before);
    [...guides].forEach((t) => t.dispose());
    opt.dispose();
    model.dispose();
  } finally {
    setBackend(shared);
    backend.destroy();
  }
});

test('batches smaller than 64 rows train (the reference crashes there)', async () => {
  for (const B of [1, 5, 40, 63]) {
    const r = await oneStep(small(), B);
    assert.ok(Number.isFinite(r.loss) && r.finite, `B = ${B}`);
  }
});

test('every flag, both diffusers and the paper channel layout give finite losses and gradients', async () => {
  for (const flag of [0, 1, 2, 3] as const) assert.ok((await oneStep(small({ flag }), 16)).finite, `flag ${flag}`);
  assert.ok((await oneStep(small({ diffuser: 'mlp2' }), 16)).finite, 'mlp2');
  assert.ok((await oneStep(small({ channels: ['knowledge', 'social'] }), 16)).finite, 'knowledge,social');
  for (const schedule of ['linear', 'cosine', 'sqrt'] as const) assert.ok((await oneStep(small({ schedule }), 8)).finite, schedule);
});

test('the same seed gives the same loss on the same backend, another seed does not', async () => {
  const a = await oneStep(small(), 32, 11);
  const b = await oneStep(small(), 32, 11);
  const c = await oneStep(small(), 32, 12);
  assert.is(a.loss, b.loss);
  assert.is.not(a.loss, c.loss);
});

test('both transformer layers of PSNet start identical (nn.TransformerEncoder deep-copies its layer)', async () => {
  const model = new InfoDCL(4, 4, small(), new Random(3));
  const params = new Map(model.namedParameters());
  for (const [name, p] of params) {
    if (!name.includes('.layers.0.')) continue;
    assert.equal(Array.from(p.dataSync()), Array.from(params.get(name.replace('.layers.0.', '.layers.1.'))!.dataSync()), name);
  }
  model.dispose();
});

test('reverse sampling with guidance returns finite [B, d] and frees its intermediates', async () => {
  const cfg = small();
  const rng = new Random(5);
  const model = new InfoDCL(10, 20, cfg, rng);
  const guide = rng.randn([20, cfg.dim]);
  const before = liveTensors();
  const x = model.sample(0, Int32Array.from([0, 3, 19]), guide, rng);
  assert.equal(x.shape, [3, cfg.dim]);
  assert.ok(x.dataSync().every(Number.isFinite));
  x.dispose();
  assert.is(liveTensors(), before);
  guide.dispose();
  model.dispose();
});

test('a NaN loss stops training with an error naming the term, epoch and batch', async () => {
  const ds = generateSynthetic({ nUser: 60, nItem: 40, seed: 1 });
  const w = tensor(new Float32Array(4).fill(1), [2, 2]);
  const bad: Recommender = {
    name: 'bad',
    parameters: () => [w],
    batchLoss: async () => ({ total: tensor([Number.NaN], []), rec: tensor([0], []) }),
    representations: () => { throw new Error('unused'); },
    dispose: () => w.dispose(),
  };
  const error = await train(bad, ds, { epochs: 1, batchSize: 64, lr: 0.1, seed: 1, protocol: 'honest', evalEvery: 1, patience: 0 })
    .then(() => null, (e: Error) => e);
  assert.match(error?.message ?? 'no error', /loss term "total" is NaN at epoch 1, batch 1/);
});

test('a short InfoDCL run on synthetic data learns (valid Recall@20 rises above MostPop-level chance)', async () => {
  const ds = generateSynthetic({ nUser: 200, nItem: 120, seed: 3 });
  const cfg = small({ batchSize: 256 });
  const rng = new Random(cfg.seed);
  const rec = await InfoDclRecommender.create(ds, cfg, rng);
  const r = await train(rec, ds, { epochs: 4, batchSize: 256, lr: 0.005, seed: cfg.seed, protocol: 'honest', evalEvery: 3, patience: 0 }, rng);
  assert.ok(r.best!.valid!['recall@20'] > 0.2, `recall@20 ${r.best!.valid!['recall@20']}`);
  rec.dispose();
});

test.run();
