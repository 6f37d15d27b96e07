/**
 * Serving benchmark: cold start and top-20 latency of the serverless recommender, and a bounded load test
 * of `infodcl serve` over loopback.
 *
 * - Latency: artifacts with random embeddings (d = 64, ~10 seen items per user) of Office's size
 *   (4905 users × 2420 items) and of a 50k-item catalogue. Cold start = artifact decode (checksum,
 *   structure walk, validation) + backend init; then `samples` top-20 requests for random users after a
 *   warm-up, p50 and p99. Scored in plain JS and on the chosen backend.
 * - Load: `infodcl serve` (a child process, the real CLI) on 127.0.0.1 with the Office-sized artifact;
 *   `concurrency` loopback clients send `requests` GET /recommend (random users, k = 20), stopping early
 *   after `maxSeconds`. Reports requests per second, errors (non-200 or failed), latency, and the server's
 *   resident memory before and after (Linux /proc).
 *
 * Run through the CLI (`npx infodcl bench serve --json`) or directly: node --import tsx benchmarks/serve.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Random } from '../engine/index.js';
import { createBackend } from '../backends/index.js';
import { decodeArtifact, encodeArtifact, type ArtifactData } from '../ts-api/checkpoint/artifact.js';
import { saveArtifact } from '../ts-api/checkpoint/index.js';
import { buildCsr } from '../ts-api/data/csr.js';
import { recommenderFromArtifact } from '../ts-api/serve/recommender.js';

export interface LatencyRow {
  artifact: string;
  users: number;
  items: number;
  megabytes: number;
  scoring: string;
  decodeMs: number;
  backendInitMs: number;
  coldStartMs: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadResult {
  requests: number;
  concurrency: number;
  seconds: number;
  requestsPerSecond: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  serverRssMbBefore: number | null;
  serverRssMbAfter: number | null;
}

export interface ServeBench { backend: string; latency: LatencyRow[]; load: LoadResult }

export interface ServeBenchOptions {
  backend: string;
  /** Load-test requests (default 2000). */
  requests?: number;
  concurrency?: number;
  maxSeconds?: number;
  /** Timed top-20 requests per latency row (default 500). */
  samples?: number;
  /** Smaller artifacts and counts (tests). */
  quick?: boolean;
  log?: (message: string) => void;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const D = 64;

/** Random embeddings and seen items; raw ids = dense ids. */
export function randomServingArtifact(nUser: number, nItem: number, seed = 1): ArtifactData {
  const rng = new Random(seed);
  const seen = 10;
  const users = new Int32Array(nUser * seen);
  users.forEach((_, k) => { users[k] = Math.floor(k / seen); });
  return {
    model: 'random', dataset: `random ${nUser}x${nItem}`, createdAt: new Date().toISOString(), epoch: 0,
    nUser, nItem, dim: D, users: rng.normal(nUser * D, 0, 0.1), items: rng.normal(nItem * D, 0, 0.1),
    rawUserIds: Int32Array.from({ length: nUser }, (_, i) => i), rawItemIds: Int32Array.from({ length: nItem }, (_, i) => i),
    trainItems: buildCsr(users, rng.int(users.length, 0, nItem), nUser, nItem), config: { dim: D },
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const round = (x: number) => Math.round(x * 1000) / 1000;

async function latencyRow(name: string, bytes: Uint8Array, scoring: string, samples: number): Promise<LatencyRow> {
  const t0 = performance.now();
  const a = decodeArtifact(bytes);
  const t1 = performance.now();
  const backend = scoring === 'js' ? undefined : await createBackend(scoring);
  const t2 = performance.now();
  const rec = await recommenderFromArtifact(a, { backend });
  const t3 = performance.now();
  const rng = new Random(7);
  const users = rng.int(samples + 20, 0, a.nUser);
  const times: number[] = [];
  for (let i = 0; i < users.length; i++) {
    const s = performance.now();
    await rec.recommend(users[i], { k: 20 });
    if (i >= 20) times.push(performance.now() - s);   // the first 20 warm up
  }
  rec.dispose();
  backend?.destroy();
  times.sort((x, y) => x - y);
  return {
    artifact: name, users: a.nUser, items: a.nItem, megabytes: round(bytes.length / 1e6), scoring,
    decodeMs: round(t1 - t0), backendInitMs: round(t2 - t1), coldStartMs: round(t3 - t0),
    p50Ms: round(percentile(times, 0.5)), p99Ms: round(percentile(times, 0.99)),
  };
}

function rssMb(pid: number | undefined): number | null {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? round(kb / 1024) : null;
  } catch {
    return null;
  }
}

/** `infodcl serve` in a child process, a bounded number of loopback requests, then SIGTERM. */
async function loadTest(artifactPath: string, a: ArtifactData, o: Required<Pick<ServeBenchOptions, 'backend' | 'requests' | 'concurrency' | 'maxSeconds'>>): Promise<LoadResult> {
  const child = spawn(process.execPath, ['bin/infodcl.js', 'serve', '--model', artifactPath, '--port', '0', '--backend', o.backend], {
    // The same code as this process: the TypeScript sources when running from them, else dist/.
    cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...(import.meta.url.endsWith('.ts') ? { INFODCL_FROM_SOURCE: '1' } : {}) },
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), (o.maxSeconds + 60) * 1000);
  const closed = new Promise<void>((done) => child.once('close', () => done()));
  let stderr = '';
  try {
    const url = await new Promise<string>((done, fail) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m) done(m[1]);
      });
      child.once('close', () => fail(new Error(`infodcl serve exited before listening: ${stderr.trim()}`)));
    });
    const before = rssMb(child.pid);
    const rng = new Random(11);
    const users = rng.int(o.requests, 0, a.nUser);
    const times: number[] = [];
    let next = 0;
    let errors = 0;
    const t0 = performance.now();
    const deadline = t0 + o.maxSeconds * 1000;
    const client = async () => {
      while (next < o.requests && performance.now() < deadline) {
        const u = a.rawUserIds[users[next++]];
        const s = performance.now();
        try {
          const r = await fetch(`${url}/recommend?user=${u}&k=20`, { signal: AbortSignal.timeout(10_000) });
          const body = await r.json() as { items?: unknown[] };
          if (r.status !== 200 || body.items?.length !== 20) errors++;
        } catch {
          errors++;
        }
        times.push(performance.now() - s);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, client));
    const seconds = (performance.now() - t0) / 1000;
    const after = rssMb(child.pid);
    times.sort((x, y) => x - y);
    return {
      requests: times.length, concurrency: o.concurrency, seconds: round(seconds), requestsPerSecond: round(times.length / seconds),
      errors, p50Ms: round(percentile(times, 0.5)), p99Ms: round(percentile(times, 0.99)), serverRssMbBefore: before, serverRssMbAfter: after,
    };
  } finally {
    child.kill('SIGTERM');
    await closed;
    clearTimeout(killer);
  }
}

export async function benchServe(opts: ServeBenchOptions): Promise<ServeBench> {
  const log = opts.log ?? (() => {});
  const quick = opts.quick ?? false;
  const samples = opts.samples ?? (quick ? 30 : 500);
  const sizes: [string, number, number][] = quick
    ? [['small', 300, 500]]
    : [['office-size', 4905, 2420], ['50k-items', 10_000, 50_000]];
  const dir = mkdtempSync(join(tmpdir(), 'infodcl-bench-serve-'));
  try {
    const latency: LatencyRow[] = [];
    let office: { path: string; a: ArtifactData } | null = null;
    for (const [name, nUser, nItem] of sizes) {
      const a = randomServingArtifact(nUser, nItem);
      const bytes = encodeArtifact(a);
      if (!office) {
        office = { path: join(dir, `${name}.artifact`), a };
        saveArtifact(office.path, a);
      }
      for (const scoring of ['js', opts.backend]) {
        log(`latency: ${name} (${nUser} users × ${nItem} items), ${scoring} scoring`);
        latency.push(await latencyRow(name, bytes, scoring, samples));
      }
    }
    const load = { backend: opts.backend, requests: opts.requests ?? (quick ? 100 : 2000), concurrency: opts.concurrency ?? 8, maxSeconds: opts.maxSeconds ?? (quick ? 20 : 60) };
    log(`load test: infodcl serve, ${load.requests} requests, ${load.concurrency} clients`);
    return { backend: opts.backend, latency, load: await loadTest(office!.path, office!.a, load) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatServe(r: ServeBench): string {
  const head = `${'artifact'.padEnd(12)} ${'users'.padStart(6)} ${'items'.padStart(6)} ${'MB'.padStart(6)}  ${'scoring'.padEnd(9)} ${'decode'.padStart(8)} ${'init'.padStart(8)} ${'cold'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)}`;
  const ms = (x: number) => `${x.toFixed(2)}`.padStart(8);
  const l = r.load;
  return [
    'top-20 latency (ms)',
    head,
    ...r.latency.map((x) => `${x.artifact.padEnd(12)} ${String(x.users).padStart(6)} ${String(x.items).padStart(6)} ${x.megabytes.toFixed(1).padStart(6)}  ${x.scoring.padEnd(9)} ${ms(x.decodeMs)} ${ms(x.backendInitMs)} ${ms(x.coldStartMs)} ${ms(x.p50Ms)} ${ms(x.p99Ms)}`),
    '',
    `load test (infodcl serve --backend ${r.backend}, loopback): ${l.requests} requests, ${l.concurrency} clients, ${l.seconds} s: `
      + `${l.requestsPerSecond.toFixed(0)} req/s, ${l.errors} errors, p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms, `
      + `server RSS ${l.serverRssMbBefore ?? '?'} MB before, ${l.serverRssMbAfter ?? '?'} MB after`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
  const r = await benchServe({ backend: arg('backend') ?? 'wasm', quick: process.argv.includes('--quick'), log: (m) => console.error(m) });
  console.log(process.argv.includes('--json') ? JSON.stringify(r) : formatServe(r));
}
