/**
 * The conformance runner. Cases are data ({op, shapes, seed, tolerance, args}); an op table says how to
 * draw each input and what to compute. For every available backend and case it checks, against an
 * oracle run of the same case:
 *  - forward outputs (integer outputs exactly, float outputs within the case tolerance relative to the
 *    tensor's scale),
 *  - gradients of L = sum(out · R) (R seeded, via valueAndGrads; a single output uses R as the seed),
 *  - determinism (a second run on the same backend gives identical bits),
 *  - no leak (live tensors and backend buffers return to where they were).
 * The oracle of every backend is the reference backend; the reference itself is checked against the
 * reference in precision 'f64' with each value rounded once to float32 (what an exact float32 kernel gives).
 */
import { test } from 'uvu';
import type { Backend } from '../../engine/backend.js';
import { liveTensors, setBackend, sum, mul, add, tensor, tidy, valueAndGrads, type Tensor } from '../../engine/index.js';
import {
  assertClose, assertExact, assertSameBits, createF64Backend, errorText, loadBackends, randn, randu, randSigned,
  randQuant, randInt, readF64, registerLoadFailures, sizeOfShape, type Tol,
} from '../helpers.js';
import { findGap, printGaps } from './gaps.js';

export type { Tol } from '../helpers.js';

export type InputSpec =
  | { kind: 'normal'; std?: number }
  | { kind: 'uniform'; lo: number; hi: number }
  | { kind: 'signed'; lo: number; hi: number }
  | { kind: 'quant'; lo?: number; hi?: number }
  | { kind: 'int'; lo: number; hi: number }
  | { kind: 'mask' }
  | { kind: 'values'; values: readonly number[] }
  | { kind: 'intValues'; values: readonly number[] };

export interface Case {
  op: string;
  shapes: number[][];
  seed: number;
  tol: Tol;
  /** Tolerance of the gradients (default: tol). */
  gradTol?: Tol;
  /**
   * Tolerance (outputs and gradients) for backends other than the reference, whose oracle is the
   * reference in float32: set where the contract fixes the float32 operation order (Adam: bit-exact).
   */
  backendTol?: Tol;
  args?: Record<string, unknown>;
  /** Overrides the op's input distributions. */
  inputs?: InputSpec[];
  /** A short tag for the name (e.g. "ties"). */
  tag?: string;
}

export type Outputs = Tensor | Tensor[];

export interface Built {
  fn: () => Outputs | Promise<Outputs>;
  /** The tensors to differentiate with respect to. */
  wrt: Tensor[];
  dispose?: () => void;
}

export interface OpDef {
  inputs: InputSpec[] | ((c: Case) => InputSpec[]);
  run?: (xs: Tensor[], c: Case) => Outputs | Promise<Outputs>;
  /** For ops with state (modules, sparse matrices): builds it, says what to differentiate. */
  build?: (xs: Tensor[], c: Case) => Built;
  /** Inputs to differentiate (default: every f32 input); [] = not differentiable. */
  grad?: number[];
}

export interface HostTensor { shape: number[]; dtype: string; data: Float64Array }

export interface CaseResult {
  outputs: HostTensor[];
  grads: HostTensor[];
  leak: string | null;
}

export function caseName(c: Case): string {
  const shapes = c.shapes.map((s) => `[${s.join(',')}]`).join(' ');
  const args = c.args ? Object.entries(c.args).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ') : '';
  return [c.op, shapes, args, c.tag ? `(${c.tag})` : ''].filter(Boolean).join(' ');
}

function specData(spec: InputSpec, n: number, seed: number): Float32Array | Int32Array {
  switch (spec.kind) {
    case 'normal': return randn(seed, n, spec.std ?? 1);
    case 'uniform': return randu(seed, n, spec.lo, spec.hi);
    case 'signed': return randSigned(seed, n, spec.lo, spec.hi);
    case 'quant': return randQuant(seed, n, spec.lo ?? -3, spec.hi ?? 4);
    case 'int': return randInt(seed, n, spec.lo, spec.hi);
    case 'mask': return randQuant(seed, n, 0, 2);
    case 'values': return Float32Array.from({ length: n }, (_, i) => spec.values[i % spec.values.length]);
    case 'intValues': return Int32Array.from({ length: n }, (_, i) => spec.values[i % spec.values.length]);
  }
}

function asList(o: Outputs): Tensor[] {
  return Array.isArray(o) ? o : [o];
}

async function toHost(t: Tensor): Promise<HostTensor> {
  return { shape: [...t.shape], dtype: t.dtype, data: await readF64(t) };
}

/** Runs one case on `backend` (made active) and reads everything back; frees all it made. */
export async function runCase(backend: Backend, def: OpDef, c: Case): Promise<CaseResult> {
  setBackend(backend);
  const tensors0 = liveTensors();
  const buffers0 = backend.liveBuffers();
  const specs = c.inputs ?? (typeof def.inputs === 'function' ? def.inputs(c) : def.inputs);
  if (specs.length !== c.shapes.length) throw new Error(`case ${caseName(c)}: ${specs.length} input specs for ${c.shapes.length} shapes`);
  const xs = c.shapes.map((shape, i) => tensor(specData(specs[i], sizeOfShape(shape), c.seed * 1009 + i * 7919 + 1), shape));
  let built: Built | null = null;
  try {
    const gradIdx = def.grad ?? xs.map((x, i) => (x.dtype === 'f32' ? i : -1)).filter((i) => i >= 0);
    built = def.build ? def.build(xs, c) : { fn: () => def.run!(xs, c), wrt: gradIdx.map((i) => xs[i]) };
    const b = built;

    // Forward.
    const outs = asList(await tidy(() => b.fn()));
    const outputs: HostTensor[] = [];
    for (const o of outs) outputs.push(await toHost(o));
    for (const o of outs) o.dispose();

    // Gradients of sum(out_k · R_k) over the float outputs.
    const grads: HostTensor[] = [];
    const floatOuts = outputs.map((o, k) => (o.dtype === 'f32' ? k : -1)).filter((k) => k >= 0);
    if (b.wrt.length > 0 && floatOuts.length > 0) {
      const Rs = outputs.map((o, k) => (o.dtype === 'f32'
        ? tensor(randn(c.seed * 1009 + 500 + k, sizeOfShape(o.shape)), o.shape) : null));
      const single = outputs.length === 1;
      const loss = (o: Outputs): Tensor => {
        const list = asList(o);
        if (single) return list[0];
        let acc: Tensor | null = null;
        for (const k of floatOuts) {
          const term = sum(mul(list[k], Rs[k]!));
          acc = acc ? add(acc, term) : term;
        }
        return acc!;
      };
      const f = (): Tensor | Promise<Tensor> => {
        const o = b.fn();
        return o instanceof Promise ? o.then(loss) : loss(o);
      };
      const r = await (valueAndGrads as (fn: () => Tensor | Promise<Tensor>, xs: Tensor[], seed?: Tensor) =>
        ReturnType<typeof valueAndGrads> | Promise<ReturnType<typeof valueAndGrads>>)(f, b.wrt, single ? Rs[0]! : undefined);
      for (const g of r.grads) grads.push(await toHost(g));
      r.value.dispose();
      for (const g of r.grads) g.dispose();
      for (const R of Rs) R?.dispose();
    }
    built.dispose?.();
    built = null;
    for (const x of xs) x.dispose();
    const dt = liveTensors() - tensors0;
    const db = backend.liveBuffers() - buffers0;
    const leak = dt || db ? `${dt} tensor(s) and ${db} backend buffer(s) still alive after the case` : null;
    return { outputs, grads, leak };
  } finally {
    built?.dispose?.();
    for (const x of xs) x.dispose();
  }
}

function roundToF32(r: CaseResult): CaseResult {
  const round = (t: HostTensor): HostTensor => (t.dtype === 'f32' ? { ...t, data: t.data.map(Math.fround) } : t);
  return { outputs: r.outputs.map(round), grads: r.grads.map(round), leak: r.leak };
}

function compare(name: string, got: CaseResult, want: CaseResult, c: Case, exactOrder: boolean): void {
  const tol = exactOrder && c.backendTol ? c.backendTol : c.tol;
  const gradTol = exactOrder && c.backendTol ? c.backendTol : c.gradTol ?? c.tol;
  if (got.outputs.length !== want.outputs.length) throw new Error(`${name}: ${got.outputs.length} outputs, expected ${want.outputs.length}`);
  got.outputs.forEach((o, k) => {
    const w = want.outputs[k];
    const label = `${name}: output ${k}`;
    if (o.dtype !== w.dtype) throw new Error(`${label}: dtype ${o.dtype}, expected ${w.dtype}`);
    if (o.shape.join() !== w.shape.join()) throw new Error(`${label}: shape [${o.shape}], expected [${w.shape}]`);
    if (o.dtype === 'i32') assertExact(o.data, w.data, label, o.shape);
    else assertClose(o.data, w.data, tol, label, o.shape);
  });
  if (got.grads.length !== want.grads.length) throw new Error(`${name}: ${got.grads.length} gradients, expected ${want.grads.length}`);
  got.grads.forEach((g, i) => {
    const w = want.grads[i];
    const label = `${name}: gradient ${i}`;
    if (g.shape.join() !== w.shape.join()) throw new Error(`${label}: shape [${g.shape}], expected [${w.shape}]`);
    assertClose(g.data, w.data, gradTol, label, g.shape);
  });
}

function compareBits(name: string, a: CaseResult, b: CaseResult): void {
  a.outputs.forEach((o, k) => assertSameBits(b.outputs[k].data, o.data, `${name}: determinism, output ${k} on a second run`, o.shape));
  a.grads.forEach((g, i) => assertSameBits(b.grads[i].data, g.data, `${name}: determinism, gradient ${i} on a second run`, g.shape));
}

/**
 * Registers one uvu test per (backend, case) plus a failing test per backend that did not load, prints
 * the known gaps, and runs the suite.
 */
export async function runConformance(ops: Record<string, OpDef>, cases: Case[]): Promise<void> {
  const load = await loadBackends();
  const names = [...load.available.map((b) => b.name), ...load.failed.map((f) => f.name)];
  printGaps(names);
  registerLoadFailures(test, load);
  const reference = load.available.find((b) => b.name === 'reference')!.backend;
  const f64 = createF64Backend();
  const oracleCache = new Map<string, Promise<CaseResult>>();
  const oracle = (kind: 'f32' | 'f64', def: OpDef, c: Case, name: string) => {
    const key = `${kind} ${name}`;
    let p = oracleCache.get(key);
    if (!p) {
      p = kind === 'f64' ? runCase(f64, def, c).then(roundToF32) : runCase(reference, def, c);
      oracleCache.set(key, p);
    }
    return p;
  };
  const seen = new Set<string>();
  for (const { name: backendName, backend } of load.available) {
    for (const c of cases) {
      const def = ops[c.op];
      if (!def) throw new Error(`conformance: no op named ${c.op}`);
      let name = caseName(c);
      if (seen.has(`${backendName} ${name}`)) name += ` #${c.seed}`;
      seen.add(`${backendName} ${name}`);
      const gap = findGap(backendName, name);
      test(`${backendName}: ${name}`, async () => {
        const check = async () => {
          const want = await oracle(backendName === 'reference' ? 'f64' : 'f32', def, c, name);
          const got = await runCase(backend, def, c);
          compare(`${backendName}: ${name}`, got, want, c, backendName !== 'reference');
          const again = await runCase(backend, def, c);
          compareBits(`${backendName}: ${name}`, got, again);
          if (got.leak) throw new Error(`${backendName}: ${name}: ${got.leak}`);
        };
        if (!gap) return check();
        try {
          await check();
          console.log(`NOTE: known gap "${gap.match}" on ${backendName} now passes (${name}); remove it from tests/conformance/gaps.ts`);
        } catch (e) {
          console.log(`known gap [${backendName}] ${name}: ${gap.reason}\n    (${errorText(e).split('\n')[0]})`);
        }
      });
    }
  }
  test.run();
}

// ---- shared tolerances and shapes ------------------------------------------------------------------

/** Elementwise float32 kernels. */
export const ELEMENTWISE: Tol = { atol: 1e-6, rtol: 1e-5 };
/** Accumulating kernels (matmul, reductions, row ops). */
export const ACCUM: Tol = { atol: 1e-6, rtol: 1e-4 };
/** Pure data movement and integer results: exact. */
export const EXACT: Tol = { atol: 0, rtol: 0 };

/** Sizes that cross SIMD edges; [6, 256] is the two-dimensional one. */
export const EDGE_SIZES = [1, 3, 4, 5, 63, 64, 65, 257];
export const EDGE_SHAPES: number[][] = [...EDGE_SIZES.map((n) => [n]), [6, 256]];
