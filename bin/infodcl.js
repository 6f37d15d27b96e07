#!/usr/bin/env node
// Launches the infodcl CLI. In a source checkout with tsx installed it runs the TypeScript sources, so an
// edit never meets a stale build; an installed package (no sources) runs the build in dist/.
// INFODCL_FROM_SOURCE=1 / 0 forces either.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// Relaxed SIMD (the fused multiply-add kernels) is on by default from Node 22; Node 20 has it behind a flag.
if (Number(process.versions.node.split('.')[0]) < 22) setFlagsFromString('--experimental-wasm-relaxed-simd');

const built = new URL('../dist/ts-api/cli/main.js', import.meta.url);
const source = new URL('../ts-api/cli/main.ts', import.meta.url);
const tsxInstalled = existsSync(new URL('../node_modules/tsx/package.json', import.meta.url));
const fromSource = process.env.INFODCL_FROM_SOURCE
  ? process.env.INFODCL_FROM_SOURCE === '1'
  : (existsSync(source) && tsxInstalled) || !existsSync(built);

try {
  if (fromSource) {
    const tsx = await import('tsx/esm/api').catch(() => {
      throw new Error('dist/ is missing and tsx is not installed: run "npm run build" first');
    });
    tsx.register();
  }
  const { main } = await import((fromSource ? source : built).href);
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // Only failures to load the CLI land here; main() reports its own errors.
  console.error(`infodcl: ${e instanceof Error ? e.message : e}`);
  if (process.env.INFODCL_DEBUG === '1') console.error(e);
  process.exitCode = 1;
}
