/**
 * Backends by name, loaded lazily so that a bundle only pulls in the backends it uses (an edge bundle
 * never touches the native WebGPU addon).
 *
 * @example
 * setBackend(await createBackend('wasm'));
 */
import type { Backend } from '../engine/backend.js';

export type BackendName = 'reference' | 'wasm';
export const BACKEND_NAMES: readonly BackendName[] = ['reference', 'wasm'];

export async function createBackend(name: string): Promise<Backend> {
  switch (name) {
    case 'reference': return (await import('./reference/index.js')).createReferenceBackend();
    case 'wasm': return (await import('./wasm/index.js')).createWasmBackend();
    case 'auto': return createBackend('wasm');
    default:
      throw new Error(`unknown backend "${name}": choose one of ${[...BACKEND_NAMES, 'auto'].join(', ')}`);
  }
}
