/**
 * InfoDCL (SPEC §3–5): user/item embeddings plus one denoiser (with its PSNet) per metadata channel,
 * trained jointly. Parameter names match the reference (`uEmb.weight`, `iEmb.weight`, `model_1.*`, …).
 */
import {
  add, affine, Embedding, gatherRows, keep, l2Normalize, Module, mul, Random, tensor, Tensor, tidy,
} from '../../engine/index.js';
import type { InfoDclConfig } from './config.js';
import { Denoiser } from './denoiser.js';
import { balanceLoss, bprLoss, infoNceLoss, reconstructionLoss, regLoss } from './losses.js';
import { makeSchedule, type DiffusionSchedule } from './schedule.js';

export interface Batch { users: Int32Array; pos: Int32Array; neg: Int32Array }

/**
 * The random inputs of one step: diffusion steps (shared by channels) and one noise matrix [B, dim] per
 * channel (a tensor, or its values).
 */
export interface StepNoise { t: Int32Array; noise: (Tensor | Float32Array)[] }

export const LOSS_TERMS = ['recon', 'bpr', 'reg', 'bal', 'ssl', 'total'] as const;

export interface LossTensors {
  total: Tensor;
  recon: Tensor[];
  ssl: Tensor[];
  bpr: Tensor;
  reg: Tensor;
  bal: Tensor;
  predicted: Tensor[];
}

export class InfoDCL extends Module {
  readonly uEmb: Embedding;
  readonly iEmb: Embedding;
  readonly channels: Denoiser[];
  readonly schedule: DiffusionSchedule;

  /** Parameters are drawn from `rng` (N(0, initStd²) embeddings, PyTorch default init elsewhere). */
  constructor(readonly nUser: number, readonly nItem: number, readonly config: InfoDclConfig, rng: Random) {
    super();
    this.uEmb = this.addModule('uEmb', new Embedding(nUser, config.dim, rng, config.initStd));
    this.iEmb = this.addModule('iEmb', new Embedding(nItem, config.dim, rng, config.initStd));
    this.channels = config.channels.map((_, k) =>
      this.addModule(`model_${k + 1}`, new Denoiser(config.dim, config.steps, config.diffuser, rng)));
    this.schedule = makeSchedule(config.schedule, config.steps, config.betaStart, config.betaEnd);
  }

  /**
   * Draws the step's diffusion times and per-channel Gaussian noise (tensors on the active backend: draw
   * inside the step's valueAndGrads, or dispose them).
   */
  drawNoise(batchSize: number, rng: Random): StepNoise {
    return {
      t: rng.int(batchSize, 0, this.config.steps),
      noise: this.channels.map(() => rng.randn([batchSize, this.config.dim])),
    };
  }

  /**
   * Every loss term of one batch (SPEC §5). `guides[k]` is channel k's metadata table [nItem, d].
   * With `training`, PSNet's transformer applies dropout drawn from `rng`.
   */
  async losses(batch: Batch, noise: StepNoise, guides: Tensor[], training = false, rng?: Random): Promise<LossTensors> {
    const c = this.config;
    const B = batch.pos.length;
    const [users, pos, neg] = [tensor(batch.users), tensor(batch.pos), tensor(batch.neg)];
    const u = gatherRows(this.uEmb.weight, users);
    const ePos = gatherRows(this.iEmb.weight, pos);
    const eNeg = gatherRows(this.iEmb.weight, neg);
    const column = (table: Float32Array) => {
      const values = new Float32Array(B);
      for (let i = 0; i < B; i++) values[i] = table[noise.t[i]];
      return tensor(values, [B, 1]);
    };
    const sqrtAc = column(this.schedule.sqrtAlphasCumprod);
    const sqrt1mAc = column(this.schedule.sqrtOneMinusAlphasCumprod);

    const recon: Tensor[] = [];
    const ssl: Tensor[] = [];
    const predicted: Tensor[] = [];
    const keys = l2Normalize(this.iEmb.weight); // every channel's InfoNCE candidates: normalised once
    for (const [k, den] of this.channels.entries()) {
      const g = gatherRows(guides[k], pos);
      const stepEmb = den.stepEmbedding(noise.t);
      let xhat: Tensor;
      let target = ePos;
      if (c.flag === 2) {
        const n = noise.noise[k];
        const eps = await den.npnet.forward(n instanceof Tensor ? n : tensor(n, [B, c.dim]), g, training, rng);
        const z = add(mul(ePos, sqrtAc), mul(eps.noise, sqrt1mAc));
        xhat = den.forwardUncon(z, stepEmb);
      } else {
        xhat = c.flag === 3 ? den.forward(ePos, g, stepEmb) : den.forward(g, ePos, stepEmb);
        if (c.flag !== 1) target = add(ePos, g);
      }
      predicted.push(xhat);
      recon.push(reconstructionLoss(target, xhat));
      // one fused call per channel: stacking both views measured slower (Q outgrows the L2 cache)
      ssl.push(infoNceLoss(xhat, this.iEmb.weight, pos, c.tau, keys));
    }
    const bpr = bprLoss(u, ePos, eNeg);
    const reg = regLoss(u, ePos);
    const bal = balanceLoss(predicted, B);
    const weighted = (ts: Tensor[], w: (k: number) => number) => ts.map((t, k) => affine(t, w(k))).reduce((a, b) => add(a, b));
    const total = add(add(add(add(
      weighted(recon, () => c.reconWeight),
      affine(bpr, c.bprWeight)),
      affine(reg, c.regWeight)),
      affine(bal, c.balWeight)),
      weighted(ssl, (k) => c.sslWeight * c.sslChannelWeights[k]));
    return { total, recon, ssl, bpr, reg, bal, predicted };
  }

  /**
   * Reverse diffusion for `items` through channel k (SPEC §4): x̂0-parameterised DDPM ancestral sampling
   * over all T steps with classifier-free guidance x̂0 = (1+w)·f(x, h, t) − w·f(x, ∅, t), the DDPM posterior
   * mean and variance, and no noise at the last step. Start and condition follow the training flag.
   */
  sample(k: number, items: Int32Array, guide: Tensor, rng: Random): Tensor {
    const den = this.channels[k];
    const { dim, guidance: w, flag } = this.config;
    const s = this.schedule;
    const B = items.length;
    const [e, g] = tidy(() => {
      const ids = tensor(items);
      return [gatherRows(this.iEmb.weight, ids), gatherRows(guide, ids)];
    });
    const [start, cond] = flag === 2 ? [add(e, g), g] : flag === 3 ? [e, g] : [g, e];
    let x = keep(affine(start, 1));
    for (let n = s.T - 1; n >= 0; n--) {
      const next = tidy(() => {
        const stepEmb = den.stepEmbedding(new Int32Array(B).fill(n));
        const x0 = add(affine(den.forward(x, cond, stepEmb), 1 + w), affine(den.forwardUncon(x, stepEmb), -w));
        const mean = add(affine(x0, s.posteriorMeanCoef1[n]), affine(x, s.posteriorMeanCoef2[n]));
        return n === 0 ? mean : add(mean, affine(rng.randn([B, dim]), Math.sqrt(s.posteriorVariance[n])));
      });
      x.dispose();
      x = keep(next);
    }
    for (const t of new Set([e, g, start, cond])) t.dispose();
    const out = affine(x, 1); // a tensor of the caller's scope
    x.dispose();
    return out;
  }
}
