/**
 * Backends by name, loaded lazily so that a bundle only pulls in the backends it uses (an edge bundle
 * never touches the native WebGPU addon).
 *
 * @example
 * setBackend(await createBackend('wasm'));
 * setBackend(await createBackend('auto', { log: console.error })); // WebGPU on a real GPU, else wasm
 */
import type { Backend } from '../engine/backend.js';

export type BackendName = 'reference' | 'wasm' | 'webgpu';
export const BACKEND_NAMES: readonly BackendName[] = ['reference', 'wasm', 'webgpu'];

export interface CreateBackendOptions {
  /** Told which backend `auto` chose and why. */
  log?: (message: string) => void;
  /**
   * wasm: worker threads sharing the kernels' memory (default: every core the runtime reports, at most 8;
   * 1 where the runtime has no threads, e.g. workerd). Results are the same bits for any count.
   */
  threads?: number;
}

export async function createBackend(name: string, opts: CreateBackendOptions = {}): Promise<Backend> {
  switch (name) {
    case 'reference': return (await import('./reference/index.js')).createReferenceBackend();
    case 'wasm': return (await import('./wasm/index.js')).createWasmBackend({ threads: opts.threads });
    case 'webgpu': return (await import('./webgpu/index.js')).createWebGpuBackend();
    case 'auto': {
      // WebGPU only on a hardware adapter: a software one (lavapipe, SwiftShader) is slower than wasm.
      try {
        const b = await (await import('./webgpu/index.js')).createWebGpuBackend({ allowFallback: false });
        opts.log?.(`backend auto: webgpu (${b.adapterInfo.description || b.adapterInfo.vendor || 'hardware adapter'})`);
        return b;
      } catch (e) {
        opts.log?.(`backend auto: wasm (${e instanceof Error ? e.message : String(e)})`);
        return createBackend('wasm', opts);
      }
    }
    default:
      throw new Error(`unknown backend "${name}": choose one of ${[...BACKEND_NAMES, 'auto'].join(', ')}`);
  }
}
