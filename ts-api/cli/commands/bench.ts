/**
 * `infodcl bench ops|serve|compare|scaling`: engine ops (benchmarks/ops.ts), serving latency and load
 * (benchmarks/serve.ts), this engine against TensorFlow.js (benchmarks/compare/), and training time and
 * memory against the catalogue size (benchmarks/scaling.ts).
 */
import { resolve } from 'node:path';
import { benchCompare, formatCompare, type CompareResult } from '../../../benchmarks/compare/index.js';
import { benchOps, formatTable, type BenchRow } from '../../../benchmarks/ops.js';
import { benchScaling, formatScaling, type ScalingResult } from '../../../benchmarks/scaling.js';
import { benchServe, formatServe, type ServeBench } from '../../../benchmarks/serve.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { defaultThreadCount } from '../../../backends/wasm/threads.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';

const SUITES = ['ops', 'serve', 'compare', 'scaling'];

type Result = BenchRow[] | ServeBench | CompareResult | ScalingResult;

export default defineCommand({
  summary: 'benchmark engine ops, serving, TensorFlow.js comparison or scaling (infodcl bench ops|serve|compare|scaling)',
  usage: 'ops|serve|compare|scaling',
  description: 'ops: times matmul (NN, NT, TN), sparse×dense on the Office adjacency, top-k and an Adam step on the\n'
    + 'chosen backend: warm-up runs excluded, median over --repeat runs, progress on stderr.\n'
    + 'serve: artifact cold start and top-20 p50/p99 (Office-sized and 50k items), and a load test of infodcl serve.\n'
    + 'compare: the same ops, an InfoDCL-shaped training step and Office full ranking on this engine (wasm unless\n'
    + '--backend says otherwise) and on TensorFlow.js WASM and CPU (devDependencies), one process per engine;\n'
    + 'medians and the ratios tfjs / ours.\n'
    + 'scaling: InfoDCL step time (extrapolated to an epoch) and peak memory on synthetic data with 100k users,\n'
    + '~1M train interactions and 10k / 50k / 200k items (--items), one process per catalogue size.',
  flags: {
    repeat: { type: 'int', default: 10, min: 1, description: 'timed runs per op (the median is reported)' },
    warmup: { type: 'int', default: 3, min: 0, description: 'untimed runs per op (scaling: steps) before timing' },
    trainFile: { type: 'string', placeholder: 'path', description: 'interaction pairs for the sparse adjacency (default ../shared/datasets/office/train.txt)' },
    requests: { type: 'int', default: 2000, min: 1, description: 'serve: load-test requests' },
    items: { type: 'list', placeholder: 'n,n,…', description: 'scaling: catalogue sizes (default 10000,50000,200000)' },
    steps: { type: 'int', default: 20, min: 1, description: 'scaling: timed training steps per catalogue size' },
    batch: { type: 'int', min: 1, description: 'scaling: rows per training step (default 2000; quick 256)' },
    out: { type: 'string', placeholder: 'file', description: 'also write the JSON result to this file' },
    quick: { type: 'boolean', hidden: true, description: 'shrink every size (tests)' },
  },
  async run(ctx): Promise<Result> {
    const [suite, ...extra] = ctx.args;
    if (suite === undefined) throw new UsageError(`bench: name a suite: ${SUITES.join(', ')} (infodcl bench ops)`);
    if (!SUITES.includes(suite)) throw new UsageError(`bench: unknown suite "${suite}" (available: ${SUITES.join(', ')})`);
    if (extra.length) throw new UsageError(`bench: unexpected argument "${extra[0]}"`);
    const { repeat, warmup, quick, trainFile, out } = ctx.flags;
    const threads = ctx.flags.threads ?? await defaultThreadCount();
    const items = ctx.flags.items.map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 10) throw new UsageError(`--items takes whole numbers of at least 10, got "${s}"`);
      return n;
    });
    let result: Result;
    if (suite === 'compare' || suite === 'scaling') {
      // Each engine / size runs in a child process that creates its own backend; `auto` means wasm here.
      const backend = ctx.flags.backend === 'auto' ? 'wasm' : ctx.flags.backend;
      result = suite === 'compare'
        ? await benchCompare({ backend, threads, repeat, warmup, quick, trainFile, log: ctx.log })
        : await benchScaling({ backend, threads, items, batch: ctx.flags.batch, steps: quick ? Math.min(ctx.flags.steps, 2) : ctx.flags.steps, warmup, quick, log: ctx.log });
    } else {
      const backend = await ctx.useBackend();
      result = suite === 'serve'
        ? await benchServe({ backend: backend.name, requests: ctx.flags.requests, quick, log: ctx.log })
        : await benchOps({ repeat, warmup, quick, trainFile, log: ctx.log });
    }
    if (out) {
      writeFileAtomic(resolve(out), `${JSON.stringify(result, null, 2)}\n`);
      ctx.log(`bench ${suite}: wrote ${resolve(out)}`);
    }
    return result;
  },
  render: (r) => (Array.isArray(r) ? formatTable(r)
    : 'suite' in r ? (r.suite === 'compare' ? formatCompare(r) : formatScaling(r))
      : formatServe(r)),
});
