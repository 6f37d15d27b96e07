// Conformance of the layout ops: reshape, permute, transpose, slice, pad, concat, broadcastTo.
// Data movement must be exact, values and gradients.
import { broadcastTo, concat, pad, permute, reshape, slice, transpose } from '../../engine/index.js';
import { ACCUM, EXACT, runConformance, type Case, type OpDef } from './harness.js';

const normal = { kind: 'normal' } as const;
const ops: Record<string, OpDef> = {
  reshape: { inputs: [normal], run: ([x], c) => reshape(x, c.args!.to as number[]) },
  permute: { inputs: [normal], run: ([x], c) => permute(x, c.args!.perm as number[]) },
  transpose: { inputs: [normal], run: ([x]) => transpose(x) },
  slice: { inputs: [normal], run: ([x], c) => slice(x, c.args!.begin as number[], c.args!.size as number[]) },
  pad: { inputs: [normal], run: ([x], c) => pad(x, c.args!.begin as number[], c.args!.to as number[]) },
  broadcastTo: { inputs: [normal], run: ([x], c) => broadcastTo(x, c.args!.to as number[]) },
  concat: { inputs: (c) => c.shapes.map(() => normal), run: (xs, c) => concat(xs, c.args!.axis as number) },
};

let seed = 2000;
const cases: Case[] = [];
// Values move exactly; the gradient of broadcastTo sums over the broadcast axes (an accumulation).
const add = (op: string, shapes: number[][], args?: Record<string, unknown>) =>
  cases.push({ op, shapes, seed: seed++, tol: EXACT, gradTol: op === 'broadcastTo' ? ACCUM : EXACT, args });

add('reshape', [[6, 256]], { to: [256, 6] });
add('reshape', [[257]], { to: [1, 257, 1] });
add('reshape', [[3, 4, 5]], { to: [-1, 5] });
add('reshape', [[64]], { to: [4, 4, 4] });
add('reshape', [[1]], { to: [] });

add('permute', [[3, 4, 5]], { perm: [2, 0, 1] });
add('permute', [[3, 4, 5]], { perm: [1, 0, 2] });
add('permute', [[3, 4, 5]], { perm: [0, 2, 1] });
add('permute', [[6, 256]], { perm: [1, 0] });
add('permute', [[2, 3, 4, 5]], { perm: [3, 1, 0, 2] });
add('permute', [[5, 1, 63]], { perm: [2, 1, 0] });
add('permute', [[2, 65, 3]], { perm: [0, 1, 2] });

for (const shape of [[1, 1], [3, 5], [4, 4], [63, 65], [65, 63], [64, 64], [6, 256], [257, 3], [5, 64, 3], [2, 3, 65]]) add('transpose', [shape]);

add('slice', [[6, 256]], { begin: [1, 3], size: [4, 250] });
add('slice', [[257]], { begin: [5], size: [-1] });
add('slice', [[257]], { begin: [0], size: [1] });
add('slice', [[64]], { begin: [0], size: [64] });
add('slice', [[65]], { begin: [1], size: [63] });
add('slice', [[3, 65, 5]], { begin: [0, 1, 1], size: [3, 63, 4] });
add('slice', [[6, 256]], { begin: [5, 0], size: [1, -1] });
add('slice', [[6, 256]], { begin: [0, 255], size: [-1, 1] });
add('slice', [[6, 256]], { begin: [2, 0], size: [0, 256] }); // empty result

add('pad', [[4, 250]], { begin: [1, 3], to: [6, 256] });
add('pad', [[63]], { begin: [1], to: [65] });
add('pad', [[1]], { begin: [256], to: [257] });
add('pad', [[3, 3, 3]], { begin: [1, 0, 2], to: [4, 5, 6] });
add('pad', [[5, 64]], { begin: [0, 0], to: [5, 64] });

add('concat', [[3, 64], [1, 64], [5, 64]], { axis: 0 });
add('concat', [[6, 63], [6, 1], [6, 65]], { axis: 1 });
add('concat', [[2, 3, 4], [2, 3, 1]], { axis: -1 });
add('concat', [[2, 3, 4], [2, 5, 4]], { axis: 1 });
add('concat', [[257]], { axis: 0 });
add('concat', [[128], [129]], { axis: 0 });
add('concat', [[6, 128], [6, 128]], { axis: 1 });

add('broadcastTo', [[256]], { to: [6, 256] });
add('broadcastTo', [[6, 1]], { to: [6, 256] });
add('broadcastTo', [[]], { to: [65] });
add('broadcastTo', [[1, 3, 1]], { to: [4, 3, 5] });
add('broadcastTo', [[63, 1]], { to: [2, 63, 65] });
add('broadcastTo', [[5]], { to: [5] });
add('broadcastTo', [[1]], { to: [257] });

await runConformance(ops, cases);
