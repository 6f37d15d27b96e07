// Runs every uvu suite under tests/ (TypeScript through tsx) and ends with the line CI reads:
// "N passed, N failed". Usage: node tests/run.js [dir-or-pattern ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return walk(p);
    return /\.test\.ts$/.test(name) ? [p] : [];
  }).sort();
}

const files = walk(join(root, 'tests'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));

let passed = 0;
let failed = 0;
for (const file of files) {
  // One process per file: a native crash or hang in one suite cannot take the others down.
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeout: Number(process.env.TEST_TIMEOUT_MS ?? 600_000), maxBuffer: 64 << 20,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const crashed = r.status !== 0 && total === 0;
  const bad = crashed ? 1 : total - ok - skipped;
  passed += ok;
  failed += bad;
  const why = r.error ? ` (${r.error.message})` : r.signal ? ` (signal ${r.signal})` : '';
  console.log(`${bad || r.status !== 0 ? 'FAIL' : 'ok  '} ${file}: ${ok}/${total}${why}`);
  if (bad || r.status !== 0) {
    console.log(out.split('\n').map((l) => `    ${l}`).join('\n'));
    if (!bad) failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
