/** `infodcl info <file>`: what a checkpoint or serving artifact contains (after validating all of it). */
import { HEADER_BYTES } from '../../checkpoint/format.js';
import { loadModelFile, readBytes, readHeader } from '../../checkpoint/index.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  summary: 'describe a checkpoint or serving artifact',
  usage: '<file>',
  flags: {},
  async run(ctx) {
    const [file, ...extra] = ctx.args;
    if (!file) throw new UsageError('info: name a file (infodcl info model.ckpt)');
    if (extra.length) throw new UsageError(`info: unexpected argument "${extra[0]}"`);
    const h = readHeader(readBytes(file));
    const f = loadModelFile(file);
    const m = f.kind === 'checkpoint' ? f.checkpoint : f.artifact;
    const common = {
      file, kind: f.kind, formatVersion: h.version, bytes: h.payloadBytes + HEADER_BYTES, crc32: h.crc.toString(16).padStart(8, '0'),
      model: m.model, dataset: m.dataset, createdAt: m.createdAt, epoch: m.epoch, users: m.nUser, items: m.nItem,
      trainInteractions: m.trainItems.indices.length,
    };
    if (f.kind === 'artifact') return { ...common, dim: f.artifact.dim, config: f.artifact.config };
    const c = f.checkpoint;
    return {
      ...common, dim: c.config.dim,
      parameters: c.params.map((p) => ({ name: p.name, shape: p.shape })),
      parameterCount: c.params.reduce((n, p) => n + p.data.length, 0),
      optimizer: c.optimizer ? { slots: c.optimizer.length, step: c.optimizer[0]?.step ?? 0 } : null,
      rng: c.rng, resumable: !!(c.optimizer && c.rng && c.train),
      historyEpochs: c.history.length, best: c.train?.best ?? null, config: c.config,
    };
  },
  render: (r) => {
    const lines = [
      `${r.file}: InfoDCL ${r.kind} (format ${r.formatVersion}, ${r.bytes} bytes, crc32 ${r.crc32})`,
      `  dataset ${r.dataset}: ${r.users} users, ${r.items} items, ${r.trainInteractions} train interactions; d = ${r.dim}`,
      `  ${r.epoch} epochs trained; created ${r.createdAt}`,
    ];
    if ('parameters' in r) {
      lines.push(`  ${r.parameters.length} parameters (${r.parameterCount} values); optimizer ${r.optimizer ? `Adam, step ${r.optimizer.step}` : 'none'}; `
        + `rng ${r.rng ? `seed ${r.rng.seed} at ${r.rng.position}` : 'none'}; ${r.resumable ? 'resumable' : 'not resumable'}`);
      if (r.best) lines.push(`  best: epoch ${r.best.epoch}, test recall@20 ${r.best.test['recall@20']?.toFixed(4)}, ndcg@20 ${r.best.test['ndcg@20']?.toFixed(4)}`);
    }
    lines.push(`  config ${JSON.stringify(r.config)}`);
    return lines.join('\n');
  },
});
