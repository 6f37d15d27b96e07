/** `infodcl export`: a checkpoint's compact serving artifact (propagated embeddings, id maps, seen items). */
import { artifactFromCheckpoint, loadCheckpoint, saveArtifact } from '../../checkpoint/index.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { statSync } from 'node:fs';

export default defineCommand({
  summary: 'write a serving artifact from a checkpoint',
  description: 'Propagates the checkpoint\'s embeddings (LightGCN, SPEC §6) once and writes --out <file>: user and\n'
    + 'item embeddings, raw-id maps, each user\'s train items, config and format version. serve and recommend read it.',
  flags: {
    model: { type: 'string', placeholder: 'ckpt', description: 'training checkpoint' },
    out: { type: 'string', placeholder: 'file', description: 'artifact to write (atomically)' },
  },
  async run(ctx) {
    const f = ctx.flags;
    if (!f.model || !f.out) throw new UsageError('export: --model <ckpt> and --out <file> are required');
    const ckpt = loadCheckpoint(f.model);
    await ctx.useBackend();
    const a = await artifactFromCheckpoint(ckpt);
    saveArtifact(f.out, a);
    return { out: f.out, bytes: statSync(f.out).size, users: a.nUser, items: a.nItem, dim: a.dim, epoch: a.epoch };
  },
  render: (r) => `wrote ${r.out}: ${r.users} users × ${r.items} items, d = ${r.dim}, ${r.epoch} epochs, ${(r.bytes / 1e6).toFixed(2)} MB`,
});
