// Run with `node --disallow-code-generation-from-strings` by no-eval.test.ts: the engine, both CPU backends,
// an InfoDCL training step and the serving path, with eval and new Function forbidden. Prints one JSON line.
import { createBackend } from '../../backends/index.js';
import { Adam, Random, setBackend, sigmoid, sum, matmul, tensor, valueAndGrads } from '../../engine/index.js';
import { encodeArtifact } from '../../ts-api/checkpoint/artifact.js';
import { resolveConfig } from '../../ts-api/infodcl/config.js';
import { InfoDCL } from '../../ts-api/infodcl/model.js';
import { createHandler, createRecommender } from '../../ts-api/serve/index.js';
import { randomArtifact } from '../product/fixtures.js';

let evalBlocked = false;
try { (0, eval)('1'); } catch (e) { evalBlocked = e instanceof EvalError; }
let functionBlocked = false;
try { new Function('return 1'); } catch (e) { functionBlocked = e instanceof EvalError; }

const results: Record<string, unknown> = { evalBlocked, functionBlocked };
for (const name of ['reference', 'wasm']) {
  const backend = await createBackend(name, { threads: 2 }); // wasm: worker threads (their source is evaluated by the runtime, not by eval)
  setBackend(backend);
  if ('build' in backend) results.wasmThreads = (backend.build as { threads: number }).threads;
  const big = sum(matmul(tensor(new Random(5).normal(512 * 256), [512, 256]), tensor(new Random(6).normal(256 * 256), [256, 256])));
  const w = tensor(new Random(1).normal(12), [3, 4]);
  const x = tensor(new Random(2).normal(6), [2, 3]);
  const { value, grads } = await valueAndGrads(() => sum(sigmoid(matmul(x, w))), [w]);
  const model = new InfoDCL(6, 9, resolveConfig({ dim: 8, steps: 10 }), new Random(3));
  const rng = new Random(4);
  const guides = [0, 1].map(() => tensor(rng.normal(9 * 8), [9, 8]));
  const batch = { users: Int32Array.of(0, 1, 2), pos: Int32Array.of(1, 2, 3), neg: Int32Array.of(4, 5, 6) };
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const step = await valueAndGrads(async () => (await model.losses(batch, model.drawNoise(3, rng), guides, true, rng)).total, opt.params);
  opt.step(step.grads);
  results[name] = { big: await big.item(), value: await value.item(), grad: Array.from(await grads[0].data()).slice(0, 2), loss: await step.value.item() };
  backend.destroy();
}
const rec = await createRecommender(encodeArtifact(randomArtifact(4, 10, 8)), { backend: 'wasm' });
const res = await createHandler(rec)(new Request('http://x/recommend?user=10&k=2'));
results.serve = { status: res.status, items: (await res.json()).items.length };
console.log(JSON.stringify(results));
