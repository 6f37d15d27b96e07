/**
 * `infodcl bench compare`: the same work on this project's engine and on TensorFlow.js (WASM and CPU
 * backends), one child process per engine, run one after the other. Items: items.ts; engines: ours.ts,
 * tfjs.ts; the child: worker.ts. Ratios are tfjs median / our median (above 1: ours is faster).
 */
import { cpus, loadavg } from 'node:os';
import { runChild } from '../child.js';
import { loadOffice } from './data.js';
import { ENGINES, itemSpecs, sizes, type EngineId, type EngineInfo, type Group } from './items.js';
import { missingTfjs, TFJS_PACKAGES } from './tfjs.js';
import type { WorkerOptions, WorkerResult } from './worker.js';

export interface CompareOptions {
  backend: string;
  threads: number;
  repeat: number;
  warmup: number;
  quick?: boolean;
  trainFile?: string;
  log?: (message: string) => void;
}

type PerEngine<T> = Partial<Record<EngineId, T>>;

export interface CompareItem {
  id: string;
  group: Group;
  name: string;
  shape: number[];
  gflop: number | null;
  /** Median ms per engine; null where the engine cannot run the item (see `na`). */
  medianMs: Record<EngineId, number | null>;
  runs: Record<EngineId, number>;
  /** tfjs median / our median. */
  ratio: { 'tfjs-wasm': number | null; 'tfjs-cpu': number | null };
  na?: PerEngine<string>;
  /** Where an engine's code departs from the plain version (a missing kernel worked around). */
  notes?: PerEngine<string>;
  /** The first step's loss (train-step) or Σ of each user's top item (eval-rank): equal work gives equal numbers. */
  check?: PerEngine<number | null>;
}

export interface CompareResult {
  suite: 'compare';
  date: string;
  /** loadAverage: the 1-minute load average at the start and at the end of the run (other work on the machine). */
  machine: { cpus: number; cpu: string; node: string; platform: string; loadAverage: [number, number] };
  options: { quick: boolean; repeat: number; warmup: number; minWarmupMs: number; threads: number; budgetMs: number; data: 'office' | 'synthetic' };
  engines: Record<EngineId, EngineInfo>;
  items: CompareItem[];
}

export async function benchCompare(o: CompareOptions): Promise<CompareResult> {
  const log = o.log ?? (() => {});
  const missing = missingTfjs();
  if (missing.length) {
    throw new Error(`bench compare needs TensorFlow.js, which is not installed (${missing.join(', ')}): run npm install (devDependencies) or npm install -D ${TFJS_PACKAGES.join(' ')}`);
  }
  const quick = o.quick ?? false;
  const load0 = loadavg()[0];
  const data = loadOffice(o.trainFile);
  if (data.source === 'synthetic') log(`bench compare: no Office train.txt found; using a random bipartite graph of Office's size`);
  const budgetMs = quick ? 2000 : 20_000;
  const results = {} as Record<EngineId, WorkerResult>;
  for (const engine of ENGINES) {
    log(`bench compare: ${engine} (child process)`);
    const options: WorkerOptions = {
      engine, backend: o.backend, threads: o.threads, quick, repeat: o.repeat, warmup: o.warmup, budgetMs, trainFile: o.trainFile,
    };
    results[engine] = await runChild<WorkerResult>(import.meta.url, 'worker', options);
  }
  const items = itemSpecs(sizes(quick, data), data).map((spec): CompareItem => {
    const row = (e: EngineId) => results[e].rows.find((r) => r.id === spec.id);
    const medianMs = Object.fromEntries(ENGINES.map((e) => [e, round(row(e)?.medianMs ?? null)])) as Record<EngineId, number | null>;
    const runs = Object.fromEntries(ENGINES.map((e) => [e, row(e)?.runs ?? 0])) as Record<EngineId, number>;
    const ratio = (e: EngineId) => (medianMs[e] !== null && medianMs.ours ? round(medianMs[e]! / medianMs.ours) : null);
    const na = Object.fromEntries(ENGINES.flatMap((e) => (row(e)?.na ? [[e, row(e)!.na!]] : [])));
    const notes = Object.fromEntries(ENGINES.flatMap((e) => (row(e)?.note ? [[e, row(e)!.note!]] : [])));
    const check = Object.fromEntries(ENGINES.flatMap((e) => (row(e)?.check !== undefined ? [[e, row(e)!.check!]] : [])));
    return {
      ...spec, gflop: round(spec.gflop), medianMs, runs,
      ratio: { 'tfjs-wasm': ratio('tfjs-wasm'), 'tfjs-cpu': ratio('tfjs-cpu') },
      ...(Object.keys(na).length ? { na } : {}),
      ...(Object.keys(notes).length ? { notes } : {}),
      ...(Object.keys(check).length ? { check } : {}),
    };
  }).map(({ oursOnly: _, ...item }: CompareItem & { oursOnly?: string }) => item);
  return {
    suite: 'compare',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}`,
      loadAverage: [round(load0, 3)!, round(loadavg()[0], 3)!],
    },
    options: { quick, repeat: o.repeat, warmup: o.warmup, minWarmupMs: budgetMs / 20, threads: o.threads, budgetMs, data: data.source },
    engines: Object.fromEntries(ENGINES.map((e) => [e, results[e].info])) as Record<EngineId, EngineInfo>,
    items,
  };
}

const round = (x: number | null, digits = 4) => (x === null ? null : Number(x.toPrecision(digits)));

export function formatCompare(r: CompareResult): string {
  const ms = (v: number | null) => (v === null ? 'n/a' : v.toFixed(v < 10 ? 2 : 1));
  const x = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)}×`);
  const header = ['item', 'shape', 'GFLOP', 'ours ms', 'tfjs-wasm ms', 'tfjs-cpu ms', 'tfjs-wasm/ours', 'tfjs-cpu/ours'];
  const cells = r.items.map((i) => [
    i.name, i.shape.join('×'), i.gflop === null ? '-' : i.gflop.toFixed(3),
    ms(i.medianMs.ours), ms(i.medianMs['tfjs-wasm']), ms(i.medianMs['tfjs-cpu']), x(i.ratio['tfjs-wasm']), x(i.ratio['tfjs-cpu']),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((v, c) => (c >= 2 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd();
  const notes = new Set(r.items.flatMap((i) => [...Object.values(i.na ?? {}), ...Object.values(i.notes ?? {})]));
  const checks = r.items.filter((i) => i.check).map((i) => `${i.id} check: ${Object.entries(i.check!).map(([e, v]) => `${e} ${v}`).join(', ')}`);
  return [
    line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), '',
    ...Object.entries(r.engines).map(([id, e]) => `${id}: ${e.name} ${e.version}, ${e.backend} backend, ${e.threads} thread(s)${e.simd ? ', SIMD' : ''}${e.note ? ` (${e.note})` : ''}`),
    ...[...notes].map((n) => `${n}`),
    ...checks,
    `${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}, load average ${r.machine.loadAverage.join(' → ')}; median of up to ${r.options.repeat} runs after ${r.options.warmup ? `${r.options.warmup} warm-up runs and at least ${r.options.minWarmupMs / 1000} s of warm-up` : 'no warm-up'} (${r.options.budgetMs / 1000} s budget per item and engine)`,
  ].join('\n');
}
