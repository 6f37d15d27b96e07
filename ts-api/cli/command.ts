/** What a command is, the flags every command shares, and the context a command runs in. */
import type { Backend } from '../../engine/backend.js';
import { createBackend } from '../../backends/index.js';
import { type Flags, type FlagSpec } from './args.js';

export const GLOBAL_FLAGS = {
  backend: { type: 'string', default: 'auto', choices: ['auto', 'wasm', 'webgpu', 'reference'], description: 'compute backend' },
  threads: { type: 'int', min: 1, description: 'wasm threads, this one included (default: every core, at most 8)' },
  json: { type: 'boolean', description: 'print only JSON on stdout (messages go to stderr)' },
  help: { type: 'boolean', description: 'show this help' },
} as const satisfies FlagSpec;

export interface Context<S extends FlagSpec> {
  flags: Flags<S & typeof GLOBAL_FLAGS>;
  /** Positional arguments after the command name. */
  args: string[];
  /** Progress and messages: always stderr, so stdout stays clean for results. */
  log(message: string): void;
  /**
   * Creates the backend chosen by --backend and makes it the engine's active one; `threads` goes to the
   * wasm backend (worker threads). The first call creates it: later calls return the same backend.
   */
  useBackend(): Promise<Backend>;
}

export interface Command<S extends FlagSpec = FlagSpec, R = unknown> {
  /** One line, shown in the top-level command list. */
  summary: string;
  /** Positional part of the usage line, e.g. `ops` for `infodcl bench ops [flags]`. */
  usage?: string;
  /** Longer text for `infodcl <command> --help`. */
  description?: string;
  flags: S;
  /** Does the work; the result is printed as JSON with --json, else through `render`. */
  run(ctx: Context<S>): Promise<R>;
  /** Human-readable stdout for the result. */
  render?(result: R): string;
}

/** Identity helper that keeps the literal flag types, so `ctx.flags` is fully typed. */
export function defineCommand<const S extends FlagSpec, R>(command: Command<S, R>): Command<S, R> {
  return command;
}

/**
 * `auto` prefers the fastest backend that loads here (WebGPU on a hardware adapter, else wasm; the choice
 * is reported through `log`, i.e. on stderr) and falls back to the reference one.
 */
export async function openBackend(name: string, log: (message: string) => void, threads?: number): Promise<Backend> {
  try {
    return await createBackend(name, { log, threads });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (name !== 'auto') throw new Error(`could not load the ${name} backend: ${why}`, { cause: e });
    log(`auto backend unavailable (${why}); using the reference backend`);
    return createBackend('reference');
  }
}
