/** One engine of `bench compare`, in its own process (benchmarks/child.ts): runs every item, sends the rows. */
import { childMain } from '../child.js';
import { loadOffice } from './data.js';
import { itemSpecs, sizes, type Engine, type EngineId, type EngineInfo } from './items.js';
import { oursEngine } from './ours.js';
import { tfjsEngine } from './tfjs.js';
import { measure } from './timing.js';

export interface WorkerOptions {
  engine: EngineId;
  /** This project's backend for `ours` (wasm unless --backend says otherwise). */
  backend: string;
  threads: number;
  quick: boolean;
  repeat: number;
  warmup: number;
  budgetMs: number;
  trainFile?: string;
}

export interface WorkerRow { id: string; medianMs: number | null; runs: number; na?: string; note?: string; check?: number | null }
export interface WorkerResult { engine: EngineId; info: EngineInfo; rows: WorkerRow[] }

childMain<WorkerOptions, WorkerResult>(async (o) => {
  const log = (m: string) => process.stderr.write(`bench compare [${o.engine}]: ${m}\n`);
  const data = loadOffice(o.trainFile);
  const z = sizes(o.quick, data);
  const engine: Engine = o.engine === 'ours' ? await oursEngine(o.backend, o.threads) : await tfjsEngine(o.engine === 'tfjs-wasm' ? 'wasm' : 'cpu', o.threads);
  const rows: WorkerRow[] = [];
  for (const item of itemSpecs(z, data)) {
    const p = await engine.prepare(item, z, data);
    if (typeof p === 'string') {
      rows.push({ id: item.id, medianMs: null, runs: 0, na: p });
      continue;
    }
    try {
      const t = await measure(p.run, { warmup: o.warmup, minWarmupMs: o.budgetMs / 20, repeat: o.repeat, budgetMs: o.budgetMs, minRuns: o.quick ? 1 : 3 });
      rows.push({ id: item.id, medianMs: t.medianMs, runs: t.runs, ...(p.check ? { check: p.check() } : {}), ...(p.note ? { note: p.note } : {}) });
      log(`${item.name} [${item.shape.join('×')}] ${t.medianMs.toFixed(2)} ms (median of ${t.runs})`);
    } finally {
      p.dispose();
    }
  }
  return { engine: o.engine, info: engine.info, rows };
});
