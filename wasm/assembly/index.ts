// Kernel entry points. The TypeScript side (backends/wasm) owns all memory: it allocates every buffer and
// scratch area and passes raw byte pointers; nothing here allocates.
export * from './matmul';
export * from './elementwise';
export * from './rows';
export * from './sparse';
export * from './optim';
export * from './fused';
export * from './philox';
export * from './normal';
export * from './eigen';
export * from './gram';
export { LOCAL_BYTES, setLocal } from './local';

/** First byte after static data: the JS allocator hands out memory from here on. */
export function heapBase(): usize { return __heap_base; }
