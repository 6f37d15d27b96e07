/** Basic layers: Linear, Embedding, LayerNorm, and functional dropout / l2-normalise. */
import { add, affine, div, gatherRows, layerNorm, linear, matmul, maximum, mul, ones, reshape, slice, sqrt, sum, square, tensor, zeros } from '../ops/index.js';
import { fmt } from '../shape.js';
import type { Random } from '../random.js';
import { Tensor, tidy } from '../tensor.js';
import { Module } from './module.js';

/**
 * y = x·Wᵀ + b with W [out, in] (PyTorch layout). Default init as PyTorch: U(−1/√in, 1/√in).
 *
 * @example
 * const fc = new Linear(64, 128, rng);
 * const y = fc.forward(x);   // [B, 64] → [B, 128]
 */
export class Linear extends Module {
  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Random, bias = true) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    const u = (n: number) => rng.uniform(n).map((v) => (2 * v - 1) * bound);
    this.addParameter('weight', tensor(u(outFeatures * inFeatures), [outFeatures, inFeatures]));
    if (bias) this.addParameter('bias', tensor(u(outFeatures), [outFeatures]));
    else this.hasBias = false;
  }

  private hasBias = true;

  /**
   * y = [x₁ ‖ x₂ ‖ …]·Wᵀ + b without building the concatenation: each block meets its own columns of W.
   * A block is rows [B, k]; one row [1, k] shared by all B outputs; or `{ table, index }`, the rows of
   * `table` [S, k] picked by `index` [B]. Shared rows and tables are multiplied once, not once per output.
   *
   * @example
   * const y = fc.forwardBlocks([z, nullRow, { table: stepTable, index: stepOfRow }]);  // = fc.forward(concat(…))
   */
  forwardBlocks(blocks: readonly LinearBlock[]): Tensor {
    return tidy(() => {
      const w = this.param('weight');
      let col = 0;
      let rows: Tensor | undefined;
      let shared = this.hasBias ? reshape(this.param('bias'), [1, this.outFeatures]) : undefined;
      for (const [i, block] of blocks.entries()) {
        const x = block instanceof Tensor ? block : block.table;
        if (x.rank !== 2 || col + x.shape[1] > this.inFeatures) {
          throw new Error(`Linear.forwardBlocks: block ${i} ${fmt(x.shape)} does not fit columns ${col}.. of ${this.inFeatures} inputs`);
        }
        const part = matmul(x, slice(w, [0, col], [this.outFeatures, x.shape[1]]), { transB: true });
        col += x.shape[1];
        if (block instanceof Tensor && x.shape[0] === 1) {
          shared = shared ? add(shared, part) : part;
        } else {
          const picked = block instanceof Tensor ? part : gatherRows(part, block.index);
          if (rows && rows.shape[0] !== picked.shape[0]) {
            throw new Error(`Linear.forwardBlocks: block ${i} has ${picked.shape[0]} rows, an earlier block ${rows.shape[0]}`);
          }
          rows = rows ? add(rows, picked) : picked;
        }
      }
      if (col !== this.inFeatures) throw new Error(`Linear.forwardBlocks: the blocks have ${col} columns, the layer ${this.inFeatures} inputs`);
      return (rows && shared ? add(rows, shared) : rows ?? shared)!;
    });
  }

  /** x: [..., in] → [..., out]; leading dimensions are flattened into one matrix product. */
  forward(x: Tensor): Tensor {
    // A scope frees the product before the bias and the flattened views (a tape keeps what it needs).
    return tidy(() => {
      const flat = x.rank === 2 ? x : reshape(x, [-1, this.inFeatures]);
      const y = this.hasBias ? linear(flat, this.param('weight'), this.param('bias')) : matmul(flat, this.param('weight'), { transB: true });
      return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}

/** One block of a Linear's input columns (see Linear.forwardBlocks). */
export type LinearBlock = Tensor | { table: Tensor; index: Tensor };

/** A lookup table [n, d], initialised N(0, std²). */
export class Embedding extends Module {
  constructor(readonly count: number, readonly dim: number, rng: Random, std = 1) {
    super();
    this.addParameter('weight', rng.randn([count, dim], std));
  }

  get weight(): Tensor {
    return this.param('weight');
  }

  forward(ids: Tensor): Tensor {
    return gatherRows(this.param('weight'), ids);
  }
}

export class LayerNorm extends Module {
  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.addParameter('weight', ones([dim]));
    this.addParameter('bias', zeros([dim]));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.param('weight'), this.param('bias'), this.eps);
  }
}

/**
 * An inverted-dropout mask of `shape`: 0 with probability p (to 16 bits: Random.maskAtLeast), else
 * 1/(1−p), drawn from `rng`.
 */
export function dropoutMask(shape: readonly number[], p: number, rng: Random): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  return rng.maskAtLeast(shape, p, 1 / (1 - p));
}

/** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p). */
export function dropout(x: Tensor, p: number, rng: Random): Tensor {
  if (p === 0) return affine(x, 1);
  // In a scope, so that the mask does not outlive the call (a tape still keeps it for the backward pass).
  return tidy(() => mul(x, dropoutMask(x.shape, p, rng)));
}

/** x / max(‖x‖₂, eps) along the last axis (as torch.nn.functional.normalize). */
export function l2Normalize(x: Tensor, eps = 1e-12): Tensor {
  return tidy(() => div(x, maximum(sqrt(sum(square(x), -1, true)), eps)));
}

/** [B] → [B, 1] helper for broadcasting per-row scalars. */
export function asColumn(x: Tensor): Tensor {
  return reshape(x, [x.size, 1]);
}
