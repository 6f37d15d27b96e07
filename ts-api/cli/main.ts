/**
 * The `infodcl` command line: `infodcl <command> [args] [flags]`. bin/infodcl.js calls `main`.
 *
 * Exit codes: 0 success, 1 runtime error, 2 usage error. Errors print as one `infodcl: <message>` line on
 * stderr; INFODCL_DEBUG=1 adds the stack trace.
 */
import { inspect } from 'node:util';
import type { Backend } from '../../engine/backend.js';
import { setBackend } from '../../engine/index.js';
import { formatFlags, parseFlags, UsageError, type FlagSpec } from './args.js';
import { GLOBAL_FLAGS, openBackend, type Command, type Context } from './command.js';
import { commands } from './commands/index.js';

const out = (text: string) => process.stdout.write(`${text}\n`);
const log = (text: string) => process.stderr.write(`${text}\n`);

export async function main(argv: readonly string[]): Promise<number> {
  let backend: Backend | null = null;
  const restoreConsole = console.log;
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
      (name === undefined ? log : out)(topLevelHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === 'help') return main([rest[0], '--help']);
    const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (!command) {
      throw new UsageError(name.startsWith('-')
        ? `expected a command before ${name} (run "infodcl --help")`
        : `unknown command "${name}" (run "infodcl --help" to list commands)`);
    }
    const { flags, args } = parseFlags(rest, { ...GLOBAL_FLAGS, ...command.flags }, name);
    if (flags.help) {
      out(commandHelp(name, command));
      return 0;
    }
    // With --json, stdout carries only the result: stray console.log output goes to stderr.
    if (flags.json) console.log = console.error;
    const ctx: Context<FlagSpec> = {
      flags, args, log,
      async useBackend(opts) {
        backend ??= await openBackend(flags.backend, log, opts);
        setBackend(backend);
        return backend;
      },
    };
    const result = await command.run(ctx);
    if (flags.json) {
      if (result !== undefined) out(JSON.stringify(result));
    } else if (command.render && result !== undefined) {
      out(command.render(result));
    }
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log(`infodcl: ${message}`);
    if (process.env.INFODCL_DEBUG === '1') log(inspect(e));   // stack and cause chain
    return e instanceof UsageError ? 2 : 1;
  } finally {
    console.log = restoreConsole;
    (backend as Backend | null)?.destroy();
  }
}

function topLevelHelp(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'Usage: infodcl <command> [flags]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${commands[n].summary}`),
    '',
    'Global flags:',
    formatFlags(GLOBAL_FLAGS),
    '',
    'Run "infodcl <command> --help" for the flags of a command.',
  ].join('\n');
}

function commandHelp(name: string, command: Command): string {
  const own = formatFlags(command.flags);
  return [
    `Usage: infodcl ${name}${command.usage ? ` ${command.usage}` : ''} [flags]`,
    '',
    command.description ?? command.summary,
    ...(own ? ['', 'Flags:', own] : []),
    '',
    'Global flags:',
    formatFlags(GLOBAL_FLAGS),
  ].join('\n');
}
