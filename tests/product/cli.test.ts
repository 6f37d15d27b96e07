// The product commands as users run them (child processes): export, info, recommend, eval, serve, demo,
// and one clear line with a non-zero exit for bad flags, missing or corrupt files and unknown ids.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot as root, runCli as spawnCli, type Run } from '../cli-run.js';
import { Random, setBackend } from '../../engine/index.js';
import { createReferenceBackend } from '../../backends/reference/index.js';
import { saveCheckpoint } from '../../ts-api/checkpoint/index.js';
import { writeDataset } from '../../ts-api/data/dataset.js';
import { generateSynthetic } from '../../ts-api/data/synthetic.js';
import { splitCsr } from '../../ts-api/eval/evaluate.js';
import { resolveConfig } from '../../ts-api/infodcl/config.js';
import { InfoDCL } from '../../ts-api/infodcl/model.js';
import { main } from '../../ts-api/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'infodcl-cli-'));
const ckpt = join(dir, 'm.ckpt');
const art = join(dir, 'm.artifact');

// A small dataset folder and an (untrained) checkpoint of it.
setBackend(createReferenceBackend());
const ds = generateSynthetic({ nUser: 60, nItem: 40, seed: 3 });
writeDataset(ds, join(dir, 'data'));
const config = resolveConfig({ dim: 8, steps: 10, seed: 3 });
const model = new InfoDCL(ds.nUser, ds.nItem, config, new Random(3));
await saveCheckpoint(ckpt, { model, config, epoch: 0, rawUserIds: ds.rawUserIds, rawItemIds: ds.rawItemIds, trainItems: splitCsr(ds, ds.train), dataset: 'small' });
writeFileSync(join(dir, 'corrupt.ckpt'), (() => { const b = readFileSync(ckpt); b[b.length - 5] ^= 0xff; return b; })());



/** The same through main() in this process (no start-up cost); calls run one at a time. */
let queue = Promise.resolve();
function cli(...args: string[]): Promise<Run> {
  const run = queue.then(async () => {
    const out = { stdout: '', stderr: '' };
    const [w1, w2] = [process.stdout.write, process.stderr.write];
    process.stdout.write = ((c: string) => { out.stdout += c; return true; }) as typeof w1;
    process.stderr.write = ((c: string) => { out.stderr += c; return true; }) as typeof w2;
    try {
      return { code: await main(args), ...out };
    } finally {
      [process.stdout.write, process.stderr.write] = [w1, w2];
    }
  });
  queue = run.then(() => {}, () => {});
  return run;
}
const B = ['--backend', 'reference'];
const user = ds.rawUserIds[5];

/** One line on stderr, no stack trace, the given exit code. */
function oneLine(r: Run, code: number, re: RegExp) {
  assert.is(r.code, code, r.stderr);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
  assert.not.match(r.stderr, /\n\s+at /);
}

const exported = cli('export', '--model', ckpt, '--out', art, '--json', ...B);
const runs = {
  evalCkpt: cli('eval', '--model', ckpt, '--data', join(dir, 'data'), '--json', ...B),
  evalWrongData: cli('eval', '--model', ckpt, '--synthetic', ...B),
  recCkpt: cli('recommend', '--model', ckpt, '--user', String(user), '-k', '5', '--json', ...B),
  demo: cli('demo', '--quick', '--epochs', '1', '--baseline-epochs', '2', '--out', join(dir, 'demo'), '--json', '--backend', 'wasm'),
  errors: Promise.all([
    cli('recommend', '--model', ckpt, ...B),
    spawnCli('recommend', '--model', ckpt, '--user', '999999', ...B),
    cli('recommend', '--model', join(dir, 'corrupt.ckpt'), '--user', '1', ...B),
    cli('recommend', '--model', join(dir, 'missing.ckpt'), '--user', '1', ...B),
    cli('recommend', '--model', ckpt, '--user', '1', '-k', 'many'),
    cli('info'),
    cli('export', '--model', ckpt),
    cli('eval', '--model', ckpt, '--bogus'),
    cli('serve', '--model', join(dir, 'missing.artifact'), ...B),
  ]),
};

test('export writes an artifact; info describes both files', async () => {
  const e = await exported;
  assert.is(e.code, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout), { out: art, bytes: readFileSync(art).length, users: 60, items: 40, dim: 8, epoch: 0 });
  const [ia, ic] = await Promise.all([cli('info', art, '--json'), cli('info', ckpt)]);
  assert.is(ia.code, 0, ia.stderr);
  const info = JSON.parse(ia.stdout);
  assert.is(info.kind, 'artifact');
  assert.is(info.formatVersion, 1);
  assert.is(info.trainInteractions, ds.train.users.length);
  assert.match(ic.stdout, /InfoDCL checkpoint \(format 1, \d+ bytes, crc32 [0-9a-f]{8}\)/);
  assert.match(ic.stdout, /60 users, 40 items/);
  assert.match(ic.stdout, /not resumable/);
});

test('recommend: the same JSON from the checkpoint and the artifact, seen items left out', async () => {
  const [fromCkpt, fromArt, withSeen] = [await runs.recCkpt, await cli('recommend', '--model', art, '--user', String(user), '--k', '5', ...B),
    await cli('recommend', '--model', art, '--user', String(user), '-k', '40', '--include-seen', '--json', ...B)];
  assert.is(fromCkpt.code, 0, fromCkpt.stderr);
  const a = JSON.parse(fromCkpt.stdout);
  assert.equal(JSON.parse(fromArt.stdout), a, 'rendered output is the same JSON');
  assert.is(a.user, user);
  assert.is(a.items.length, 5);
  const seen = new Set<number>();
  const u = 5;
  for (let k = 0; k < ds.train.users.length; k++) if (ds.train.users[k] === u) seen.add(ds.rawItemIds[ds.train.items[k]]);
  assert.ok(a.items.every((x: { item: number }) => !seen.has(x.item)), 'no train item');
  assert.ok(a.items.every((x: { score: number }, j: number) => x.score > 0 && x.score < 1 && (j === 0 || x.score <= a.items[j - 1].score)));
  assert.is(JSON.parse(withSeen.stdout).items.length, 40, 'every item with --include-seen');
});

test('eval: metrics on the dataset folder; the wrong dataset is refused', async () => {
  const r = await runs.evalCkpt;
  assert.is(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  for (const s of ['valid', 'test']) for (const k of ['recall@20', 'ndcg@20', 'mrr@10']) assert.ok(m[s][k] >= 0 && m[s][k] <= 1, `${s} ${k}`);
  const fromArt = await cli('eval', '--model', art, '--data', join(dir, 'data'), '--json', ...B);
  assert.equal(JSON.parse(fromArt.stdout).test, m.test, 'the artifact evaluates as the checkpoint');
  oneLine(await runs.evalWrongData, 1, /is not the dataset .* was trained on/);
});

test('errors: one line, non-zero exit, no stack trace', async () => {
  const [noUser, unknownUser, corrupt, missing, badK, infoNoFile, exportNoOut, bogus, serveMissing] = await runs.errors;
  oneLine(noUser, 2, /--user <raw id> is required/);
  oneLine(unknownUser, 1, /^infodcl: unknown user 999999/);
  oneLine(corrupt, 1, /corrupt\.ckpt: checksum mismatch/);
  oneLine(missing, 1, /cannot read .*missing\.ckpt: no such file/);
  oneLine(badK, 2, /--k expects an integer, got "many"/);
  oneLine(infoNoFile, 2, /info: name a file/);
  oneLine(exportNoOut, 2, /--model <ckpt> and --out <file> are required/);
  oneLine(bogus, 2, /unknown flag --bogus/);
  oneLine(serveMissing, 1, /cannot read .*missing\.artifact/);
});

test('serve: listens on 127.0.0.1, answers, and stops on SIGTERM with exit 0', async () => {
  await exported;
  const child = spawn(process.execPath, ['bin/infodcl.js', 'serve', '--model', art, '--port', '0', ...B], { cwd: root, env: { ...process.env, INFODCL_FROM_SOURCE: '1' } });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const closed = new Promise<number | null>((done) => child.on('close', done));
  try {
    const url = await new Promise<string>((done, fail) => {
      child.stderr.on('data', () => { const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr); if (m) done(m[1]); });
      child.on('close', () => fail(new Error(`serve exited: ${stderr}`)));
    });
    const h = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
    assert.equal(await h.json(), { status: 'ok', users: 60, items: 40, version: 1 });
    const r = await fetch(`${url}/recommend?user=${user}&k=5`, { signal: AbortSignal.timeout(5000) });
    assert.equal(await r.json(), JSON.parse((await runs.recCkpt).stdout));
    assert.is((await fetch(`${url}/recommend?user=999999`, { signal: AbortSignal.timeout(5000) })).status, 404);
  } finally {
    child.kill('SIGTERM');
    assert.is(await closed, 0, stderr);
    clearTimeout(killer);
  }
  assert.match(stderr, /server stopped/);
});

test('demo --quick: the comparison, a checkpoint, an artifact and a recommendation', async () => {
  const r = await runs.demo;
  assert.is(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.equal(d.rows.map((x: { model: string }) => x.model), ['MostPop', 'MF-BPR', 'InfoDCL']);
  for (const row of d.rows) assert.ok(row.test['recall@20'] >= 0 && row.test['ndcg@20'] >= 0);
  assert.type(d.infodclWins, 'boolean');
  assert.ok(existsSync(d.checkpoint) && existsSync(d.artifact));
  assert.is(d.recommendation.items.length, 10);
});

test.after(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
