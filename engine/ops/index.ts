export * from './create.js';
export * from './elementwise.js';
export * from './layout.js';
export * from './reduce.js';
export * from './linalg.js';
export * from './fused.js';
