/**
 * A small, dependency-free flag parser. One typed spec per command drives both parsing and help text.
 *
 * Spec keys are camelCase and become kebab-case flags: `batchSize` → `--batch-size 2000` or
 * `--batch-size=2000`. Booleans take no value (`--quick`, `--quick=false`, `--no-quick`); lists take
 * comma-separated values and may repeat (`--ks 10,20 --ks 50`). `--` ends the flags.
 *
 * @example
 * const spec = { batchSize: { type: 'int', default: 2000, min: 1, description: 'rows per batch' } } as const;
 * const { flags, args } = parseFlags(['--batch-size', '512', 'x'], spec, 'train');   // flags.batchSize: number
 */

/** A mistake in the command line: reported as `infodcl: <message>` with exit code 2. */
export class UsageError extends Error {}

interface FlagBase { description: string; hidden?: boolean; placeholder?: string }
export type Flag = FlagBase & (
  | { type: 'number' | 'int'; default?: number; min?: number; max?: number }
  | { type: 'string'; default?: string; choices?: readonly string[] }
  | { type: 'boolean'; default?: boolean }
  | { type: 'list'; default?: readonly string[] }
);
export type FlagSpec = Record<string, Flag>;

type ValueOf<F extends Flag> =
  F extends { type: 'number' | 'int' } ? number
  : F extends { type: 'boolean' } ? boolean
  : F extends { type: 'list' } ? string[]
  : F extends { choices: readonly (infer C)[] } ? C
  : string;

/** Parsed values: a flag without a default is `undefined` when absent (booleans: false, lists: []). */
export type Flags<S extends FlagSpec> = {
  [K in keyof S]: ValueOf<S[K]> | (S[K] extends { default: unknown } | { type: 'boolean' | 'list' } ? never : undefined)
};

/** Short aliases of long flags (used where the command has that flag). */
const SHORT: Record<string, string> = { '-h': 'help', '-k': 'k' };

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S, command: string): { flags: Flags<S>; args: string[] } {
  const byName = new Map(Object.entries(spec).map(([key, flag]) => [kebab(key), { key, flag }]));
  const values: Record<string, unknown> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') { args.push(...argv.slice(i + 1)); break; }
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) { args.push(token); continue; }
    const eq = token.indexOf('=');
    const short = SHORT[eq < 0 ? token : token.slice(0, eq)];
    let name = short ?? token.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    let negated = false;
    if (!byName.has(name) && name.startsWith('no-') && byName.get(name.slice(3))?.flag.type === 'boolean' && inline === undefined) {
      name = name.slice(3);
      negated = true;
    }
    const entry = token.startsWith('--') || short ? byName.get(name) : undefined;
    if (!entry) throw new UsageError(`unknown flag ${eq < 0 ? token : token.slice(0, eq)} for "${command}" (see infodcl ${command} --help)`);
    const { key, flag } = entry;
    if (flag.type === 'boolean') {
      values[key] = negated ? false : inline === undefined ? true : parseBoolean(name, inline);
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    values[key] = flag.type === 'list'
      ? [...(values[key] as string[] ?? []), ...raw.split(',').filter((s) => s !== '')]
      : convert(name, flag, raw);
  }
  for (const [key, flag] of Object.entries(spec)) {
    if (key in values) continue;
    values[key] = flag.type === 'list' ? [...(flag.default ?? [])] : flag.default ?? (flag.type === 'boolean' ? false : undefined);
  }
  return { flags: values as Flags<S>, args };
}

function parseBoolean(name: string, raw: string): boolean {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new UsageError(`--${name} is a boolean flag, got "${raw}"`);
}

function convert(name: string, flag: Flag, raw: string): number | string {
  if (flag.type === 'string') {
    if (flag.choices && !flag.choices.includes(raw)) throw new UsageError(`--${name} must be one of ${flag.choices.join(', ')} (got "${raw}")`);
    return raw;
  }
  if (flag.type !== 'number' && flag.type !== 'int') throw new Error(`convert: unexpected flag type ${flag.type}`);
  const n = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(n) || (flag.type === 'int' && !Number.isInteger(n))) {
    throw new UsageError(`--${name} expects ${flag.type === 'int' ? 'an integer' : 'a number'}, got "${raw}"`);
  }
  if (flag.min !== undefined && n < flag.min) throw new UsageError(`--${name} must be at least ${flag.min} (got ${n})`);
  if (flag.max !== undefined && n > flag.max) throw new UsageError(`--${name} must be at most ${flag.max} (got ${n})`);
  return n;
}

/** Help lines for the visible flags of `spec`, aligned in two columns. */
export function formatFlags(spec: FlagSpec): string {
  const rows = Object.entries(spec).filter(([, f]) => !f.hidden).map(([key, f]) => {
    const value = f.type === 'boolean' ? ''
      : ` <${f.placeholder ?? (f.type === 'string' && f.choices ? f.choices.join('|') : f.type)}>`;
    const fallback = f.default === undefined || f.default === false ? ''
      : ` (default ${Array.isArray(f.default) ? f.default.join(',') : f.default})`;
    return [`--${kebab(key)}${value}`, `${f.description}${fallback}`];
  });
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}
