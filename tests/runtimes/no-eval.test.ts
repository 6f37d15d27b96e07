// Edge runtimes forbid eval and new Function: the engine, the reference and WASM backends, a training step
// and the serving path must run under `node --disallow-code-generation-from-strings`.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { root } from './harness.js';

test('forward/backward, an InfoDCL step and a served request with code generation disallowed', () => {
  const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', 'tests/runtimes/no-eval-script.ts'], {
    cwd: root, encoding: 'utf8', timeout: 60_000,
  });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(out.evalBlocked && out.functionBlocked, 'the flag is in force');
  for (const name of ['reference', 'wasm']) {
    assert.ok(Number.isFinite(out[name].value) && Number.isFinite(out[name].loss), JSON.stringify(out[name]));
    assert.ok(out[name].grad.every(Number.isFinite));
  }
  assert.ok(Math.abs(out.reference.value - out.wasm.value) < 1e-4, 'backends agree');
  assert.is(out.wasmThreads, 2, 'wasm ran on two threads');
  assert.ok(Math.abs(out.reference.big - out.wasm.big) <= 1e-3 * Math.abs(out.reference.big) + 1e-2, 'a split matmul agrees');
  assert.equal(out.serve, { status: 200, items: 2 });
});

test.run();
