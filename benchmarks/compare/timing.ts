/** Warm-up, then the median of timed runs, within a time budget so that slow engines still finish. */

export interface TimingOptions {
  /** Untimed runs first; warm-up also goes on until `minWarmupMs` has passed (JIT-compiled host code). */
  warmup: number;
  minWarmupMs: number;
  repeat: number;
  /** Stop timing after this many ms once `minRuns` runs are in (warm-up stops early at a quarter of it). */
  budgetMs: number;
  minRuns: number;
}

export interface Timing { medianMs: number; runs: number }

/** `run` resolves when its result is on the host; a cleanup it returns runs outside the timed window. */
export async function measure(run: () => Promise<(() => void) | void>, o: TimingOptions): Promise<Timing> {
  const once = async () => {
    const start = performance.now();
    const cleanup = await run();
    const ms = performance.now() - start;
    cleanup?.();
    return ms;
  };
  const t0 = performance.now();
  for (let i = 0; i < o.warmup || (o.warmup > 0 && performance.now() - t0 < o.minWarmupMs); i++) {
    await once();
    if (performance.now() - t0 > o.budgetMs / 4) break;
  }
  const times: number[] = [];
  const t1 = performance.now();
  while (times.length < Math.max(1, o.repeat) && (times.length < o.minRuns || performance.now() - t1 < o.budgetMs)) {
    times.push(await once());
  }
  return { medianMs: median(times), runs: times.length };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
