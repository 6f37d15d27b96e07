/**
 * The denoiser (the reference's `Tenc`, SPEC §4): x̂0 = diffuser([x ‖ c ‖ τ(t)]), τ(t) = step_mlp(sinusoid(t)),
 * with c a learned null embedding (unconditional) or a guide vector (conditional). Each channel owns one,
 * together with its PSNet (`npnet.*`).
 */
import { broadcastTo, concat, Linear, Module, type Random, type Tensor, tensor } from '../../engine/index.js';
import { Container, Mlp } from './blocks.js';
import { PSNet } from './psnet.js';
import { sinusoidalEmbedding } from './schedule.js';

export type DiffuserType = 'mlp1' | 'mlp2';

export class Denoiser extends Module {
  readonly npnet: PSNet;
  readonly stepMlp: Mlp;
  private readonly diffuser: Linear | Mlp;
  private sinusoids?: Float32Array;

  constructor(readonly dim: number, readonly T: number, readonly type: DiffuserType, rng: Random) {
    super();
    this.npnet = this.addModule('npnet', new PSNet(dim, rng));
    this.addParameter('none_embedding.weight', rng.randn([1, dim]));
    this.stepMlp = this.addModule('step_mlp', new Mlp([dim, 2 * dim, dim], 'gelu', ['1', '3'], rng));
    if (type === 'mlp1') {
      this.diffuser = new Linear(3 * dim, dim, rng);
      this.addModule('diffuser', new Container()).add('0', this.diffuser);
    } else if (type === 'mlp2') {
      this.diffuser = this.addModule('diffuser', new Mlp([3 * dim, 2 * dim, dim], 'gelu', ['0', '2'], rng));
    } else {
      throw new Error(`denoiser: unknown diffuser type "${type as string}" (mlp1 or mlp2)`);
    }
  }

  /** τ(t) for integer steps t (host array), [B, d]. */
  stepEmbedding(t: Int32Array): Tensor {
    for (const v of t) {
      if (!Number.isInteger(v) || v < 0 || v >= this.T) throw new Error(`denoiser: step ${v} is outside [0, ${this.T})`);
    }
    // rows of the [T, dim] table of every step's sinusoid, computed once: the same values, none of the sin/cos
    this.sinusoids ??= sinusoidalEmbedding(Int32Array.from({ length: this.T }, (_, i) => i), this.dim);
    const rows = new Float32Array(t.length * this.dim);
    t.forEach((v, r) => rows.set(this.sinusoids!.subarray(v * this.dim, (v + 1) * this.dim), r * this.dim));
    return this.stepMlp.forward(tensor(rows, [t.length, this.dim]));
  }

  /** x̂0 = f(x, c, t) with a guide `c` [B, d]. */
  forward(x: Tensor, c: Tensor, stepEmb: Tensor): Tensor {
    return this.diffuser.forward(concat([x, c, stepEmb], 1));
  }

  /** x̂0 = f(x, ∅, t) with the learned null embedding. */
  forwardUncon(x: Tensor, stepEmb: Tensor): Tensor {
    return this.forward(x, broadcastTo(this.param('none_embedding.weight'), x.shape), stepEmb);
  }
}

