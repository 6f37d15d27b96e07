/** InfoDCL's loss terms (SPEC §5) as plain functions of tensors. */
import {
  add, affine, dotCrossEntropy, l2Normalize, mean, mul, softplus, square, sub, sum, type Tensor,
} from '../../engine/index.js';

/** mean over all elements of (target − pred)². */
export function reconstructionLoss(target: Tensor, pred: Tensor): Tensor {
  return mean(square(sub(target, pred)));
}

/**
 * InfoNCE with cosine similarity and temperature τ, SUMMED over the batch, every item a candidate:
 * −Σ_b log( exp(cos(v_b, e_pos_b)/τ) / Σ_j exp(cos(v_b, e_j)/τ) ), computed as logsumexp − positive.
 * Views that share one item table may share its normalisation: pass `keys` = l2Normalize(items).
 */
export function infoNceLoss(view: Tensor, items: Tensor, pos: Tensor, tau: number, keys = l2Normalize(items)): Tensor {
  // 1/τ is folded into the [B, d] view; the fused op never materialises the [B, N] logits where it can.
  return sum(dotCrossEntropy(affine(l2Normalize(view), 1 / tau), keys, pos));
}

/** mean softplus(u·e_neg − u·e_pos) (= −log σ(u·e_pos − u·e_neg)). */
export function bprLoss(u: Tensor, ePos: Tensor, eNeg: Tensor): Tensor {
  return mean(softplus(sub(sum(mul(u, eNeg), -1), sum(mul(u, ePos), -1))));
}

/** (‖U‖² + ‖E_pos‖²) / (2B); the negative item is not regularised (as the reference). */
export function regLoss(u: Tensor, ePos: Tensor): Tensor {
  return affine(add(sum(square(u)), sum(square(ePos))), 1 / (2 * u.shape[0]));
}

/** Σ_k ‖X̂^(k)‖² / B (the paper's figure draws a square root; the code has none). */
export function balanceLoss(views: Tensor[], batch: number): Tensor {
  return affine(views.map((x) => sum(square(x))).reduce((a, b) => add(a, b)), 1 / batch);
}
