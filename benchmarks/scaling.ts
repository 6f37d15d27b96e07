/**
 * `infodcl bench scaling`: InfoDCL training-step time and peak memory as the catalogue grows. Synthetic
 * data (ts-api/data/synthetic.ts: 100k users, ~1M train interactions) with 10k, 50k and 200k items; the
 * real model and train step; one child process per catalogue size (scaling-worker.ts), so each size's
 * peak memory is its own. Expected: InfoNCE time linear in the items, the rest flat, and memory growing
 * with items × d (tables, gradients, Adam moments), never with batch × items.
 *
 *   node --import tsx benchmarks/scaling.ts --quick       (same flags as `infodcl bench scaling`)
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { runChild } from './child.js';
import type { ScalingCaseOptions, ScalingRow } from './scaling-worker.js';

export const SCALING_ITEMS = [10_000, 50_000, 200_000];

export interface ScalingOptions {
  backend: string;
  threads: number;
  /** Catalogue sizes (default SCALING_ITEMS; quick: 500, 1000, 2000). */
  items?: number[];
  /** Rows per step (default 2000, InfoDCL's office.sh batch; quick: 256). */
  batch?: number;
  /** Timed steps per size (default 20; quick: 2) after `warmup` untimed ones. */
  steps?: number;
  warmup: number;
  quick?: boolean;
  log?: (message: string) => void;
}

export interface ScalingResult {
  suite: 'scaling';
  date: string;
  /** loadAverage: the 1-minute load average at the start and at the end of the run (other work on the machine). */
  machine: { cpus: number; cpu: string; node: string; platform: string; loadAverage: [number, number] };
  options: { quick: boolean; backend: string; threads: number; users: number; meanInteractions: number; batch: number; steps: number; warmup: number };
  rows: ScalingRow[];
  /**
   * Least-squares lines over the catalogue size (null with fewer than two sizes): step ms per 1000 items and
   * at 0 items, the same for InfoNCE and the rest, and MB of peak RSS / wasm memory per 1000 items beside
   * what one dense [batch × items] f32 logits matrix would add per 1000 items.
   */
  fit: {
    stepMsPer1kItems: number; stepMsAt0: number; infoNceMsPer1kItems: number; otherMsPer1kItems: number; otherMsAt0: number;
    peakRssMBPer1kItems: number; wasmMBPer1kItems: number | null; denseLogitsMBPer1kItems: number;
  } | null;
}

export async function benchScaling(o: ScalingOptions): Promise<ScalingResult> {
  const log = o.log ?? (() => {});
  const quick = o.quick ?? false;
  const items = o.items?.length ? o.items : quick ? [500, 1000, 2000] : SCALING_ITEMS;
  const base = quick
    ? { nUser: 2000, meanInteractions: 12.5, batch: o.batch ?? 256, steps: o.steps ?? 2, warmup: Math.min(o.warmup, 1) }
    : { nUser: 100_000, meanInteractions: 12.5, batch: o.batch ?? 2000, steps: o.steps ?? 20, warmup: o.warmup };
  const load0 = loadavg()[0];
  const rows: ScalingRow[] = [];
  for (const nItem of items) {
    log(`bench scaling: ${nItem} items (child process)`);
    const options: ScalingCaseOptions = { backend: o.backend, threads: o.threads, nItem, seed: 2024, ...base };
    rows.push(await runChild<ScalingRow>(import.meta.url, 'scaling-worker', options, ['--expose-gc']));
  }
  return {
    suite: 'scaling',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}`,
      loadAverage: [r4(load0), r4(loadavg()[0])],
    },
    options: { quick, backend: o.backend, threads: o.threads, users: base.nUser, meanInteractions: base.meanInteractions, batch: base.batch, steps: base.steps, warmup: base.warmup },
    rows,
    fit: fitLines(rows),
  };
}

function fitLines(rows: ScalingRow[]): ScalingResult['fit'] {
  if (new Set(rows.map((r) => r.items)).size < 2) return null;
  const line = (ys: number[]) => {
    const xs = rows.map((r) => r.items / 1000);
    const mx = xs.reduce((a, b) => a + b) / xs.length;
    const my = ys.reduce((a, b) => a + b) / ys.length;
    const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
    return { slope: r4(slope), at0: r4(my - slope * mx) };
  };
  const step = line(rows.map((r) => r.stepMs));
  const other = line(rows.map((r) => r.otherMs));
  return {
    stepMsPer1kItems: step.slope, stepMsAt0: step.at0,
    infoNceMsPer1kItems: line(rows.map((r) => r.infoNceMs)).slope, otherMsPer1kItems: other.slope, otherMsAt0: other.at0,
    peakRssMBPer1kItems: line(rows.map((r) => r.peakRssMB)).slope,
    wasmMBPer1kItems: rows.every((r) => r.wasmMemoryMB !== null) ? line(rows.map((r) => r.wasmMemoryMB!)).slope : null,
    denseLogitsMBPer1kItems: r4(rows[0].batch * 4 * 1000 / (1 << 20)),
  };
}

const r4 = (x: number) => Number(x.toPrecision(4));

export function formatScaling(r: ScalingResult): string {
  const header = ['items', 'step ms', 'InfoNCE ms', 'other ms', 'epoch s', 'peak RSS MB', 'wasm MB', 'dense logits MB'];
  const cells = r.rows.map((x) => [
    String(x.items), x.stepMs.toFixed(1), x.infoNceMs.toFixed(1), x.otherMs.toFixed(1), x.epochSeconds.toFixed(1),
    x.peakRssMB.toFixed(0), x.wasmMemoryMB === null ? '-' : x.wasmMemoryMB.toFixed(0), x.denseLogitsMB.toFixed(0),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((v, c) => v.padStart(widths[c])).join('  ');
  const first = r.rows[0];
  return [
    line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), '',
    first ? `${first.users} users, ~${first.trainInteractions} train interactions, batch ${first.batch}: epoch = ${first.batchesPerEpoch} steps; `
      + `median of ${first.steps} steps after ${r.options.warmup} warm-up; ${r.options.backend}, ${r.options.threads} thread(s)` : '',
    r.fit ? `fit: step ms ≈ ${r.fit.stepMsAt0} + ${r.fit.stepMsPer1kItems} per 1k items (InfoNCE ${r.fit.infoNceMsPer1kItems}, other ${r.fit.otherMsPer1kItems} per 1k items)` : '',
    r.fit ? `memory per 1k items: peak RSS ${r.fit.peakRssMBPer1kItems} MB, wasm ${r.fit.wasmMBPer1kItems ?? '-'} MB; one dense logits matrix would add ${r.fit.denseLogitsMBPer1kItems} MB` : '',
    `load average ${r.machine.loadAverage.join(' → ')}; peak RSS: ${first?.peakRssScope === 'training' ? 'high-water while training (reset after setup)' : 'process high-water'}`,
  ].filter(Boolean).join('\n');
}

// Run directly: the CLI parses the flags (not awaited at top level, so this module finishes loading first).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void import('../ts-api/cli/main.js').then(async ({ main }) => {
    process.exitCode = await main(['bench', 'scaling', ...process.argv.slice(2)]);
  });
}
