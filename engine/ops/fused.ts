/** Fused ops: one call that a backend may run as a single kernel, composed from the basic ops otherwise. */
import { fmt } from '../shape.js';
import { isRecording, record } from '../tape.js';
import { Tensor, tidy } from '../tensor.js';
import { checkDtype, sameBackend } from './check.js';
import { gatherRows, matmul } from './linalg.js';
import { mul, sub } from './elementwise.js';
import { logSumExp, sum } from './reduce.js';

/**
 * Per row i of `queries` [B, d]: −log softmax_j(q_i·k_j)[t_i] over every row j of `keys` [N, d]
 * (InfoNCE / sampled-softmax loss with all keys as candidates), returned as [B].
 * Backends with a fused kernel stream over the keys and never build the [B, N] score matrix.
 *
 * @example
 * const loss = sum(dotCrossEntropy(affine(views, 1 / tau), items, positives));
 */
export function dotCrossEntropy(queries: Tensor, keys: Tensor, targets: Tensor): Tensor {
  checkDtype(queries, 'f32', 'dotCrossEntropy', 'queries');
  checkDtype(keys, 'f32', 'dotCrossEntropy', 'keys');
  checkDtype(targets, 'i32', 'dotCrossEntropy', 'targets');
  sameBackend('dotCrossEntropy', queries, keys, targets);
  if (queries.rank !== 2 || keys.rank !== 2 || queries.shape[1] !== keys.shape[1] || targets.rank !== 1 || targets.size !== queries.shape[0]) {
    throw new Error(`dotCrossEntropy: need queries [B, d], keys [N, d], targets [B]; got ${fmt(queries.shape)}, ${fmt(keys.shape)}, ${fmt(targets.shape)}`);
  }
  const b = queries.backend;
  const [rows, d] = queries.shape;
  const n = keys.shape[0];
  if (!b.dotCrossEntropy || !b.dotCrossEntropyGrad) {
    return tidy(() => sub(logSumExp(matmul(queries, keys, { transB: true })), sum(mul(queries, gatherRows(keys, targets)), -1)));
  }
  // A forward on the tape keeps its scores where the backend can, for the gradient to skip recomputing them.
  const r = b.dotCrossEntropy(queries.storage, keys.storage, targets.storage, rows, n, d,
    isRecording() && (queries.requiresGrad || keys.requiresGrad));
  const loss = new Tensor(r.loss, [rows], 'f32', b);
  const saved = [new Tensor(r.lse, [rows], 'f32', b)];
  if (r.scores) saved.push(new Tensor(r.scores, [r.scores.size], 'f32', b));
  record('dotCrossEntropy', [queries, keys, targets], [loss, ...saved]);
  if (!loss.requiresGrad) saved.forEach((t) => t.dispose());
  return loss;
}
