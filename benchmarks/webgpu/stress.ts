/**
 * Stress run of the WebGPU backend under Dawn in Node: the whole conformance suite (every file of
 * tests/conformance, webgpu and reference backends, wasm left out), N times in a row, each file in its
 * own child process with a timeout. Counts clean runs, test failures, crashes (a signal, or an exit with
 * no test summary) and hangs (timeouts), and prints one JSON line per iteration plus a summary.
 *
 * Usage: node --import tsx benchmarks/webgpu/stress.ts [--runs 20] [--timeout 300] [--out stress.json]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('runs', '20'));
const timeoutS = Number(arg('timeout', '300'));
const root = fileURLToPath(new URL('../..', import.meta.url));
const files = readdirSync(join(root, 'tests', 'conformance')).filter((f) => f.endsWith('.test.ts')).sort();

type Outcome = 'clean' | 'failed' | 'crash' | 'hang';
interface FileResult { file: string; outcome: Outcome; passed: number; total: number; seconds: number; note?: string }

function runFile(file: string): FileResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('tests', 'conformance', file)], {
    cwd: root, encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 64 << 20,
    env: { ...process.env, WEBGPU: '1', SKIP_WASM: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const seconds = Math.round((performance.now() - t0) / 100) / 10;
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  let outcome: Outcome;
  let note: string | undefined;
  if (r.error && /ETIMEDOUT/.test(String(r.error))) { outcome = 'hang'; note = `no exit after ${timeoutS} s`; }
  else if (r.signal || total === 0) { outcome = 'crash'; note = r.signal ?? `exit ${r.status}: ${out.trim().split('\n').slice(-1)[0]}`; }
  else if (r.status !== 0 || passed !== total) { outcome = 'failed'; note = out.split('\n').filter((l) => /FAIL\s+"/.test(l)).slice(0, 3).join(' | '); }
  else outcome = 'clean';
  return { file, outcome, passed, total, seconds, ...(note ? { note } : {}) };
}

const counts: Record<Outcome, number> = { clean: 0, failed: 0, crash: 0, hang: 0 };
const iterations: { run: number; seconds: number; files: FileResult[] }[] = [];
const started = performance.now();
for (let run = 1; run <= runs; run++) {
  const t0 = performance.now();
  const results = files.map(runFile);
  for (const r of results) counts[r.outcome]++;
  const seconds = Math.round((performance.now() - t0) / 1000);
  iterations.push({ run, seconds, files: results });
  console.log(JSON.stringify({ run, seconds, outcomes: results.map((r) => `${r.file}:${r.outcome}${r.note ? ` (${r.note})` : ''}`) }));
}
const summary = {
  runs, filesPerRun: files.length, processes: runs * files.length, ...counts,
  cleanRuns: iterations.filter((it) => it.files.every((f) => f.outcome === 'clean')).length,
  minutes: Math.round((performance.now() - started) / 600) / 100,
};
console.log(JSON.stringify({ summary }));
const out = arg('out', '');
if (out) writeFileSync(out, JSON.stringify({ summary, iterations }, null, 1));
process.exitCode = counts.crash || counts.hang || counts.failed ? 1 : 0;
