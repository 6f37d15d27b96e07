/**
 * Which kernel build to run. wasm/build holds four (wasm/build.js): plain SIMD or relaxed SIMD (fused
 * multiply-add), each with its own memory or over an imported shared memory for worker threads.
 */

export type SimdLevel = 'plain' | 'relaxed';

/** A module that takes f32x4.relaxed_madd: validates only where the runtime has relaxed SIMD. */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128, v128, v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // madd(a, b, c)
]);

/** Whether this runtime runs relaxed SIMD (Deno, browsers, workerd; Node 20 with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  try { return WebAssembly.validate(RELAXED_PROBE); } catch { return false; }
}

/** Whether a module imports its memory, i.e. is a threaded build. */
export function importsMemory(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
}

/** The pages a threaded build's imported memory starts with and may grow to (asconfig.json). */
export const SHARED_MEMORY = { initial: 16, maximum: 65536 };

/** wasm/build/kernels[.mt][-relaxed|.relaxed].wasm next to the sources (tsx) or above dist/ (compiled). */
export async function loadKernelFile(threaded: boolean, simd: SimdLevel): Promise<Uint8Array> {
  const name = threaded ? (simd === 'relaxed' ? 'kernels.mt-relaxed.wasm' : 'kernels.mt.wasm')
    : (simd === 'relaxed' ? 'kernels.relaxed.wasm' : 'kernels.wasm');
  const { readFile } = await import('node:fs/promises');
  let lastError: unknown;
  for (const dir of ['../../wasm/build/', '../../../wasm/build/']) {
    try { return await readFile(new URL(dir + name, import.meta.url)); } catch (e) { lastError = e; }
  }
  throw new Error(`wasm backend: cannot load wasm/build/${name} (run npm run build:wasm): ${String(lastError)}`);
}
