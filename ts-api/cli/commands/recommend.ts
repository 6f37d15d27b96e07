/** `infodcl recommend`: the top-k items for one user of a checkpoint or artifact, as JSON. */
import { loadAsArtifact } from '../../checkpoint/index.js';
import { MAX_K, recommenderFromArtifact, type Scored } from '../../serve/recommender.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  summary: 'top-k items for one user (JSON)',
  description: 'Prints {"user", "items": [{"item", "score"}]} for --user <raw id>: raw ids, best first, score σ(û·ê).\n'
    + 'The user\'s train items are left out unless --include-seen.',
  flags: {
    model: { type: 'string', placeholder: 'file', description: 'checkpoint or serving artifact' },
    user: { type: 'int', min: 0, placeholder: 'raw id', description: 'the user' },
    k: { type: 'int', default: 20, min: 1, max: MAX_K, description: 'how many items (also -k)' },
    includeSeen: { type: 'boolean', description: 'keep the user\'s train items among the candidates' },
    exclude: { type: 'list', placeholder: 'ids', description: 'raw item ids to leave out (comma-separated)' },
  },
  async run(ctx): Promise<{ user: number; items: Scored[] }> {
    const f = ctx.flags;
    if (!f.model) throw new UsageError('recommend: --model <file> is required');
    if (f.user === undefined) throw new UsageError('recommend: --user <raw id> is required');
    const exclude = f.exclude.map((x) => {
      if (!/^\d{1,10}$/.test(x)) throw new UsageError(`recommend: --exclude takes raw item ids, got "${x}"`);
      return Number(x);
    });
    // Scoring runs on the chosen backend too (wasm: ~2.5× faster than plain JS on a 50k-item catalogue).
    const backend = await ctx.useBackend();
    const rec = await recommenderFromArtifact(await loadAsArtifact(f.model), { backend });
    try {
      return { user: f.user, items: await rec.recommend(f.user, { k: f.k, exclude, includeSeen: f.includeSeen }) };
    } finally {
      rec.dispose();
    }
  },
  render: (r) => JSON.stringify(r, null, 2),
});
