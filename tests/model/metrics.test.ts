// Top-K metrics against the reference's computeTopNAccuracy (golden `metrics` case) and SPEC §6.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadGolden } from '../golden.js';
import {
  batchedReferenceMetrics, computeTopNAccuracy, perUserMeanMetrics, pyRound, userMetricsAtK, type TopKMetrics,
} from '../../ts-api/eval/metrics.js';

const golden = loadGolden('metrics');
const indptr = golden.tensors['in.gt_indptr'].data;
const gtItems = golden.tensors['in.gt_items'].data;
const nUsers = indptr.length - 1;
const gts = Array.from({ length: nUsers }, (_, u) => gtItems.subarray(indptr[u], indptr[u + 1]));
const top = { data: golden.tensors['in.pred_top100'].data, n: 100 };
const NAMES = ['precision', 'recall', 'ndcg', 'mrr'] as const;

/** Every metric@K must equal the stored scalar exactly (bit for bit). */
function expectScalars(prefix: string, m: TopKMetrics): void {
  for (const name of NAMES) {
    m.ks.forEach((k, i) => {
      const key = `out.${prefix}${name}@${k}`;
      assert.ok(key in golden.scalars, `missing ${key}`);
      assert.is(m[name][i], golden.scalars[key], key);
    });
  }
}

test('golden metrics: rounded reference values', () => {
  expectScalars('', computeTopNAccuracy(gts, top));
});

test('golden metrics: unrounded values (same float64 operation order)', () => {
  expectScalars('unrounded.', computeTopNAccuracy(gts, top, undefined, false));
});

test('golden metrics: a user without ground truth is skipped but counted in the denominator', () => {
  expectScalars('none_user0.', computeTopNAccuracy([null, ...gts.slice(1)], top));
});

test('golden metrics: mean of rounded batch means (tstBat 16)', () => {
  expectScalars('batched16.', batchedReferenceMetrics(gts, top, 16));
  assert.is(Object.keys(golden.scalars).length, 64);
});

test('pyRound matches Python round() (exact ties to even, otherwise the exact binary value)', () => {
  assert.is(pyRound(0.03125, 4), 0.0312); // exact tie -> even
  assert.is(pyRound(0.09375, 4), 0.0938);
  assert.is(pyRound(-0.03125, 4), -0.0312);
  assert.is(pyRound(2.675, 2), 2.67); // 2.675 is 2.67499999... in binary
  assert.is(pyRound(0.00015, 4), 0.0001); // 0.000149999...
  assert.is(pyRound(0.12345678, 4), 0.1235);
  assert.is(pyRound(1.5, 0), 2);
  assert.is(pyRound(2.5, 0), 2);
});

test('per-user metrics: binary gains, IDCG over min(|gt|, K), MRR of the first hit', () => {
  const topList = [9, 1, 8, 2, 7, 6, 5, 4, 3, 0];
  const s = userMetricsAtK(topList, [1, 2, 30], 10);
  assert.is(s.hits, 2);
  assert.is(s.precision, 0.2);
  assert.is(s.recall, 2 / 3);
  assert.is(s.mrr, 0.5);
  const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
  const idcg = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
  assert.ok(Math.abs(s.ndcg - dcg / idcg) < 1e-15);
  const miss = userMetricsAtK(topList, [42], 10);
  assert.equal([miss.hits, miss.ndcg, miss.mrr], [0, 0, 0]);
  assert.throws(() => userMetricsAtK(topList, [1], 20), /K = 20/);
});

test('honest protocol: per-user means over users with ground truth only, unrounded', () => {
  const rows = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]];
  const m = perUserMeanMetrics([[1], null, [12, 99]], rows, [2, 4]);
  assert.equal(m.ks, [2, 4]);
  assert.equal(m.recall, [0.5, 0.75]); // user 0: 1, 1; user 2: 0, 0.5
  assert.equal(m.precision, [0.25, (0.25 + 0.25) / 2]);
  assert.equal(m.mrr, [0.5, (1 + 0.25) / 2]);
  // The reference protocol counts the null user in the denominator instead.
  const ref = computeTopNAccuracy([[1], null, [12, 99]], rows, [2], false);
  assert.is(ref.recall[0], 1 / 3);
});

test.run();
