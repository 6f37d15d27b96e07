/**
 * Shared by the runtime tests: an edge bundle (esbuild), a free loopback port, a child server process
 * with a hard time limit, and the bounded request script every runtime must answer identically.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { build } from 'esbuild';
import type { Recommender } from '../../ts-api/serve/recommender.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** Bundles `entry` into one ESM file for workers: *.wasm and *.artifact stay imports (workerd modules). */
export async function bundleWorker(entry: string, outfile: string): Promise<string> {
  const r = await build({
    entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'neutral', target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'], mainFields: ['module', 'main'],
    external: ['*.wasm', '*.artifact', 'node:*'], logLevel: 'silent', metafile: true,
  });
  return Object.keys(r.metafile!.inputs).join('\n');
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** A child process that is killed after `limitMs` whatever happens; `output` collects stdout and stderr. */
export function startChild(cmd: string, args: string[], limitMs: number): { child: ChildProcess; output: () => string; stop(): Promise<void> } {
  const child = spawn(cmd, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<void>((done) => child.once('exit', () => { clearTimeout(timer); done(); }));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');   // the servers shut down gracefully on SIGTERM
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Polls GET /health until it answers (or `ms` pass). */
export async function waitHealthy(url: string, ms: number, output: () => string): Promise<unknown> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return await r.json();
    } catch { /* not up yet */ }
    if (Date.now() > end) throw new Error(`no answer from ${url}/health within ${ms} ms; output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A fixed set of requests (each with a timeout); answers must match the in-process recommender. */
export async function checkServer(url: string, rec: Recommender): Promise<void> {
  const get = async (path: string, init?: RequestInit) => {
    const r = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: await r.json() };
  };
  const a = rec.artifact;
  const h = await get('/health');
  assert.equal(h.body, { status: 'ok', users: a.nUser, items: a.nItem, version: 1 });
  for (const u of [a.rawUserIds[0], a.rawUserIds[a.nUser - 1]]) {
    const r = await get(`/recommend?user=${u}&k=7`);
    assert.is(r.status, 200, JSON.stringify(r.body));
    const want = await rec.recommend(u, { k: 7 });
    assert.equal(r.body.items.map((x: { item: number }) => x.item), want.map((x) => x.item));
    r.body.items.forEach((x: { score: number }, j: number) => assert.ok(Math.abs(x.score - want[j].score) < 1e-5));
  }
  const p = await get('/recommend', { method: 'POST', body: JSON.stringify({ user: a.rawUserIds[1], k: 3, includeSeen: true }) });
  assert.equal(p.body.items.map((x: { item: number }) => x.item), (await rec.recommend(a.rawUserIds[1], { k: 3, includeSeen: true })).map((x) => x.item));
  const errors: [string, RequestInit | undefined, number][] = [
    ['/recommend?user=999999', undefined, 404],
    ['/recommend?user=10&k=0', undefined, 400],
    ['/recommend', { method: 'POST', body: '{"user":' }, 400],
    ['/elsewhere', undefined, 404],
  ];
  for (const [path, init, status] of errors) {
    const r = await get(path, init);
    assert.is(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
    assert.type(r.body.error, 'string');
  }
}
