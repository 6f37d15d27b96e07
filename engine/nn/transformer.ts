/** Multi-head self-attention and PyTorch's post-norm TransformerEncoderLayer (batch-first). */
import { add, affine, matmul, mul, permute, relu, reshape, slice, softmax, tensor } from '../ops/index.js';
import type { Random } from '../random.js';
import { tidy, type Tensor } from '../tensor.js';
import { fmt } from '../shape.js';
import { dropout, dropoutMask, LayerNorm, Linear } from './layers.js';
import { Module } from './module.js';

/** nn.MultiheadAttention with packed in-projection `in_proj_weight` [3d, d] (rows q | k | v). */
export class MultiheadAttention extends Module {
  readonly outProj: Linear;

  constructor(readonly dim: number, readonly heads: number, rng: Random) {
    super();
    if (dim % heads !== 0) throw new Error(`MultiheadAttention: dim ${dim} is not divisible by ${heads} heads`);
    // PyTorch: xavier_uniform_ for in_proj_weight, zero biases.
    const bound = Math.sqrt(6 / (dim + 3 * dim));
    this.addParameter('in_proj_weight', tensor(rng.uniform(3 * dim * dim).map((u) => (2 * u - 1) * bound), [3 * dim, dim]));
    this.addParameter('in_proj_bias', tensor(new Float32Array(3 * dim), [3 * dim]));
    this.outProj = this.addModule('out_proj', new Linear(dim, dim, rng));
    this.outProj.setParameter('bias', new Float32Array(dim));
  }

  /** x: [B, L, d] → [B, L, d]. */
  forward(x: Tensor, training = false, p = 0, rng?: Random): Tensor {
    // Intermediates are freed with the scope (a recording tape keeps what the backward pass needs).
    return tidy(() => this.attend(x, training, p, rng));
  }

  private attend(x: Tensor, training: boolean, p: number, rng?: Random): Tensor {
    const [B, L, d] = x.shape;
    const w = this.param('in_proj_weight');
    const b = this.param('in_proj_bias');
    const rows = reshape(x, [B * L, d]);
    const proj = (i: number) => {
      const wi = slice(w, [i * d, 0], [d, d]);
      const bi = slice(b, [i * d], [d]);
      return reshape(add(matmul(rows, wi, { transB: true }), bi), [B, L, d]);
    };
    if (L === 1) {
      // One position: the softmax over a single key is exactly 1, so attention is the value projection
      // (q and k get exactly zero gradient, as in PyTorch); dropout on that weight drops a whole head.
      let v = proj(2);
      if (training && p > 0 && rng) {
        const mask = dropoutMask([B, 1, this.heads, 1], p, rng);
        v = reshape(mul(reshape(v, [B, 1, this.heads, d / this.heads]), mask), [B, 1, d]);
      }
      return this.outProj.forward(v);
    }
    const h = this.heads, dh = d / h;
    const split = (t: Tensor) => reshape(permute(reshape(t, [B, L, h, dh]), [0, 2, 1, 3]), [B * h, L, dh]);
    const [q, k, v] = [0, 1, 2].map((i) => split(proj(i)));
    let attn = softmax(affine(matmul(q, k, { transB: true }), 1 / Math.sqrt(dh)));
    if (training && p > 0 && rng) attn = dropout(attn, p, rng);
    const ctx = reshape(permute(reshape(matmul(attn, v), [B, h, L, dh]), [0, 2, 1, 3]), [B, L, d]);
    return this.outProj.forward(ctx);
  }
}

export interface EncoderLayerOptions { heads: number; ffn: number; dropout?: number; eps?: number }

/**
 * PyTorch's nn.TransformerEncoderLayer with batch_first, norm_first = false (post-norm), ReLU:
 * x = norm1(x + drop(attn(x))); x = norm2(x + drop(linear2(drop(relu(linear1(x)))))).
 */
export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly p: number;

  constructor(readonly dim: number, opts: EncoderLayerOptions, rng: Random) {
    super();
    this.p = opts.dropout ?? 0.1;
    this.selfAttn = this.addModule('self_attn', new MultiheadAttention(dim, opts.heads, rng));
    this.linear1 = this.addModule('linear1', new Linear(dim, opts.ffn, rng));
    this.linear2 = this.addModule('linear2', new Linear(opts.ffn, dim, rng));
    this.norm1 = this.addModule('norm1', new LayerNorm(dim, opts.eps ?? 1e-5));
    this.norm2 = this.addModule('norm2', new LayerNorm(dim, opts.eps ?? 1e-5));
  }

  /** x: [B, L, d]; `rng` drives dropout when `training`. */
  forward(x: Tensor, training = false, rng?: Random): Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dim) throw new Error(`TransformerEncoderLayer: x must be [B, L, ${this.dim}], got ${fmt(x.shape)}`);
    const drop = (t: Tensor) => (training && this.p > 0 && rng ? dropout(t, this.p, rng) : t);
    return tidy(() => {
      const h = this.norm1.forward(add(x, drop(this.selfAttn.forward(x, training, this.p, rng))));
      const ff = this.linear2.forward(drop(relu(this.linear1.forward(h))));
      return this.norm2.forward(add(h, drop(ff)));
    });
  }
}
