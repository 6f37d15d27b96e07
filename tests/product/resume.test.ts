// A checkpoint written from train's onEpoch callback resumes bit-exactly: 3 epochs straight equal 2 epochs,
// a checkpoint, a fresh process state (model, optimizer, RNG rebuilt from the file), then the third epoch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createBackend } from '../../backends/index.js';
import { Random, setBackend } from '../../engine/index.js';
import { loadCheckpoint, loadParameters, saveCheckpoint, trainStateOf } from '../../ts-api/checkpoint/index.js';
import { generateSynthetic } from '../../ts-api/data/synthetic.js';
import { splitCsr } from '../../ts-api/eval/evaluate.js';
import { resolveConfig } from '../../ts-api/infodcl/config.js';
import { InfoDclRecommender } from '../../ts-api/infodcl/recommender.js';
import { train, type TrainOptions } from '../../ts-api/train.js';

setBackend(await createBackend('wasm'));
const dir = mkdtempSync(join(tmpdir(), 'infodcl-resume-'));
const ds = generateSynthetic({ nUser: 80, nItem: 50, seed: 4 });
const config = resolveConfig({ dim: 8, steps: 20, batchSize: 256, seed: 9 });
const opts: TrainOptions = { epochs: 3, batchSize: 256, lr: 0.01, seed: 9, protocol: 'honest', evalEvery: 1, patience: 0 };

async function params(rec: InfoDclRecommender) {
  return Promise.all(rec.model.namedParameters().map(async ([, t]) => Array.from(await t.data())));
}

test('train 3 epochs = train 2, checkpoint, restore, train 1 more (parameters and history bit for bit)', async () => {
  const path = join(dir, 'model.ckpt');
  const straight = await InfoDclRecommender.create(ds, config, new Random(9));
  const full = await train(straight, ds, {
    ...opts,
    onEpoch: async (record, snapshot) => {
      if (record.epoch !== 2) return;
      await saveCheckpoint(path, { model: straight.model, config, ...await snapshot(), rawUserIds: ds.rawUserIds,
        rawItemIds: ds.rawItemIds, trainItems: splitCsr(ds, ds.train), dataset: ds.name });
    },
  }, new Random(9));
  const expected = await params(straight);
  straight.dispose();

  const ckpt = loadCheckpoint(path);
  assert.is(ckpt.epoch, 2);
  const resume = trainStateOf(ckpt)!;
  assert.ok(resume, 'the checkpoint is resumable');
  const again = await InfoDclRecommender.create(ds, ckpt.config, new Random(ckpt.config.seed));
  loadParameters(again.model, ckpt);
  const rest = await train(again, ds, { ...opts, resume }, new Random(resume.rng.seed, resume.rng.position));
  const got = await params(again);
  again.dispose();
  got.forEach((p, i) => assert.equal(p, expected[i], `parameter ${i}`));
  assert.equal(rest.history.map((h) => h.losses), full.history.map((h) => h.losses));
  assert.equal(rest.best, full.best);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
