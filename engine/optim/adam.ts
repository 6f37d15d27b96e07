/** Adam with PyTorch's update (float32 operation order in the backend kernel), state kept per parameter. */
import type { AdamArgs } from '../backend.js';
import { zeros } from '../ops/create.js';
import { fmt, sameShape } from '../shape.js';
import { keep, Tensor } from '../tensor.js';

export interface AdamOptions { lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }

export interface AdamSlotState { step: number; m: Float32Array; v: Float32Array }

/**
 * @example
 * const opt = new Adam(model.parameters(), { lr: 0.005 });
 * const { value, grads } = valueAndGrads(() => loss(), opt.params);
 * opt.step(grads);
 */
export class Adam {
  readonly options: Required<AdamOptions>;
  private slots: { step: number; m: Tensor; v: Tensor }[];

  constructor(public params: Tensor[], options: AdamOptions = {}) {
    this.options = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...options };
    // Moments are allocated up front, so a training step allocates nothing that outlives it.
    this.slots = params.map((p) => ({ step: 0, m: keep(zeros(p.shape)), v: keep(zeros(p.shape)) }));
  }


  /** Updates every parameter in place from its gradient (same order as `params`). */
  step(grads: Tensor[]): void {
    if (grads.length !== this.params.length) throw new Error(`Adam.step: ${grads.length} gradients for ${this.params.length} parameters`);
    this.params.forEach((p, i) => {
      const g = grads[i];
      if (!sameShape(g.shape, p.shape)) throw new Error(`Adam.step: gradient ${i} has shape ${fmt(g.shape)}, parameter ${fmt(p.shape)}`);
      const slot = this.slots[i];
      slot.step++;
      const args: AdamArgs = { ...this.options, step: slot.step };
      p.backend.adam(p.storage, g.storage, slot.m.storage, slot.v.storage, args);
    });
  }

  /** The moments and step counts, copied to the host (for checkpoints). */
  async state(): Promise<AdamSlotState[]> {
    return Promise.all(this.slots.map(async (s) => ({
      step: s.step, m: await s.m.data() as Float32Array, v: await s.v.data() as Float32Array,
    })));
  }

  loadState(state: AdamSlotState[]): void {
    if (state.length !== this.params.length) throw new Error(`Adam.loadState: state for ${state.length} parameters, optimizer has ${this.params.length}`);
    state.forEach((s, i) => {
      const shape = this.params[i].shape;
      if (s.m.length !== this.params[i].size || s.v.length !== this.params[i].size) {
        throw new Error(`Adam.loadState: moments of parameter ${i} do not match its shape ${fmt(shape)}`);
      }
    });
    this.disposeSlots();
    this.slots = state.map((s, i) => {
      const up = (a: Float32Array) => keep(new Tensor(this.params[i].backend.upload(a), this.params[i].shape));
      return { step: s.step, m: up(s.m), v: up(s.v) };
    });
  }

  dispose(): void {
    this.disposeSlots();
  }

  private disposeSlots(): void {
    for (const s of this.slots) { s.m.dispose(); s.v.dispose(); }
    this.slots = [];
  }
}
