// The fetch handler under Deno.serve, from the TypeScript sources (msgpackr from node_modules, the WASM
// backend loading its kernels), on 127.0.0.1, answering exactly as the in-process recommender.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeArtifact } from '../../ts-api/checkpoint/artifact.js';
import { createRecommender } from '../../ts-api/serve/recommender.js';
import { randomArtifact } from '../product/fixtures.js';
import { checkServer, root, startChild, waitHealthy } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'infodcl-deno-'));
const artifact = encodeArtifact(randomArtifact(30, 200, 16, 4));
writeFileSync(join(dir, 'model.artifact'), artifact);

for (const backend of ['wasm', '']) {
  test(`Deno.serve with ${backend || 'plain JS'} scoring`, async () => {
    const server = startChild(join(root, 'node_modules/.bin/deno'), [
      'run', '--sloppy-imports', '--no-lock', '--no-prompt', `--allow-read=${root},${dir}`, '--allow-net=127.0.0.1', '--allow-env',
      'tests/runtimes/deno-server.ts', join(dir, 'model.artifact'), backend,
    ], 60_000);
    try {
      const end = Date.now() + 30_000;
      let port: number | undefined;
      while (port === undefined && Date.now() < end) {
        port = JSON.parse(/\{"port":\d+\}/.exec(server.output())?.[0] ?? 'null')?.port;
        if (port === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(port, `Deno did not start listening:\n${server.output()}`);
      const url = `http://127.0.0.1:${port}`;
      await waitHealthy(url, 5000, server.output);
      await checkServer(url, await createRecommender(artifact));
    } finally {
      await server.stop();
    }
    assert.match(server.output(), /stopped/, 'graceful shutdown');
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
