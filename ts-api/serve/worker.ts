/**
 * A module worker (Cloudflare Workers, workerd) serving the handler. The artifact and the kernels come in as
 * modules the bundler leaves external, so the worker has no file system to read and no network to fetch.
 * The first request builds the recommender (WASM backend from the given module); later requests reuse it.
 *
 * @example
 * // worker.ts, bundled with esbuild (external: *.wasm, *.artifact):
 * import wasm from './kernels.wasm';          // WebAssembly.Module
 * import artifact from './model.artifact';    // ArrayBuffer (a "data" module)
 * export default createWorker(async () => ({ artifact, wasm }));
 */
import { createWasmBackend } from '../../backends/wasm/index.js';
import { createHandler } from './handler.js';
import { createRecommender } from './recommender.js';

export interface WorkerModules { artifact: ArrayBuffer | Uint8Array; wasm?: WebAssembly.Module }

export function createWorker(load: () => Promise<WorkerModules>): { fetch(req: Request): Promise<Response> } {
  let handler: Promise<(req: Request) => Promise<Response>> | null = null;
  const init = async () => {
    const { artifact, wasm } = await load();
    const backend = wasm ? await createWasmBackend({ module: wasm }) : undefined;
    return createHandler(await createRecommender(artifact instanceof Uint8Array ? artifact : new Uint8Array(artifact), { backend }));
  };
  return {
    async fetch(req) {
      handler ??= init();
      try {
        return await (await handler)(req);
      } catch {
        handler = null;   // a failed start is retried by the next request
        return new Response(JSON.stringify({ error: 'the recommender failed to start' }), { status: 503, headers: { 'content-type': 'application/json' } });
      }
    },
  };
}
