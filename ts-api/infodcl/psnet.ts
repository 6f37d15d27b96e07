/**
 * PSNet (SPEC §3): informative noise from Gaussian noise and item metadata.
 * Names follow the reference (`npnet.svd_noiset.*`, `npnet.noise_transformer.transformer.layers.N.*`).
 */
import {
  add, affine, Linear, Module, mul, type Random, reshape, sigmoid, slice, svd, tensor,
  type Tensor, TransformerEncoderLayer,
} from '../../engine/index.js';
import { Container, Mlp } from './blocks.js';

/** Spectral rectification: S = Y + fusion([u_proj(U) ‖ v_proj(Vh[0]) ‖ s_proj(s)]) ⊙ rescale. */
export class SvdNoiseUnet extends Module {
  readonly uProj: Linear;
  readonly vProj: Linear;
  readonly sProj: Mlp;
  readonly fusion: Mlp;

  constructor(readonly dim: number, rng: Random) {
    super();
    this.uProj = this.addModule('u_proj', new Linear(dim, dim, rng));
    this.vProj = this.addModule('v_proj', new Linear(dim, dim, rng));
    this.sProj = this.addModule('s_proj', new Mlp([dim, dim, dim], 'relu', ['0', '2'], rng));
    this.fusion = this.addModule('fusion_proj', new Mlp([3 * dim, 2 * dim, dim], 'gelu', ['0', '2'], rng));
    this.addParameter('rescale', tensor(new Float32Array(dim).fill(1), [1, dim]));
  }

  /** y: [B, d] (any B ≥ 1: for B < d the SVD pads U and s with zeros). */
  async forward(y: Tensor): Promise<Tensor> {
    const d = y.shape[1];
    const { U, S, Vh } = await svd(y);
    const u = this.uProj.forward(U);
    const v = this.vProj.forward(slice(Vh, [0, 0], [1, d]));
    const s = this.sProj.forward(reshape(S, [1, d]));
    // v and s are one row each, shared by all B rows: the fusion multiplies them once
    const fused = this.fusion.forwardBlocks([u, v, s]);
    return add(y, mul(fused, this.param('rescale')));
  }
}

/** H = TE(Y) + Y: two post-norm encoder layers, each row a length-1 sequence. */
export class NoiseTransformer extends Module {
  readonly layers: TransformerEncoderLayer[];

  constructor(readonly dim: number, rng: Random, layers = 2, heads = 4, ffn = 256, dropout = 0.1) {
    super();
    const list = this.addModule('transformer', new Container()).add('layers', new Container());
    this.layers = Array.from({ length: layers }, (_, i) => list.add(String(i), new TransformerEncoderLayer(dim, { heads, ffn, dropout }, rng)));
    // nn.TransformerEncoder deep-copies one layer: every layer starts with the first one's parameters.
    for (const layer of this.layers.slice(1)) layer.copyParametersFrom(this.layers[0]);
  }

  forward(y: Tensor, training: boolean, rng?: Random): Tensor {
    const [B, d] = y.shape;
    let x = reshape(y, [B, 1, d]);
    for (const layer of this.layers) x = layer.forward(x, training, rng);
    return add(reshape(x, [B, d]), y);
  }
}

/** ε^(m) = S + (2σ(α) − 1)·A + β·H with A = text_embedding(M), Y = ε + A. */
export class PSNet extends Module {
  readonly textEmbedding: Linear;
  readonly noiseTransformer: NoiseTransformer;
  readonly svdNoise: SvdNoiseUnet;

  constructor(readonly dim: number, rng: Random) {
    super();
    this.textEmbedding = this.addModule('text_embedding', new Linear(dim, dim, rng));
    this.noiseTransformer = this.addModule('noise_transformer', new NoiseTransformer(dim, rng));
    this.svdNoise = this.addModule('svd_noiset', new SvdNoiseUnet(dim, rng));
    this.addParameter('_alpha', tensor([1], [1]));
    this.addParameter('_beta', tensor([1], [1]));
  }

  /** noise, metadata: [B, d] → informative noise [B, d] (and the named intermediates). */
  async forward(noise: Tensor, metadata: Tensor, training = false, rng?: Random):
    Promise<{ noise: Tensor; textEmb: Tensor; svdNoise: Tensor; infoEmbedding: Tensor }> {
    const textEmb = this.textEmbedding.forward(metadata);
    const y = add(noise, textEmb);
    const svdNoise = await this.svdNoise.forward(y);
    const infoEmbedding = this.noiseTransformer.forward(y, training, rng);
    const gate = affine(sigmoid(this.param('_alpha')), 2, -1);
    const out = add(add(svdNoise, mul(textEmb, gate)), mul(infoEmbedding, this.param('_beta')));
    return { noise: out, textEmb, svdNoise, infoEmbedding };
  }
}
