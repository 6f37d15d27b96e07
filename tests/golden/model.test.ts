// Golden parity of the InfoDCL blocks with the authors' PyTorch code (../shared/golden), per tensor with
// atol = 10 × the float32-vs-float64 max_abs the fixtures report (floor 1e-6 × scale), on every backend.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createBackend } from '../../backends/index.js';
import {
  Adam, add, gatherRows, matmul, mul, Random, setBackend, sigmoid, sum, tensor, type Tensor, valueAndGrads,
} from '../../engine/index.js';
import { resolveConfig } from '../../ts-api/infodcl/config.js';
import { Denoiser } from '../../ts-api/infodcl/denoiser.js';
import { infoNceLoss, reconstructionLoss } from '../../ts-api/infodcl/losses.js';
import { InfoDCL } from '../../ts-api/infodcl/model.js';
import { PSNet, SvdNoiseUnet } from '../../ts-api/infodcl/psnet.js';
import { makeSchedule, sinusoidalEmbedding, type DiffusionSchedule, type ScheduleName } from '../../ts-api/infodcl/schedule.js';
import type { Dataset } from '../../ts-api/data/dataset.js';
import { propagate, rankItems, splitCsr, trainGraph } from '../../ts-api/eval/evaluate.js';
import { goldenDir, loadGolden, type GoldenCase } from '../golden.js';

const tolerances = JSON.parse(readFileSync(join(goldenDir, 'tolerances.json'), 'utf8')).cases as
  Record<string, Record<string, { max_abs: number; scale: number }>>;

function tol(caseName: string, name: string, factor = 10): number {
  const t = tolerances[caseName]?.[name];
  if (!t) throw new Error(`no tolerance for ${caseName} ${name}`);
  return Math.max(factor * t.max_abs, 1e-6 * t.scale);
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, label: string): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  assert.ok(worst <= atol, `${label}: max |error| ${worst.toExponential(2)} at ${at} (got ${actual[at]}, want ${expected[at]}) > atol ${atol.toExponential(2)}`);
}

const f32 = (g: GoldenCase, name: string) => g.tensors[name].data as Float32Array;
const i32 = (g: GoldenCase, name: string) => g.tensors[name].data as Int32Array;
const input = (g: GoldenCase, name: string) => tensor(f32(g, name), g.tensors[name].shape);

/** Loads every `param.<prefix><path>` of the fixture into the module (all must be present). */
function loadParams(m: { namedParameters(): [string, Tensor][]; setParameter(p: string, v: Float32Array): void }, g: GoldenCase, prefix = 'param.'): void {
  for (const [path] of m.namedParameters()) {
    const t = g.tensors[prefix + path];
    if (!t) throw new Error(`fixture has no ${prefix}${path}`);
    m.setParameter(path, t.data as Float32Array);
  }
}

async function checkGrads(caseName: string, g: GoldenCase, names: string[], grads: Tensor[], factor = 10) {
  for (const [i, name] of names.entries()) {
    if (!g.tensors[name]) continue;
    close(await grads[i].data(), f32(g, name), tol(caseName, name, factor), `${caseName} ${name}`);
  }
}

const SCHEDULE_FIELDS: [keyof DiffusionSchedule, string][] = [
  ['betas', 'betas'], ['alphas', 'alphas'], ['alphasCumprod', 'alphas_cumprod'], ['alphasCumprodPrev', 'alphas_cumprod_prev'],
  ['sqrtRecipAlphas', 'sqrt_recip_alphas'], ['sqrtAlphasCumprod', 'sqrt_alphas_cumprod'],
  ['sqrtOneMinusAlphasCumprod', 'sqrt_one_minus_alphas_cumprod'], ['sqrtRecipAlphasCumprod', 'sqrt_recip_alphas_cumprod'],
  ['sqrtRecipm1AlphasCumprod', 'sqrt_recipm1_alphas_cumprod'], ['posteriorMeanCoef1', 'posterior_mean_coef1'],
  ['posteriorMeanCoef2', 'posterior_mean_coef2'], ['posteriorVariance', 'posterior_variance'],
];

for (const name of ['exp', 'linear', 'cosine'] as ScheduleName[]) {
  test(`schedule_${name}: every per-step array`, () => {
    const g = loadGolden(`schedule_${name}`);
    const s = makeSchedule(name, 200, 1e-4, 0.02);
    for (const [ours, theirs] of SCHEDULE_FIELDS) {
      // The reference computes in float32 (cancellation in 1 − ᾱ); ours is float64-rounded (README: ~5e-4 rel).
      const ref = f32(g, `out.${theirs}`);
      const scale = Math.max(...Array.from(ref, Math.abs));
      close(s[ours] as Float32Array, ref, Math.max(tol(`schedule_${name}`, `out.${theirs}`), 5e-4 * scale), `${name} ${theirs}`);
    }
  });
}

test('sinusoidal step embedding', () => {
  const g = loadGolden('sinusoidal');
  close(sinusoidalEmbedding(i32(g, 'in.t'), 64), f32(g, 'out.emb'), tol('sinusoidal', 'out.emb'), 'sinusoidal');
});

/** Two-sample Kolmogorov–Smirnov statistic: the largest gap between the empirical CDFs of a and b. */
function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort(), y = Float64Array.from(b).sort();
  let i = 0, j = 0, d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

test('initialisation: every InfoDCL parameter follows the init law of the reference (train_step true init, seed 2024)', async () => {
  // The fixture holds the reference's parameters right after Coach.prepareModel (torch's RNG); ours come from
  // Philox, so the values differ and the *laws* must agree: constants exactly (LayerNorm 1/0, MHA biases 0,
  // rescale/_alpha/_beta 1), random tensors in distribution (two-sample KS at α = 1e-5, c(α) = 2.47, and the std), which
  // tells apart e.g. U(±1/√fan_in) from xavier_uniform (in_proj), N(0, 0.1²) from N(0, 1) (embeddings) or a
  // zero bias from a uniform one. Both PSNet transformer layers are copies of one layer, as in nn.TransformerEncoder.
  setBackend(await createBackend('reference'));
  const g = loadGolden('train_step');
  const model = new InfoDCL(150, 120, resolveConfig({}), new Random(2024));
  const named = model.namedParameters();
  const paths = Object.keys(g.tensors).filter((k) => k.startsWith('param.')).map((k) => k.slice('param.'.length));
  assert.equal(named.map(([n]) => n).sort(), [...paths].sort(), 'the same parameters as the reference uses');
  for (const [path, p] of named) {
    const theirs = g.tensors[`param.${path}`];
    assert.equal([...p.shape], theirs.shape, `${path}: shape`);
    const ours = await p.data() as Float32Array;
    const ref = theirs.data as Float32Array;
    if (ref.every((v) => v === ref[0])) {
      assert.ok(ours.every((v) => v === ref[0]), `${path}: the reference initialises it to the constant ${ref[0]}`);
      continue;
    }
    const d = ksStatistic(ours, ref);
    const crit = 2.47 * Math.sqrt((ours.length + ref.length) / (ours.length * ref.length));
    assert.ok(d < crit, `${path}: KS distance ${d.toFixed(3)} to the reference's init ≥ ${crit.toFixed(3)} (another init law)`);
    // The scale on its own (KS is weak on 64 values): log-ratio of the standard deviations within 4 normal-theory SEs.
    const std = (a: Float32Array) => { const m = a.reduce((s, v) => s + v, 0) / a.length; return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length); };
    const logRatio = Math.abs(Math.log(std(ours) / std(ref)));
    assert.ok(logRatio < 4 * Math.sqrt(1 / (2 * ours.length) + 1 / (2 * ref.length)), `${path}: std ${std(ours).toExponential(3)} vs the reference's ${std(ref).toExponential(3)}`);
    const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    // Uniform laws: the bound itself (max |x| of the reference sample is within 1 − 6/n of it).
    if (maxAbs(ref) / Math.sqrt(ref.reduce((s, v) => s + v * v, 0) / ref.length) < 1.9) {
      assert.ok(maxAbs(ours) <= maxAbs(ref) * (1 + 6 / ref.length) + 1e-7, `${path}: exceeds the reference's uniform bound ${maxAbs(ref)}`);
    }
  }
  model.dispose();
});

// WEBGPU=1 (set by CI once lavapipe is provisioned) adds the WebGPU backend: the model runs unchanged there.
const backends = (process.env.BACKENDS ?? `reference,wasm${process.env.WEBGPU === '1' ? ',webgpu' : ''}`).split(',');

for (const backendName of backends) {
  const use = async () => setBackend(await createBackend(backendName));

  test(`[${backendName}] svd_unet forward and gradients`, async () => {
    await use();
    const g = loadGolden('svd_unet');
    const m = new SvdNoiseUnet(64, new Random(1));
    loadParams(m, g);
    const x = input(g, 'in.x');
    const R = input(g, 'in.R');
    const params = m.namedParameters();
    const { value, grads } = await valueAndGrads(async () => {
      const y = await m.forward(x);
      close(await y.data(), f32(g, 'out.y'), tol('svd_unet', 'out.y'), 'svd_unet out.y');
      return sum(mul(y, R));
    }, [x, ...params.map(([, p]) => p)]);
    assert.ok(Number.isFinite(await value.item()));
    await checkGrads('svd_unet', g, ['grad.in.x', ...params.map(([n]) => `grad.param.${n}`)], grads);
    m.dispose();
  });

  test(`[${backendName}] npnet forward and gradients`, async () => {
    await use();
    const g = loadGolden('npnet');
    const m = new PSNet(64, new Random(1));
    loadParams(m, g);
    const [noise, prompt, R] = ['in.initial_noise', 'in.prompt_embeds', 'in.R'].map((n) => input(g, n));
    const params = m.namedParameters();
    const { grads } = await valueAndGrads(async () => {
      const out = await m.forward(noise, prompt);
      close(await out.noise.data(), f32(g, 'out.info_noise'), tol('npnet', 'out.info_noise'), 'npnet out.info_noise');
      close(await out.textEmb.data(), f32(g, 'out.text_emb'), tol('npnet', 'out.text_emb'), 'npnet out.text_emb');
      close(await out.svdNoise.data(), f32(g, 'out.svd_noise'), tol('npnet', 'out.svd_noise'), 'npnet out.svd_noise');
      close(await out.infoEmbedding.data(), f32(g, 'out.info_embedding'), tol('npnet', 'out.info_embedding'), 'npnet out.info_embedding');
      return sum(mul(out.noise, R));
    }, [noise, prompt, ...params.map(([, p]) => p)]);
    await checkGrads('npnet', g, ['grad.in.initial_noise', 'grad.in.prompt_embeds', ...params.map(([n]) => `grad.param.${n}`)], grads);
    m.dispose();
  });

  for (const type of ['mlp1', 'mlp2'] as const) {
    test(`[${backendName}] tenc_uncon_${type} forward and gradients`, async () => {
      await use();
      const caseName = `tenc_uncon_${type}`;
      const g = loadGolden(caseName);
      const m = new Denoiser(64, 200, type, new Random(1));
      const used = m.namedParameters().filter(([n]) => !n.startsWith('npnet.'));
      for (const [path] of used) m.setParameter(path, f32(g, `param.${path}`));
      const [x, R] = [input(g, 'in.x'), input(g, 'in.R')];
      const { grads } = await valueAndGrads(async () => {
        const stepEmb = m.stepEmbedding(i32(g, 'in.t'));
        close(await gatherRows(stepEmb.table, stepEmb.index).data(), f32(g, 'out.step_emb'), tol(caseName, 'out.step_emb'), `${caseName} step_emb`);
        const res = m.forwardUncon(x, stepEmb);
        close(await res.data(), f32(g, 'out.res'), tol(caseName, 'out.res'), `${caseName} res`);
        return sum(mul(res, R));
      }, [x, ...used.map(([, p]) => p)]);
      await checkGrads(caseName, g, ['grad.in.x', ...used.map(([n]) => `grad.param.${n}`)], grads);
      m.dispose();
    });
  }

  test(`[${backendName}] p_losses (flag 2): loss, intermediates, gradients`, async () => {
    await use();
    const g = loadGolden('p_losses');
    const m = new Denoiser(64, 200, 'mlp1', new Random(1));
    loadParams(m, g);
    const s = makeSchedule('exp', 200);
    const t = i32(g, 'in.t');
    const col = (a: Float32Array) => tensor(Float32Array.from(t, (k) => a[k]), [t.length, 1]);
    const [x0, guide, noise] = ['in.x_start', 'in.guide_info', 'in.noise_init'].map((n) => input(g, n));
    const params = m.namedParameters();
    const { value, grads } = await valueAndGrads(async () => {
      const eps = await m.npnet.forward(noise, guide);
      const z = add(mul(x0, col(s.sqrtAlphasCumprod)), mul(eps.noise, col(s.sqrtOneMinusAlphasCumprod)));
      const pred = m.forwardUncon(z, m.stepEmbedding(t));
      close(await eps.noise.data(), f32(g, 'out.golden_noise'), tol('p_losses', 'out.golden_noise'), 'golden_noise');
      close(await z.data(), f32(g, 'out.x_noisy'), tol('p_losses', 'out.x_noisy'), 'x_noisy');
      close(await pred.data(), f32(g, 'out.predicted_x'), tol('p_losses', 'out.predicted_x'), 'predicted_x');
      return reconstructionLoss(x0, pred);
    }, [x0, guide, noise, ...params.map(([, p]) => p)]);
    close([await value.item()], [g.scalars['out.loss']], tol('p_losses', 'out.loss'), 'loss');
    await checkGrads('p_losses', g, ['grad.in.x_start', 'grad.in.guide_info', 'grad.in.noise_init', ...params.map(([n]) => `grad.param.${n}`)], grads);
    m.dispose();
  });

  test(`[${backendName}] ssl_loss (InfoNCE summed over the batch)`, async () => {
    await use();
    const g = loadGolden('ssl_loss');
    const [view, items] = [input(g, 'in.item_view1'), input(g, 'in.item_emb')];
    const pos = tensor(i32(g, 'in.pos'));
    const { value, grads } = valueAndGrads(() => infoNceLoss(view, items, pos, 0.5), [view, items]);
    close([await value.item()], [g.scalars['out.loss']], tol('ssl_loss', 'out.loss'), 'ssl loss');
    await checkGrads('ssl_loss', g, ['grad.in.item_view1', 'grad.in.item_emb'], grads);
  });

  test(`[${backendName}] lightgcn: propagation, sigmoid scores, masked top-10`, async () => {
    await use();
    const g = loadGolden('lightgcn');
    const [nUser, nItem] = [30, 40];
    const pairs = i32(g, 'in.train_pairs');
    const users = Int32Array.from({ length: pairs.length / 2 }, (_, k) => pairs[2 * k]);
    const items = Int32Array.from({ length: pairs.length / 2 }, (_, k) => pairs[2 * k + 1]);
    const ds = { nUser, nItem, train: { users, items } } as unknown as Dataset;
    const graph = trainGraph(ds);
    const reps = propagate(input(g, 'in.uEmb'), input(g, 'in.iEmb'), graph, 2);
    close(await reps.users.data(), f32(g, 'out.users_final'), tol('lightgcn', 'out.users_final'), 'users_final');
    close(await reps.items.data(), f32(g, 'out.items_final'), tol('lightgcn', 'out.items_final'), 'items_final');
    const scores = sigmoid(matmul(reps.users, reps.items, { transB: true }));
    close(await scores.data(), f32(g, 'out.prediction'), tol('lightgcn', 'out.prediction'), 'prediction');
    const top = await rankItems(reps.users, reps.items, Int32Array.from({ length: nUser }, (_, u) => u), [splitCsr(ds, ds.train)], 10);
    assert.equal(Array.from(top), Array.from(i32(g, 'out.top10_indices')), 'top-10 after masking train items');
    graph.dispose();
  });

  test(`[${backendName}] train_step: loss terms, gradients, Adam step, second step`, async () => {
    await use();
    const g = loadGolden('train_step');
    const cfg = resolveConfig({ dropout: 0 });
    const model = new InfoDCL(150, 120, cfg, new Random(1));
    loadParams(model, g);
    const batch = { users: i32(g, 'in.user'), pos: i32(g, 'in.pos'), neg: i32(g, 'in.neg') };
    const noise = { t: i32(g, 'in.t'), noise: [f32(g, 'in.noise_init_1'), f32(g, 'in.noise_init_2')] };
    const iKge = input(g, 'in.iKge');
    const named = model.namedParameters();
    const params = named.map(([, p]) => p);
    const terms = async (prefix: string) => {
      const scalars: Record<string, number> = {};
      const { value, grads } = await valueAndGrads(async () => {
        const l = await model.losses(batch, noise, [iKge, iKge]);
        Object.assign(scalars, {
          reconloss_1: await l.recon[0].item(), reconloss_2: await l.recon[1].item(), bprloss: await l.bpr.item(),
          sslloss_1: await l.ssl[0].item(), sslloss_2: await l.ssl[1].item(), regloss: await l.reg.item(),
          predicted_x_loss: await l.bal.item(),
        });
        if (!prefix) {
          close(await l.predicted[0].data(), f32(g, 'out.predicted_x_1'), tol('train_step', 'out.predicted_x_1'), 'predicted_x_1');
          close(await l.predicted[1].data(), f32(g, 'out.predicted_x_2'), tol('train_step', 'out.predicted_x_2'), 'predicted_x_2');
        }
        return l.total;
      }, params);
      scalars.loss = await value.item();
      for (const [k, v] of Object.entries(scalars)) {
        const want = g.scalars[`out.${prefix}${k}`];
        // step 2 compounds step 1's Adam rounding: README suggests rel ~1e-5 on its loss.
        const atol = prefix ? Math.max(2e-5 * Math.abs(want), tol('train_step', `out.${prefix}${k}`)) : tol('train_step', `out.${k}`);
        close([v], [want], atol, `train_step ${prefix}${k}`);
      }
      return grads;
    };
    const grads = await terms('');
    await checkGrads('train_step', g, named.map(([n]) => `grad.param.${n}`), grads);
    const opt = new Adam(params, { lr: 0.005, eps: 1e-8 });
    opt.step(grads);
    for (const [n, p] of model.namedParameters()) {
      close(await p.data(), f32(g, `out.after_step1.${n}`), 5e-4, `after_step1 ${n}`);
    }
    grads.forEach((t) => t.dispose());
    await terms('step2.');
    opt.dispose();
    model.dispose();
  });
}

test.run();
