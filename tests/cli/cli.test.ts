// The infodcl command line, run as users run it: `node bin/infodcl.js ...` in a child process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli as cli, type Run } from '../cli-run.js';




// Every run starts at once (child processes in parallel, each pays tsx's start-up); tests await theirs.
const runs = {
  help: cli('--help'),
  unknownCommand: cli('frobnicate'),
  unknownFlag: cli('bench', 'ops', '--bogus-flag=3'),
  badBackend: cli('bench', 'ops', '--backend', 'cuda'),
  benchJson: cli('bench', 'ops', '--backend', 'reference', '--quick', '--json', '--repeat', '1', '--warmup', '1', '--threads', '2'),
};

const noStack = (r: Run) => assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');

test('--help lists the commands and exits 0', async () => {
  const r = await runs.help;
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: infodcl <command>/);
  assert.match(r.stdout, /^\s+bench\s/m);
  assert.match(r.stdout, /--backend/);
});

test('an unknown command is one line on stderr, exit 2', async () => {
  const r = await runs.unknownCommand;
  assert.is(r.code, 2);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^infodcl: unknown command "frobnicate"/);
});

test('an unknown flag is named, exit 2', async () => {
  const r = await runs.unknownFlag;
  assert.is(r.code, 2);
  assert.match(r.stderr, /^infodcl: unknown flag --bogus-flag\b/);
  noStack(r);
});

test('a bad backend name is a clear usage error', async () => {
  const r = await runs.badBackend;
  assert.is(r.code, 2);
  assert.match(r.stderr, /^infodcl: --backend must be one of .*reference.*\(got "cuda"\)/);
  noStack(r);
});

test('bench ops --json prints only a JSON array of rows', async () => {
  const r = await runs.benchJson;
  assert.is(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.ok(Array.isArray(rows) && rows.length >= 8, r.stdout);
  for (const row of rows) {
    assert.equal(Object.keys(row).sort(), ['backend', 'gflops', 'medianMs', 'op', 'shape', 'threads', 'variant']);
    assert.is(row.backend, 'reference');
    assert.is(row.threads, 1); // --threads 2 asks the wasm backend only; the reference one has a single thread
    assert.ok(row.shape.every(Number.isInteger), `shape ${row.shape}`);
    assert.ok(row.medianMs >= 0);
    assert.ok(row.gflops === null || row.gflops > 0);
  }
  const variants = rows.filter((x: { op: string }) => x.op === 'matmul').map((x: { variant: string }) => x.variant);
  assert.ok(['NN', 'NT', 'TN'].every((v) => variants.includes(v)), `matmul variants ${variants}`);
  assert.ok(rows.some((x: { op: string }) => x.op.startsWith('spmm')));
});

test.run();
