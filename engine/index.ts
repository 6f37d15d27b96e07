/**
 * The engine's public API: tensors, ops, autodiff, memory scopes, randomness, nn blocks and Adam.
 *
 * @example
 * import { setBackend, tensor, matmul, sum, valueAndGrads, tidy } from './engine/index.js';
 * import { createBackend } from './backends/index.js';
 * setBackend(await createBackend('wasm'));
 * const w = tensor([1, 2, 3, 4], [2, 2]);
 * const { value, grads: [dw] } = valueAndGrads(() => sum(matmul(w, w)), [w]);
 */
export type { Backend, DType, Storage } from './backend.js';
export { Tensor, tidy, keep, liveTensors, setBackend, getBackend } from './tensor.js';
export { valueAndGrads, type ValueAndGrads } from './tape.js';
export * from './ops/index.js';
export { svd, symmetricEigen, type Svd } from './linalg/svd.js';
export { Random, philox, type RandomState } from './random.js';
export { Module } from './nn/module.js';
export { Linear, Embedding, LayerNorm, dropout, dropoutMask, l2Normalize, type LinearBlock } from './nn/layers.js';
export { MultiheadAttention, TransformerEncoderLayer } from './nn/transformer.js';
export { Adam, type AdamOptions, type AdamSlotState } from './optim/adam.js';
export * from './shape.js';
