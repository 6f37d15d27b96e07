// The workerd test's module worker: the kernels and the artifact are modules next to the bundle.
import wasm from './kernels.wasm';
import artifact from './model.artifact';
import { createWorker } from '../../ts-api/serve/worker.js';

export default createWorker(async () => ({ artifact, wasm }));
