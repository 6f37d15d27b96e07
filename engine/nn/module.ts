/**
 * Modules: named trainable parameters, organised as in PyTorch's state_dict (`linear1.weight`,
 * `layers.0.norm1.bias`, …) so weights can be exchanged with reference implementations by name.
 */
import { fmt, sizeOf } from '../shape.js';
import { keep, Tensor } from '../tensor.js';

export abstract class Module {
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Registers a trainable parameter (kept outside every scope until `dispose`). */
  protected addParameter(name: string, value: Tensor): Tensor {
    this.params.set(name, keep(value));
    return value;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** The parameter `name` of this module (not of children). */
  protected param(name: string): Tensor {
    const p = this.params.get(name);
    if (!p) throw new Error(`${this.constructor.name}: no parameter named ${name}`);
    return p;
  }

  /** Every parameter with its dotted path, in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.params) out.push([prefix + n, p]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Overwrites the parameter at dotted `path` with `values` (same number of elements), in place. */
  setParameter(path: string, values: Float32Array): void {
    const dot = path.indexOf('.');
    if (!this.params.has(path) && dot > 0 && this.children.has(path.slice(0, dot))) {
      this.children.get(path.slice(0, dot))!.setParameter(path.slice(dot + 1), values);
      return;
    }
    const old = this.params.get(path);
    if (!old) throw new Error(`${this.constructor.name}: no parameter named ${path}`);
    if (values.length !== old.size) {
      throw new Error(`${this.constructor.name}.${path}: expected ${old.size} values for shape ${fmt(old.shape)}, got ${values.length}`);
    }
    // Written in place, so references to the parameter (an optimizer's, a caller's) stay valid.
    const b = old.backend;
    const src = b.upload(values);
    b.writeStrided(src, old.storage, [old.size], [1], 0);
    b.free(src);
  }

  /** Copies every parameter of `other` (same architecture) into this module, on the device. */
  copyParametersFrom(other: Module): void {
    const src = new Map(other.namedParameters());
    for (const [path, p] of this.namedParameters()) {
      const q = src.get(path);
      if (!q || q.size !== p.size) throw new Error(`${this.constructor.name}.copyParametersFrom: no matching parameter ${path}`);
      p.backend.writeStrided(q.storage, p.storage, [p.size], [1], 0);
    }
  }

  /** Loads every parameter found in `state` by path; returns the paths that were missing from it. */
  loadState(state: Record<string, Float32Array>, prefix = ''): string[] {
    const missing: string[] = [];
    for (const [path] of this.namedParameters()) {
      const v = state[prefix + path];
      if (v) this.setParameter(path, v);
      else missing.push(prefix + path);
    }
    return missing;
  }

  parameterCount(): number {
    return this.namedParameters().reduce((n, [, p]) => n + sizeOf(p.shape), 0);
  }

  dispose(): void {
    for (const p of this.params.values()) p.dispose();
    for (const m of this.children.values()) m.dispose();
  }
}
