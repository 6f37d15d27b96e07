/** `infodcl eval`: ranks every item for the valid and test users of a dataset with a saved model (SPEC §6). */
import { tensor } from '../../../engine/index.js';
import { loadAsArtifact } from '../../checkpoint/index.js';
import { loadDataset, type Dataset } from '../../data/dataset.js';
import { generateSynthetic } from '../../data/synthetic.js';
import { evaluateRanking, splitCsr, type MetricTable } from '../../eval/evaluate.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';

export interface EvalOutput { model: string; dataset: string; epoch: number; valid: MetricTable; test: MetricTable }

const sameIds = (a: Int32Array, b: Int32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

export default defineCommand({
  summary: 'evaluate a checkpoint or artifact on a dataset (Recall/NDCG/Precision/MRR @10,20,50,100)',
  description: 'Evaluates --model <file> (checkpoint or artifact) on --data <dir> or --synthetic (honest protocol:\n'
    + 'valid with train items masked, test with train and valid items masked). The dataset must be the one the\n'
    + 'model was trained on (same raw user and item ids).',
  flags: {
    model: { type: 'string', placeholder: 'file', description: 'checkpoint or serving artifact' },
    data: { type: 'string', placeholder: 'dir', description: 'dataset folder' },
    synthetic: { type: 'boolean', description: 'the built-in synthetic dataset' },
    seed: { type: 'int', min: 0, description: 'seed of the synthetic dataset (default: the model\'s)' },
  },
  async run(ctx): Promise<EvalOutput> {
    const f = ctx.flags;
    if (!f.model) throw new UsageError('eval: --model <file> is required');
    if (!!f.data === f.synthetic) throw new UsageError('eval: give exactly one of --data <dir> or --synthetic');
    await ctx.useBackend();
    const a = await loadAsArtifact(f.model);
    const seed = f.seed ?? (typeof a.config.seed === 'number' ? a.config.seed : undefined);
    const ds: Dataset = f.synthetic ? generateSynthetic({ seed }) : loadDataset(f.data!, { log: ctx.log });
    if (!sameIds(ds.rawUserIds, a.rawUserIds) || !sameIds(ds.rawItemIds, a.rawItemIds)) {
      throw new Error(`${ds.name} (${ds.nUser} users, ${ds.nItem} items) is not the dataset ${f.model} was trained on `
        + `(${a.dataset}: ${a.nUser} users, ${a.nItem} items)`);
    }
    const users = tensor(a.users, [a.nUser, a.dim]);
    const items = tensor(a.items, [a.nItem, a.dim]);
    try {
      const [train, valid] = [splitCsr(ds, ds.train), splitCsr(ds, ds.valid)];
      return {
        model: f.model, dataset: ds.name, epoch: a.epoch,
        valid: await evaluateRanking(users, items, ds, valid, [train], 'honest'),
        test: await evaluateRanking(users, items, ds, splitCsr(ds, ds.test), [train, valid], 'honest'),
      };
    } finally {
      users.dispose();
      items.dispose();
    }
  },
  render: (r) => [
    `${r.model} (${r.epoch} epochs) on ${r.dataset}:`,
    ...(['valid', 'test'] as const).map((s) =>
      `${s.padEnd(6)} ${[10, 20, 50, 100].map((k) => `R@${k} ${r[s][`recall@${k}`].toFixed(4)}  N@${k} ${r[s][`ndcg@${k}`].toFixed(4)}`).join('  ')}`),
  ].join('\n'),
});
