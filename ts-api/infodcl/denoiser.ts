/**
 * The denoiser (the reference's `Tenc`, SPEC §4): x̂0 = diffuser([x ‖ c ‖ τ(t)]), τ(t) = step_mlp(sinusoid(t)),
 * with c a learned null embedding (unconditional) or a guide vector (conditional). Each channel owns one,
 * together with its PSNet (`npnet.*`).
 */
import { Linear, Module, type Random, type Tensor, tensor } from '../../engine/index.js';
import { Container, Mlp } from './blocks.js';
import { PSNet } from './psnet.js';
import { sinusoidalEmbedding } from './schedule.js';

export type DiffuserType = 'mlp1' | 'mlp2';

/**
 * τ(t) for a batch of steps: one row per distinct step (`table` [S, d]) and each batch row's entry in it
 * (`index` [B]). A batch of 2000 draws at most T = 200 steps, so the step MLP runs on ≤ 200 rows.
 */
export interface StepEmbedding { table: Tensor; index: Tensor }

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

  /** τ(t) for integer steps t (host array). */
  stepEmbedding(t: Int32Array): StepEmbedding {
    // rows of the [T, dim] table of every step's sinusoid, computed once: the same values, none of the sin/cos
    this.sinusoids ??= sinusoidalEmbedding(Int32Array.from({ length: this.T }, (_, i) => i), this.dim);
    const d = this.dim, slot = new Int32Array(this.T).fill(-1), index = new Int32Array(t.length);
    const rows = new Float32Array(Math.min(this.T, t.length) * d); // the distinct steps' sinusoids, first seen first
    let distinct = 0;
    t.forEach((v, r) => {
      if (!Number.isInteger(v) || v < 0 || v >= this.T) throw new Error(`denoiser: step ${v} (row ${r}) is outside [0, ${this.T})`);
      if (slot[v] < 0) rows.set(this.sinusoids!.subarray(v * d, (v + 1) * d), (slot[v] = distinct++) * d);
      index[r] = slot[v];
    });
    return { table: this.stepMlp.forward(tensor(rows.subarray(0, distinct * d), [distinct, d])), index: tensor(index) };
  }

  /** x̂0 = f(x, c, t) = diffuser([x ‖ c ‖ τ(t)]) with a guide `c`: [B, d] rows, or one row [1, d] for all. */
  forward(x: Tensor, c: Tensor, steps: StepEmbedding): Tensor {
    return this.diffuser.forwardBlocks([x, c, steps]);
  }

  /** x̂0 = f(x, ∅, t) with the learned null embedding. */
  forwardUncon(x: Tensor, steps: StepEmbedding): Tensor {
    return this.forward(x, this.param('none_embedding.weight'), steps);
  }
}

