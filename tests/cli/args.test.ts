// The flag parser in-process: forms of flags, types, defaults and usage errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFlags, parseFlags, UsageError } from '../../ts-api/cli/args.js';

const spec = {
  batchSize: { type: 'int', default: 2000, min: 1, description: 'rows per batch' },
  lr: { type: 'number', description: 'learning rate' },
  name: { type: 'string', choices: ['a', 'b'], default: 'a', description: 'which' },
  quick: { type: 'boolean', description: 'smaller', hidden: true },
  ks: { type: 'list', default: ['20'], description: 'cut-offs' },
} as const;

const parse = (...argv: string[]) => parseFlags(argv, spec, 'test');

test('defaults fill absent flags', () => {
  const { flags, args } = parse();
  assert.equal(flags, { batchSize: 2000, lr: undefined, name: 'a', quick: false, ks: ['20'] });
  assert.equal(args, []);
});

test('kebab-case, =value, negative numbers, booleans, lists and positionals', () => {
  const { flags, args } = parse('ops', '--batch-size', '512', '--lr=-0.5', '--quick', '--ks', '10,50', '--ks=100', '--name=b', '--', '--not-a-flag');
  assert.equal(flags, { batchSize: 512, lr: -0.5, name: 'b', quick: true, ks: ['10', '50', '100'] });
  assert.equal(args, ['ops', '--not-a-flag']);
  assert.is(parse('--quick=false').flags.quick, false);
  assert.is(parse('--quick', '--no-quick').flags.quick, false);
});

test('usage errors name the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--nope'], /unknown flag --nope/],
    [['--nope=1'], /unknown flag --nope for/],
    [['-x'], /unknown flag -x/],
    [['--batch-size', '1.5'], /--batch-size expects an integer/],
    [['--batch-size', '0'], /--batch-size must be at least 1/],
    [['--lr', 'fast'], /--lr expects a number/],
    [['--lr'], /--lr needs a value/],
    [['--name', 'c'], /--name must be one of a, b/],
    [['--quick=maybe'], /--quick is a boolean flag/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parse(...argv), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(' '));
  }
});

test('help text lists visible flags with their defaults', () => {
  const help = formatFlags(spec);
  assert.match(help, /--batch-size <int>\s+rows per batch \(default 2000\)/);
  assert.match(help, /--name <a\|b>/);
  assert.not.match(help, /--quick/);
});

test.run();
