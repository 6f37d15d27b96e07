/** `infodcl bench ops|serve`: engine ops (benchmarks/ops.ts) or serving latency and load (benchmarks/serve.ts). */
import { benchOps, formatTable, type BenchRow } from '../../../benchmarks/ops.js';
import { benchServe, formatServe, type ServeBench } from '../../../benchmarks/serve.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';

const SUITES = ['ops', 'serve'];

export default defineCommand({
  summary: 'benchmark engine ops or serving (infodcl bench ops|serve)',
  usage: 'ops|serve',
  description: 'Times matmul (NN, NT, TN), sparse×dense on the Office adjacency, top-k and an Adam step on the\n'
    + 'chosen backend: warm-up runs excluded, median over --repeat runs, progress on stderr.\n'
    + 'serve: artifact cold start and top-20 p50/p99 (Office-sized and 50k items), and a load test of infodcl serve.',
  flags: {
    repeat: { type: 'int', default: 10, min: 1, description: 'timed runs per op (the median is reported)' },
    warmup: { type: 'int', default: 3, min: 0, description: 'untimed runs per op before timing' },
    trainFile: { type: 'string', placeholder: 'path', description: 'interaction pairs for the sparse adjacency (default ../shared/datasets/office/train.txt)' },
    requests: { type: 'int', default: 2000, min: 1, description: 'serve: load-test requests' },
    quick: { type: 'boolean', hidden: true, description: 'shrink dense shapes 8× (tests)' },
  },
  async run(ctx): Promise<BenchRow[] | ServeBench> {
    const [suite, ...extra] = ctx.args;
    if (suite === undefined) throw new UsageError(`bench: name a suite: ${SUITES.join(', ')} (infodcl bench ops)`);
    if (!SUITES.includes(suite)) throw new UsageError(`bench: unknown suite "${suite}" (available: ${SUITES.join(', ')})`);
    if (extra.length) throw new UsageError(`bench: unexpected argument "${extra[0]}"`);
    const backend = await ctx.useBackend();
    const { repeat, warmup, quick, trainFile } = ctx.flags;
    if (suite === 'serve') return benchServe({ backend: backend.name, requests: ctx.flags.requests, quick, log: ctx.log });
    return benchOps({ repeat, warmup, quick, trainFile, log: ctx.log });
  },
  render: (r) => (Array.isArray(r) ? formatTable(r) : formatServe(r)),
});
