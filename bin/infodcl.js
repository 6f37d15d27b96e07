#!/usr/bin/env node
// Launches the infodcl CLI: the build in dist/ when present (npm install), otherwise the TypeScript
// source through tsx (dev checkout). INFODCL_FROM_SOURCE=1 forces the source even when dist/ exists.
import { existsSync } from 'node:fs';

const built = new URL('../dist/ts-api/cli/main.js', import.meta.url);
const source = new URL('../ts-api/cli/main.ts', import.meta.url);
const fromSource = process.env.INFODCL_FROM_SOURCE === '1' || !existsSync(built);

if (fromSource) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    console.error('infodcl: dist/ is missing and tsx is not installed: run "npm run build" first');
    process.exit(1);
  }
}
const { main } = await import((fromSource ? source : built).href);
process.exitCode = await main(process.argv.slice(2));
