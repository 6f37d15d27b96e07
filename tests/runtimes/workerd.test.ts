// The fetch handler as a workerd module worker: one esbuild bundle plus the .wasm kernels and the artifact
// as modules, served on 127.0.0.1 offline, answering exactly as the in-process recommender.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeArtifact } from '../../ts-api/checkpoint/artifact.js';
import { createRecommender } from '../../ts-api/serve/recommender.js';
import { randomArtifact } from '../product/fixtures.js';
import { bundleWorker, checkServer, freePort, root, startChild, waitHealthy } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'infodcl-workerd-'));
const artifact = encodeArtifact(randomArtifact(50, 120, 16, 9));

test('the worker bundle is one ESM file without Node built-ins or the native WebGPU addon', async () => {
  const inputs = await bundleWorker(join(root, 'tests/runtimes/worker-entry.ts'), join(dir, 'worker.js'));
  assert.not.match(inputs, /webgpu|dawn|\.node\b/i, inputs);
  assert.not.match(inputs, /backends\/index/, 'the backend registry (and so every backend) stays out');
  const code = readFileSync(join(dir, 'worker.js'), 'utf8');
  assert.not.match(code, /^import .* from ["']node:/m, 'no static node: imports');
  assert.match(code, /from ["']\.\/kernels\.wasm["']/);
});

test('workerd serves /health and /recommend on 127.0.0.1 like the in-process recommender', async () => {
  copyFileSync(join(root, 'wasm/build/kernels.wasm'), join(dir, 'kernels.wasm'));
  writeFileSync(join(dir, 'model.artifact'), artifact);
  const port = await freePort();
  writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "kernels.wasm", wasm = embed "kernels.wasm"),
    (name = "model.artifact", data = embed "model.artifact"),
  ],
  compatibilityDate = "2024-09-23",
);
`);
  const server = startChild(join(root, 'node_modules/.bin/workerd'), ['serve', join(dir, 'config.capnp')], 60_000);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url, 20_000, server.output);
    const rec = await createRecommender(artifact);
    await checkServer(url, rec);
  } finally {
    await server.stop();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
