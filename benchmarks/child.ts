/**
 * Benchmarks that need a fresh process per engine or per case (bench compare, bench scaling): the parent
 * forks a sibling module with JSON options, the child sends back one result over IPC.
 *
 * The child's stdout is forwarded to the parent's stderr, so nothing a library prints in the child can
 * reach the parent's stdout (which carries only the JSON result with --json); its stderr is inherited.
 * From the sources (tsx) the child is the sibling `.ts` file run with tsx's loader; from dist/ the `.js`.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Message<R> = { type: 'result'; result: R } | { type: 'error'; message: string };

/** Runs `<dir of parentUrl>/<name>.ts|.js` with `options` and resolves with the result it sends. */
export function runChild<R>(parentUrl: string, name: string, options: unknown, nodeFlags: string[] = []): Promise<R> {
  const parent = fileURLToPath(parentUrl);
  const fromSource = parent.endsWith('.ts');
  const file = join(dirname(parent), `${name}${fromSource ? '.ts' : '.js'}`);
  if (!existsSync(file)) return Promise.reject(new Error(`benchmark child ${file} is missing`));
  // Node 20 runs relaxed SIMD (the wasm backend's fused multiply-add build) behind a flag, as the CLI sets it
  const relaxed = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [];
  const execArgv = [...relaxed, ...nodeFlags, ...(fromSource ? ['--import', import.meta.resolve('tsx')] : [])];
  return new Promise((resolve, reject) => {
    const child = fork(file, [JSON.stringify(options)], { execArgv, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    child.stdout!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    let message: Message<R> | null = null;
    child.on('message', (m) => { message = m as Message<R>; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const m = message as Message<R> | null;
      if (m?.type === 'result' && code === 0) resolve(m.result);
      else if (m?.type === 'error') reject(new Error(m.message));
      else reject(new Error(`${name} child ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before sending a result`));
    });
  });
}

/**
 * The child side: parses the options, runs `fn`, sends its result (or a one-line error) and exits.
 * Call it at the top level of the child module.
 */
export function childMain<O, R>(fn: (options: O) => Promise<R>): void {
  if (!process.send) throw new Error('this module is a benchmark child: run it through its benchmark (infodcl bench …)');
  const send = (m: Message<R>) => new Promise<void>((done) => process.send!(m, () => done()));
  void (async () => {
    try {
      await send({ type: 'result', result: await fn(JSON.parse(process.argv[2] ?? '{}') as O) });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (process.env.INFODCL_DEBUG === '1') console.error(e);
      await send({ type: 'error', message });
      process.exit(1);
    }
    // Exit at once: worker threads or timers an engine leaves behind must not keep the child alive.
    process.exit(0);
  })();
}
