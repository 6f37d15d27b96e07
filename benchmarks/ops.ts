/**
 * Op benchmark: times the engine ops the InfoDCL model spends its time in, on the active backend.
 *
 * Each op runs `warmup` untimed times, then `repeat` timed times; a run ends when the first element of
 * its output has been read back to the host, so asynchronous backends are timed to completion. The
 * median is reported. Row shapes: matmul and spmm [m, k, n] (m×k times k×n), topk [rows, n], adam [params].
 *
 * Run through the CLI (`npx infodcl bench ops --backend wasm`) or directly:
 *   node --import tsx benchmarks/ops.ts --backend reference --quick
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Adam, CsrMatrix, getBackend, matmul, slice, spmm, tensor, topk, type Tensor } from '../engine/index.js';

export type Variant = 'NN' | 'NT' | 'TN';

export interface BenchRow {
  op: string;
  variant: Variant | null;
  shape: number[];
  backend: string;
  threads: number;
  medianMs: number;
  /** Useful floating-point work per second (null for ops where flops mean nothing: topk, adam). */
  gflops: number | null;
}

export interface OpsBenchOptions {
  repeat: number;
  warmup: number;
  /** Shrinks every dense shape 8× (tests, slow backends). */
  quick?: boolean;
  /** Interaction pairs for the sparse adjacency; default: Office's train.txt in ../shared/datasets. */
  trainFile?: string;
  log?: (message: string) => void;
}

interface Case {
  op: string;
  variant: Variant | null;
  shape: number[];
  flops: number | null;
  /** Allocates the inputs; `run` launches the op once and returns its fresh outputs. */
  prepare(): { run(): Tensor[]; dispose(): void };
}

export const OFFICE = { users: 4905, items: 2420, nnz: 81_754 };

export async function benchOps(options: OpsBenchOptions): Promise<BenchRow[]> {
  const { repeat, warmup, quick = false, log = () => {} } = options;
  const active = getBackend(), backend = active.name;
  const threads = 'build' in active ? (active as { build: { threads: number } }).build.threads : 1;
  const s = (n: number) => (quick ? Math.ceil(n / 8) : n);
  const adjacency = officeAdjacency(options.trainFile, log);
  const cases: Case[] = [
    ...(['NN', 'NT', 'TN'] as const).map((v) => matmulCase(s(1024), s(1024), s(1024), v)),
    matmulCase(s(2000), 64, s(2420), 'NT'),
    matmulCase(s(2000), 192, 64, 'NN'),
    spmmCase(adjacency, s(64)),
    topkCase(s(2000), s(2420), 100),
    adamCase(s(500_000)),
  ];
  const rows: BenchRow[] = [];
  for (const c of cases) {
    const label = `${c.op}${c.variant ? ` ${c.variant}` : ''} [${c.shape.join('×')}]`;
    const { run, dispose } = c.prepare();
    const ms = await medianTime(run, warmup, repeat).finally(dispose);
    log(`bench ops: ${label} ${ms.toFixed(3)} ms`);
    rows.push({
      op: c.op, variant: c.variant, shape: c.shape, backend, threads,
      medianMs: round(ms, 4),
      gflops: c.flops === null ? null : round(c.flops / (ms * 1e6), 3),
    });
  }
  return rows;
}

async function medianTime(run: () => Tensor[], warmup: number, repeat: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < warmup + repeat; i++) {
    const start = performance.now();
    const outputs = run();
    await readFirst(outputs[0]);
    const ms = performance.now() - start;
    for (const t of outputs) t.dispose();
    if (i >= warmup) times.push(ms);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

/** Reads one element back: waits for the op to finish without timing a large copy. */
async function readFirst(t: Tensor): Promise<number> {
  const flat = t.view([t.size]);
  const first = slice(flat, [0], [1]);
  const value = (await first.data())[0];
  first.dispose();
  flat.dispose();
  return value;
}

function matmulCase(m: number, k: number, n: number, variant: Variant): Case {
  return {
    op: 'matmul', variant, shape: [m, k, n], flops: 2 * m * k * n,
    prepare() {
      const a = randomTensor(variant === 'TN' ? [k, m] : [m, k], 1);
      const b = randomTensor(variant === 'NT' ? [n, k] : [k, n], 2);
      const opts = { transA: variant === 'TN', transB: variant === 'NT' };
      return { run: () => [matmul(a, b, opts)], dispose: () => { a.dispose(); b.dispose(); } };
    },
  };
}

function spmmCase(adj: Adjacency, d: number): Case {
  return {
    op: `spmm (${adj.source})`, variant: null, shape: [adj.n, adj.n, d], flops: 2 * adj.values.length * d,
    prepare() {
      const a = CsrMatrix.fromHost(adj.n, adj.n, adj.indptr, adj.indices, adj.values, true);
      const x = randomTensor([adj.n, d], 3);
      return { run: () => [spmm(a, x)], dispose: () => { a.dispose(); x.dispose(); } };
    },
  };
}

function topkCase(rows: number, n: number, k: number): Case {
  return {
    op: `top-${k}`, variant: null, shape: [rows, n], flops: null,
    prepare() {
      const scores = randomTensor([rows, n], 4);
      return {
        run: () => { const r = topk(scores, k); return [r.values, r.indices]; },
        dispose: () => scores.dispose(),
      };
    },
  };
}

function adamCase(params: number): Case {
  return {
    op: 'adam step', variant: null, shape: [params], flops: null,
    prepare() {
      const param = randomTensor([params], 5);
      const grad = randomTensor([params], 6);
      const adam = new Adam([param], { lr: 1e-3 });
      return {
        // Adam updates in place; the view (shared storage, freed with the param) is what gets read back.
        run: () => { adam.step([grad]); return [param.view([params])]; },
        dispose: () => { adam.dispose(); param.dispose(); grad.dispose(); },
      };
    },
  };
}

// ---- inputs -------------------------------------------------------------------------------------

/** Deterministic uniform values in [-1, 1) (mulberry32; fast enough for millions of elements). */
export function randomFloats(n: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() * 2 - 1;
  return out;
}

function randomTensor(shape: number[], seed: number): Tensor {
  return tensor(randomFloats(shape.reduce((a, b) => a * b, 1), seed), shape);
}

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export interface Adjacency { source: 'office' | 'synthetic'; n: number; indptr: Int32Array; indices: Int32Array; values: Float32Array }

/** Office's train.txt: `trainFile`, else next to the checkout (relative to the working directory, to
 * benchmarks/ and to dist/benchmarks/); `file` is undefined when none exists. */
export function officeTrainFile(trainFile?: string): { file: string | undefined; candidates: string[] } {
  const candidates = trainFile ? [resolve(trainFile)] : [...new Set([
    resolve('../shared/datasets/office/train.txt'),
    ...['../../shared', '../../../shared'].map((up) => fileURLToPath(new URL(`${up}/datasets/office/train.txt`, import.meta.url))),
  ])];
  return { file: candidates.find((f) => existsSync(f)), candidates };
}

/** Office's Â = D^-1/2 [[0, R], [Rᵀ, 0]] D^-1/2, or a random bipartite graph of the same size if absent. */
export function officeAdjacency(trainFile: string | undefined, log: (message: string) => void): Adjacency {
  const { file, candidates } = officeTrainFile(trainFile);
  if (file) {
    const pairs = readFileSync(file, 'utf8').split('\n').flatMap((line) => {
      const [user, ...items] = line.trim().split(/\s+/).filter(Boolean).map(Number);
      return items.map((item) => [user, item] as const);
    });
    const users = 1 + pairs.reduce((max, [u]) => Math.max(max, u), -1);
    const items = 1 + pairs.reduce((max, [, i]) => Math.max(max, i), -1);
    return { source: 'office', ...normalizedBipartite(users, items, pairs.map(([u, i]) => u * items + i)) };
  }
  log(`bench ops: no ${candidates.join(' or ')}; spmm uses a synthetic random bipartite graph `
    + `(${OFFICE.users} users, ${OFFICE.items} items, ${OFFICE.nnz} non-zeros)`);
  const next = rng(7);
  const edges = new Set<number>();
  while (edges.size < OFFICE.nnz / 2) edges.add(Math.floor(next() * OFFICE.users * OFFICE.items));
  return { source: 'synthetic', ...normalizedBipartite(OFFICE.users, OFFICE.items, [...edges]) };
}

/** CSR of the normalised adjacency from edges keyed user·items + item (duplicates count once). */
export function normalizedBipartite(users: number, items: number, keys: number[]): Omit<Adjacency, 'source'> {
  const edges = Float64Array.from(new Set(keys)).sort();
  const n = users + items;
  const degree = new Int32Array(n);
  for (const key of edges) { degree[Math.floor(key / items)]++; degree[users + (key % items)]++; }
  const indptr = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) indptr[r + 1] = indptr[r] + degree[r];
  const fill = indptr.slice(0, n);
  const indices = new Int32Array(indptr[n]);
  const values = new Float32Array(indptr[n]);
  const put = (row: number, col: number) => {
    indices[fill[row]] = col;
    values[fill[row]++] = 1 / Math.sqrt(degree[row] * degree[col]);
  };
  // Edges sorted by (user, item) leave every row's columns in increasing order.
  for (const key of edges) {
    const u = Math.floor(key / items);
    const i = users + (key % items);
    put(u, i);
    put(i, u);
  }
  return { n, indptr, indices, values };
}

// ---- output -------------------------------------------------------------------------------------

const round = (x: number, digits: number) => Number(x.toPrecision(digits));

export function formatTable(rows: BenchRow[]): string {
  const header = ['op', 'variant', 'shape', 'backend', 'threads', 'median ms', 'GFLOP/s'];
  const cells = rows.map((r) => [
    r.op, r.variant ?? '-', r.shape.join('×'), r.backend, String(r.threads),
    r.medianMs.toFixed(3), r.gflops === null ? '-' : r.gflops.toFixed(2),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const numeric = (c: number) => c >= 4;
  const line = (row: string[]) => row.map((v, c) => (numeric(c) ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

// Run directly: the CLI parses the flags (not awaited at top level, so this module finishes loading first).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void import('../ts-api/cli/main.js').then(async ({ main }) => {
    process.exitCode = await main(['bench', 'ops', ...process.argv.slice(2)]);
  });
}
