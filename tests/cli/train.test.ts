// `infodcl train`: the JSON result, metrics.json and curves.svg, and clear usage errors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/infodcl.js', ...args], {
  encoding: 'utf8', env: { ...process.env, INFODCL_FROM_SOURCE: '1' }, timeout: 120_000,
});

test('train --json prints one object with the metrics and writes metrics.json and curves.svg', () => {
  const out = mkdtempSync(join(tmpdir(), 'infodcl-train-'));
  try {
    const r = run('train', '--synthetic', '--model', 'mf-bpr', '--epochs', '3', '--eval-every', '2', '--lr', '0.01',
      '--backend', 'wasm', '--out', out, '--json');
    assert.is(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.is(res.epochs, 3);
    assert.is(res.history.length, 3);
    assert.ok(res.epochSecondsMedian > 0);
    for (const split of ['valid', 'test']) {
      for (const m of ['recall', 'ndcg', 'precision', 'mrr']) {
        for (const k of [10, 20, 50, 100]) assert.type(res.best[split][`${m}@${k}`], 'number', `${split} ${m}@${k}`);
      }
    }
    assert.equal(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).best, res.best);
    assert.match(readFileSync(join(out, 'curves.svg'), 'utf8'), /^<svg[^>]*>.*Recall@20.*<\/svg>\s*$/s);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('--resume continues an InfoDCL run to the same losses, bit for bit, as a run never interrupted', () => {
  const [a, b] = [mkdtempSync(join(tmpdir(), 'infodcl-a-')), mkdtempSync(join(tmpdir(), 'infodcl-b-'))];
  try {
    const common = ['--synthetic', '--dim', '16', '--steps', '20', '--batch-size', '4096', '--eval-every', '2', '--backend', 'wasm', '--json'];
    const full = run('train', ...common, '--epochs', '3', '--out', a);
    assert.is(full.status, 0, full.stderr);
    const first = run('train', ...common, '--epochs', '2', '--out', b);
    assert.is(first.status, 0, first.stderr);
    const resumed = run('train', ...common, '--epochs', '3', '--out', b, '--resume', join(b, 'model.ckpt'));
    assert.is(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming after epoch 2/);
    const losses = (r: { stdout: string }) => JSON.parse(r.stdout).history.map((h: { losses: unknown }) => h.losses);
    assert.equal(losses(resumed), losses(full));
    assert.equal(JSON.parse(resumed.stdout).best, JSON.parse(full.stdout).best);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('the reference protocol reports test only (valid is null)', () => {
  const r = run('train', '--synthetic', '--model', 'mostpop', '--protocol', 'reference', '--backend', 'wasm', '--json');
  assert.is(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.is(res.best.valid, null);
  assert.ok(res.best.test['recall@20'] > 0);
});

test('usage errors: no data source, bad config file, bad flag value', () => {
  let r = run('train', '--epochs', '1');
  assert.is(r.status, 2);
  assert.match(r.stderr, /exactly one of --data <dir> or --synthetic/);
  r = run('train', '--synthetic', '--config', '/nonexistent/c.json');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--config: cannot read/);
  r = run('train', '--synthetic', '--lr', 'fast');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--lr expects a number/);
  r = run('train', '--data', '/nonexistent/dataset', '--epochs', '1');
  assert.is(r.status, 1);
  assert.not.match(r.stderr, /\n\s+at /);
});

test.run();
