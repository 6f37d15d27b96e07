/** Small containers that reproduce the reference's parameter names (`s_proj.0.weight`, `layers.1.…`). */
import { gelu, Linear, type LinearBlock, Module, relu, type Random, type Tensor } from '../../engine/index.js';

/** A module that only groups named children (PyTorch's Sequential / ModuleList naming). */
export class Container extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.addModule(name, m);
  }
}

/**
 * Linear → activation → Linear, with the two Linears at the reference's Sequential indices
 * (e.g. '0' and '2', or '1' and '3' when index 0 is a parameter-free layer).
 */
export class Mlp extends Module {
  private readonly first: Linear;
  private readonly second: Linear;

  constructor(dims: [number, number, number], readonly activation: 'gelu' | 'relu', names: [string, string], rng: Random) {
    super();
    this.first = this.addModule(names[0], new Linear(dims[0], dims[1], rng));
    this.second = this.addModule(names[1], new Linear(dims[1], dims[2], rng));
  }

  forward(x: Tensor): Tensor {
    return this.rest(this.first.forward(x));
  }

  /** The MLP of the concatenated blocks (Linear.forwardBlocks), without building the concatenation. */
  forwardBlocks(blocks: readonly LinearBlock[]): Tensor {
    return this.rest(this.first.forwardBlocks(blocks));
  }

  private rest(h: Tensor): Tensor {
    return this.second.forward(this.activation === 'gelu' ? gelu(h) : relu(h));
  }
}
