/** InfoDCL hyperparameters; defaults are the authors' office.sh settings (SPEC §3–6). */
import type { ScheduleName } from './schedule.js';
import type { DiffuserType } from './denoiser.js';

/** Which metadata drives a channel: item-item co-occurrence ('knowledge') or user similarity ('social'). */
export type ChannelSource = 'knowledge' | 'social';

export interface InfoDclConfig {
  /** Embedding width d. */
  dim: number;
  /** Diffusion steps T and schedule. */
  steps: number;
  schedule: ScheduleName;
  betaStart: number;
  betaEnd: number;
  diffuser: DiffuserType;
  /** How metadata enters training (SPEC §4); PSNet is trained only by flag 2. */
  flag: 0 | 1 | 2 | 3;
  /** Metadata per channel; the released code feeds knowledge to both, the paper uses knowledge + social. */
  channels: ChannelSource[];
  /** Weight of each channel's contrastive loss (the code counts channel 1 twice). */
  sslChannelWeights: number[];
  tau: number;
  reconWeight: number;
  bprWeight: number;
  regWeight: number;
  balWeight: number;
  sslWeight: number;
  /** Dropout inside PSNet's transformer layers while training (PyTorch's default 0.1). */
  dropout: number;
  /** Classifier-free guidance strength for reverse sampling. */
  guidance: number;
  initStd: number;
  lr: number;
  batchSize: number;
  /** LightGCN layers at inference. */
  layers: number;
  seed: number;
}

export const DEFAULT_CONFIG: InfoDclConfig = {
  dim: 64, steps: 200, schedule: 'exp', betaStart: 1e-4, betaEnd: 0.02, diffuser: 'mlp1', flag: 2,
  channels: ['knowledge', 'knowledge'], sslChannelWeights: [2, 1], tau: 0.5,
  reconWeight: 0.4, bprWeight: 0.6, regWeight: 0.003, balWeight: 5e-5, sslWeight: 5e-6,
  dropout: 0.1, guidance: 2, initStd: 0.1, lr: 0.005, batchSize: 2000, layers: 2, seed: 2024,
};

/** Fills defaults and rejects values that cannot work, naming the field. */
export function resolveConfig(partial: Partial<InfoDclConfig> = {}): InfoDclConfig {
  const c = { ...DEFAULT_CONFIG, ...partial };
  if (partial.channels && !partial.sslChannelWeights) c.sslChannelWeights = c.channels.map((_, i) => (i === 0 && c.channels.length === 2 ? 2 : 1));
  const positiveInt = ['dim', 'steps', 'batchSize'] as const;
  for (const k of positiveInt) if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`config: ${k} must be a positive integer, got ${c[k]}`);
  if (!Number.isInteger(c.layers) || c.layers < 0) throw new Error(`config: layers must be a non-negative integer, got ${c.layers}`);
  if (c.dim % 8 !== 0) throw new Error(`config: dim must be a multiple of 8 (4 attention heads, even sinusoid), got ${c.dim}`);
  if (![0, 1, 2, 3].includes(c.flag)) throw new Error(`config: flag must be 0, 1, 2 or 3, got ${c.flag}`);
  if (c.channels.length < 1 || c.channels.some((s) => s !== 'knowledge' && s !== 'social')) {
    throw new Error(`config: channels must list knowledge and/or social, got ${JSON.stringify(c.channels)}`);
  }
  c.sslChannelWeights = c.sslChannelWeights.map(Number); // a CLI list arrives as strings
  if (c.sslChannelWeights.some((w) => !Number.isFinite(w))) throw new Error(`config: sslChannelWeights must be numbers, got ${JSON.stringify(partial.sslChannelWeights)}`);
  if (c.sslChannelWeights.length !== c.channels.length) {
    throw new Error(`config: sslChannelWeights needs one weight per channel (${c.channels.length}), got ${c.sslChannelWeights.length}`);
  }
  for (const k of ['tau', 'lr', 'initStd'] as const) if (!(c[k] > 0)) throw new Error(`config: ${k} must be > 0, got ${c[k]}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`config: dropout must be in [0, 1), got ${c.dropout}`);
  return c;
}
