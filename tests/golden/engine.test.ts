// Golden parity of the engine's nn blocks with PyTorch (../shared/golden): linear_gelu, layernorm,
// transformer and svd, forward outputs and gradients of L = sum(out · R), on every backend. Per tensor,
// atol = 10 × the float32-vs-float64 max_abs of tolerances.json (floor 1e-6 × scale); a grad.param.*
// tensor without its own entry takes the largest grad max_abs of its case.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import {
  add, gelu, LayerNorm, Linear, liveTensors, mul, Random, reshape, setBackend, slice, sum, svd, tensor,
  TransformerEncoderLayer, tidy, valueAndGrads, type Module, type Tensor,
} from '../../engine/index.js';
import { goldenDir, loadGolden, type GoldenCase } from '../golden.js';
import { assertClose, loadBackends, maxAbs, readF64, registerLoadFailures } from '../helpers.js';

type ToleranceEntry = { max_abs: number; scale: number };
const tolerances = JSON.parse(readFileSync(join(goldenDir, 'tolerances.json'), 'utf8')).cases as
  Record<string, Record<string, ToleranceEntry>>;

/** atol for tensor `name` of case `c` (see the file comment). */
export function goldenAtol(c: string, name: string, expected: ArrayLike<number>): number {
  const entries = tolerances[c] ?? {};
  let e = entries[name];
  if (!e && name.startsWith('grad.')) {
    const grads = Object.entries(entries).filter(([k]) => k.startsWith('grad.')).map(([, v]) => v);
    if (grads.length) e = { max_abs: Math.max(...grads.map((g) => g.max_abs)), scale: maxAbs(expected) };
  }
  if (!e) throw new Error(`tolerances.json has no entry for ${c} ${name} (nor any grad.* entry)`);
  return Math.max(10 * e.max_abs, 1e-6 * (e.scale ?? maxAbs(expected)));
}

const f32 = (g: GoldenCase, name: string): Float32Array => {
  const t = g.tensors[name];
  if (!t) throw new Error(`fixture has no tensor ${name}`);
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
};
const input = (g: GoldenCase, name: string) => tensor(f32(g, name), g.tensors[name].shape);

/** The fixture's float tensors as a state dict for Module.loadState. */
function stateOf(g: GoldenCase): Record<string, Float32Array> {
  const s: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(g.tensors)) if (t.dtype !== 'i32') s[k] = f32(g, k);
  return s;
}

function load(m: Module, g: GoldenCase, prefix: string): void {
  const missing = m.loadState(stateOf(g), prefix);
  if (missing.length) throw new Error(`fixture lacks parameters: ${missing.join(', ')}`);
}

async function compare(c: string, g: GoldenCase, name: string, t: Tensor, backend: string): Promise<void> {
  const want = f32(g, name);
  const shape = g.tensors[name].shape;
  if (t.shape.join() !== shape.join()) throw new Error(`${backend} ${c} ${name}: shape [${t.shape}], fixture [${shape}]`);
  const got = await readF64(t);
  const atol = goldenAtol(c, name, want);
  if (process.env.GOLDEN_VERBOSE) {
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    console.log(`${backend} ${c} ${name}: max |error| ${err.toExponential(2)} = ${(err / atol).toFixed(3)} × atol`);
  }
  assertClose(got, want, { atol, rtol: 0 }, `${backend} ${c} ${name}`, shape);
}

interface GoldenRun {
  /** Named outputs and gradients to compare (`out.*`, `grad.*`), then disposed. */
  tensors: [string, Tensor][];
  dispose: () => void;
}

const CASES: Record<string, (g: GoldenCase) => Promise<GoldenRun>> = {
  async linear_gelu(g) {
    const rng = new Random(1);
    const l0 = new Linear(192, 128, rng);
    const l2 = new Linear(128, 64, rng);
    load(l0, g, 'param.0.');
    load(l2, g, 'param.2.');
    const x = input(g, 'in.x');
    const R = input(g, 'in.R');
    const forward = () => l2.forward(gelu(l0.forward(x)));
    const { value, grads } = valueAndGrads(() => sum(mul(forward(), R)), [x, ...l0.parameters(), ...l2.parameters()]);
    // Outputs made on the tape are freed with it: the forward runs again for the comparison.
    const out = tidy(forward);
    const names = ['grad.in.x', ...l0.namedParameters().map(([n]) => `grad.param.0.${n}`), ...l2.namedParameters().map(([n]) => `grad.param.2.${n}`)];
    return {
      tensors: [['out.y', out], ...names.map((n, i): [string, Tensor] => [n, grads[i]])],
      dispose: () => { for (const t of [x, R, value]) t.dispose(); l0.dispose(); l2.dispose(); },
    };
  },

  async layernorm(g) {
    const ln = new LayerNorm(64, Number(g.config.eps ?? 1e-5));
    load(ln, g, 'param.');
    const x = input(g, 'in.x');
    const R = input(g, 'in.R');
    const { value, grads } = valueAndGrads(() => sum(mul(ln.forward(x), R)), [x, ...ln.parameters()]);
    const names = ['grad.in.x', ...ln.namedParameters().map(([n]) => `grad.param.${n}`)];
    return {
      tensors: [['out.y', tidy(() => ln.forward(x))], ...names.map((n, i): [string, Tensor] => [n, grads[i]])],
      dispose: () => { for (const t of [x, R, value]) t.dispose(); ln.dispose(); },
    };
  },

  /** NoiseTransformer: rows as length-1 sequences through 2 post-norm encoder layers, plus the residual. */
  async transformer(g) {
    const d = Number(g.config.d_model);
    const opts = { heads: Number(g.config.nhead), ffn: Number(g.config.dim_feedforward), eps: Number(g.config.layer_norm_eps), dropout: 0.1 };
    const rng = new Random(2);
    const layers = [0, 1].map((i) => {
      const l = new TransformerEncoderLayer(d, opts, rng);
      load(l, g, `param.transformer.layers.${i}.`);
      return l;
    });
    const x = input(g, 'in.x');
    const R = input(g, 'in.R');
    const B = x.shape[0];
    const forward = () => {
      let h = reshape(x, [B, 1, d]);
      for (const l of layers) h = l.forward(h, false);
      return add(reshape(h, [B, d]), x);
    };
    const params = layers.flatMap((l) => l.parameters());
    const { value, grads } = valueAndGrads(() => sum(mul(forward(), R)), [x, ...params]);
    const names = ['grad.in.x', ...layers.flatMap((l, i) => l.namedParameters().map(([n]) => `grad.param.transformer.layers.${i}.${n}`))];
    return {
      tensors: [['out.y', tidy(forward)], ...names.map((n, i): [string, Tensor] => [n, grads[i]])],
      dispose: () => { for (const t of [x, R, value]) t.dispose(); layers.forEach((l) => l.dispose()); },
    };
  },

  /** L = sum(U·R_U) + sum(S·R_S) + sum(Vh[0]·R_Vh0). */
  async svd(g) {
    const X = input(g, 'in.X');
    const [RU, RS, RV] = ['in.R_U', 'in.R_S', 'in.R_Vh0'].map((n) => input(g, n));
    const d = X.shape[1];
    const { value, grads: [gx] } = await valueAndGrads(async () => {
      const { U, S, Vh } = await svd(X);
      const v0 = reshape(slice(Vh, [0, 0], [1, d]), [d]);
      return add(add(sum(mul(U, RU)), sum(mul(S, RS))), sum(mul(v0, RV)));
    }, [X]);
    const { U, S, Vh } = await svd(X);
    return {
      tensors: [['out.U', U], ['out.S', S], ['out.Vh', Vh], ['grad.in.X', gx]],
      dispose: () => { for (const t of [X, RU, RS, RV, value]) t.dispose(); },
    };
  },
};

const load0 = await loadBackends();
registerLoadFailures(test, load0);
for (const { name: backendName, backend } of load0.available) {
  for (const [c, run] of Object.entries(CASES)) {
    test(`${backendName}: ${c}`, async () => {
      setBackend(backend);
      const g = loadGolden(c);
      const before = liveTensors();
      const buffers = backend.liveBuffers();
      const r = await run(g);
      try {
        for (const [name, t] of r.tensors) {
          if (!g.tensors[name]) throw new Error(`${c}: fixture has no ${name}`);
          await compare(c, g, name, t, backendName);
        }
      } finally {
        for (const [, t] of r.tensors) t.dispose();
        r.dispose();
      }
      if (liveTensors() !== before || backend.liveBuffers() !== buffers) {
        throw new Error(`${backendName} ${c}: ${liveTensors() - before} tensor(s), ${backend.liveBuffers() - buffers} buffer(s) leaked`);
      }
    });
  }
}

test.run();
