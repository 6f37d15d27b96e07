/** `infodcl bench ops`: times the engine's hot ops on a backend (logic in benchmarks/ops.ts). */
import { benchOps, formatTable, type BenchRow } from '../../../benchmarks/ops.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';

const SUITES = ['ops'];

export default defineCommand({
  summary: 'benchmark engine ops (infodcl bench ops)',
  usage: 'ops',
  description: 'Times matmul (NN, NT, TN), sparse×dense on the Office adjacency, top-k and an Adam step on the\n'
    + 'chosen backend: warm-up runs excluded, median over --repeat runs, progress on stderr.',
  flags: {
    repeat: { type: 'int', default: 10, min: 1, description: 'timed runs per op (the median is reported)' },
    warmup: { type: 'int', default: 3, min: 0, description: 'untimed runs per op before timing' },
    threads: { type: 'int', default: 1, min: 1, description: 'worker threads (backends run single-threaded for now)' },
    trainFile: { type: 'string', placeholder: 'path', description: 'interaction pairs for the sparse adjacency (default ../shared/datasets/office/train.txt)' },
    quick: { type: 'boolean', hidden: true, description: 'shrink dense shapes 8× (tests)' },
  },
  async run(ctx): Promise<BenchRow[]> {
    const [suite, ...extra] = ctx.args;
    if (suite === undefined) throw new UsageError(`bench: name a suite: ${SUITES.join(', ')} (infodcl bench ops)`);
    if (!SUITES.includes(suite)) throw new UsageError(`bench: unknown suite "${suite}" (available: ${SUITES.join(', ')})`);
    if (extra.length) throw new UsageError(`bench: unexpected argument "${extra[0]}"`);
    await ctx.useBackend();
    const { repeat, warmup, threads, quick, trainFile } = ctx.flags;
    return benchOps({ repeat, warmup, threads, quick, trainFile, log: ctx.log });
  },
  render: formatTable,
});
