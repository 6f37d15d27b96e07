// The conformance suite in Deno: each conformance file runs in a `deno` child process (the npm package's
// binary) against Deno's own WebGPU (`navigator.gpu`, wgpu), not Dawn. With WEBGPU=1 every conformance
// file runs on the webgpu backend (wasm left out: the Node run covers it); without it, one file runs on
// the reference and wasm backends, so the engine is still shown to load and run in Deno.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';

const root = fileURLToPath(new URL('../..', import.meta.url));
const deno = join(root, 'node_modules', '.bin', 'deno');
const WEBGPU = process.env.WEBGPU === '1';
const files = readdirSync(join(root, 'tests', 'conformance')).filter((f) => f.endsWith('.test.ts')).sort()
  .filter((f) => WEBGPU || f === 'layout.test.ts');

test('deno is installed (devDependency `deno`)', () => {
  if (!existsSync(deno)) throw new Error(`no ${deno}: run npm ci`);
});

for (const file of files) {
  test(`deno: conformance/${file} on ${WEBGPU ? 'webgpu (navigator.gpu)' : 'reference + wasm'}`, () => {
    const r = spawnSync(deno, ['run', '--allow-read', '--allow-env', '--unstable-sloppy-imports', join('tests', 'conformance', file)], {
      cwd: root, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', ...(WEBGPU ? { SKIP_WASM: '1' } : {}) },
    });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const fails = out.split('\n').filter((l) => /FAIL\s+"/.test(l)).slice(0, 10).join('\n');
    if (r.error || r.status !== 0 || total === 0 || passed !== total) {
      throw new Error(`deno ${file}: exit ${r.status}${r.signal ? ` (signal ${r.signal})` : ''}${r.error ? ` (${r.error.message})` : ''}, ` +
        `${passed}/${total} passed\n${fails || out.slice(-3000)}`);
    }
    if (WEBGPU && !/known conformance gaps for [^\n]*webgpu/.test(out)) throw new Error(`deno ${file}: the webgpu backend was not under test`);
  });
}

test.run();
