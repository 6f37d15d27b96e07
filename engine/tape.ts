/**
 * Reverse-mode autodiff, written once above every backend.
 *
 * While `valueAndGrads` runs, each op whose inputs require gradients appends a node to the tape. The
 * backward pass walks the tape in reverse and calls the op's entry in the gradient table (grad.ts),
 * which is built from the same public ops, so every backend gets gradients for free.
 */
import { GRADIENTS, type OpName } from './grad.js';
import { add, full } from './ops/index.js';
import { fmt, sameShape } from './shape.js';
import { setTapeHold, Tensor, tidy } from './tensor.js';

export interface TapeNode {
  op: OpName;
  inputs: Tensor[];
  outputs: Tensor[];
  attrs: Record<string, unknown>;
}

class Tape {
  readonly nodes: TapeNode[] = [];
  readonly hold = new Set<Tensor>();
}

let tape: Tape | null = null;

/** Called by every op after it ran: puts a node on the tape when a gradient may flow through it. */
export function record(op: OpName, inputs: Tensor[], outputs: Tensor[], attrs: Record<string, unknown> = {}): void {
  if (!tape || !inputs.some((t) => t.requiresGrad)) return;
  for (const t of inputs) tape.hold.add(t);
  for (const t of outputs) {
    t.requiresGrad = true;
    tape.hold.add(t);
  }
  tape.nodes.push({ op, inputs, outputs, attrs });
}

/** True while a tape records (ops may skip saving work that only a backward pass needs). */
export function isRecording(): boolean {
  return tape !== null;
}

export interface ValueAndGrads {
  value: Tensor;
  /** One gradient per requested tensor, same shape; zeros where no gradient flowed. */
  grads: Tensor[];
}

/**
 * Runs `fn`, then the backward pass from its result, and returns the result with d(result)/d(x) for
 * each x in `xs`. The result is usually a scalar; otherwise the gradient of sum(result · seed) is taken,
 * where `seed` defaults to ones. Intermediates are freed; `value` and `grads` belong to the caller's scope.
 * `fn` may be async (the SVD reads back to the host); then a Promise is returned.
 *
 * @example
 * const { value: loss, grads: [gw] } = valueAndGrads(() => sum(square(matmul(x, w))), [w]);
 */
export function valueAndGrads(fn: () => Tensor, xs: Tensor[], seed?: Tensor): ValueAndGrads;
export function valueAndGrads(fn: () => Promise<Tensor>, xs: Tensor[], seed?: Tensor): Promise<ValueAndGrads>;
export function valueAndGrads(fn: () => Tensor | Promise<Tensor>, xs: Tensor[], seed?: Tensor): ValueAndGrads | Promise<ValueAndGrads> {
  if (tape) throw new Error('valueAndGrads: nested gradient tapes are not supported');
  const own = new Tape();
  const firstId = Tensor.nextId;
  const prevFlags = xs.map((x) => x.requiresGrad);
  tape = own;
  const prevHold = setTapeHold(own.hold);
  for (const x of xs) x.requiresGrad = true;

  const finish = (value: Tensor): ValueAndGrads => {
    tape = null;
    try {
      return { value, grads: backward(own, value, xs, seed) };
    } finally {
      release();
    }
  };
  const release = () => {
    tape = null;
    setTapeHold(prevHold);
    xs.forEach((x, i) => { x.requiresGrad = prevFlags[i]; });
  };
  const cleanup = (result: ValueAndGrads | null) => {
    const keepSet = new Set<Tensor>([...xs, ...(result ? [result.value, ...result.grads] : [])]);
    // Only what the function created; its inputs from outside belong to their owners.
    for (const t of own.hold) if (t.id >= firstId && !keepSet.has(t) && !t.kept) t.dispose();
  };

  return tidy(() => {
    let out: Tensor | Promise<Tensor>;
    try {
      out = fn();
    } catch (e) {
      release();
      cleanup(null);
      throw e;
    }
    // release() also when the result is not a tensor (checkValue throws before finish runs): otherwise
    // the tape stayed installed and every later valueAndGrads failed as "nested".
    const settle = (v: unknown): ValueAndGrads => {
      try {
        const r = finish(checkValue(v));
        cleanup(r);
        return r;
      } catch (e) {
        release();
        cleanup(null);
        throw e;
      }
    };
    if (out instanceof Promise) {
      return out.then(settle, (e) => { release(); cleanup(null); throw e; });
    }
    return settle(out);
  });
}

function checkValue(v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw new Error('valueAndGrads: the function must return a Tensor');
  return v;
}

function backward(own: Tape, value: Tensor, xs: Tensor[], seed?: Tensor): Tensor[] {
  return tidy(() => {
    const grads = new Map<Tensor, Tensor>();
    if (seed && !sameShape(seed.shape, value.shape)) {
      throw new Error(`valueAndGrads: seed shape ${fmt(seed.shape)} differs from the value's ${fmt(value.shape)}`);
    }
    grads.set(value, seed ?? onesLike(value));
    const wanted = new Set(xs);
    for (let n = own.nodes.length - 1; n >= 0; n--) {
      const node = own.nodes[n];
      const dys = node.outputs.map((o) => grads.get(o) ?? null);
      if (dys.every((d) => d === null)) continue;
      const dxs = GRADIENTS[node.op](dys, node, node.inputs.map((t) => t.requiresGrad));
      const seen = new Set<Tensor>(dys.filter((d): d is Tensor => d !== null));
      node.inputs.forEach((input, i) => {
        let dx = dxs[i];
        if (!dx || !input.requiresGrad) return;
        // Each stored gradient owns its tensor: a pass-through (dx === dy) or a repeat becomes a view.
        if (seen.has(dx)) dx = dx.view(dx.shape);
        seen.add(dx);
        if (!sameShape(dx.shape, input.shape)) {
          throw new Error(`internal: gradient of ${node.op} input ${i} has shape ${fmt(dx.shape)}, expected ${fmt(input.shape)}`);
        }
        const prev = grads.get(input);
        grads.set(input, prev ? addInPlaceless(prev, dx) : dx);
      });
      // Output gradients are consumed: free them early unless the caller asked for them.
      for (const o of node.outputs) {
        const g = grads.get(o);
        if (g && !wanted.has(o)) { grads.delete(o); if (g !== seed) g.dispose(); }
      }
    }
    return xs.map((x) => grads.get(x) ?? zerosLike(x));
  });
}

function onesLike(t: Tensor): Tensor { return full(t.shape, 1); }
function zerosLike(t: Tensor): Tensor { return full(t.shape, 0); }
function addInPlaceless(a: Tensor, b: Tensor): Tensor {
  const s = add(a, b);
  a.dispose();
  b.dispose();
  return s;
}
