"""Weighted regularisation triplet loss (AGW), Eq. 2 of the EEES paper."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Squared distances are clamped before the square root: d/dx sqrt(x) is infinite at 0, and
# identical features (or an anchor against itself) give exactly 0.
_EPS = 1e-12


def pairwise_euclidean(x: torch.Tensor) -> torch.Tensor:
    """[B, D] -> [B, B] Euclidean distances with finite gradients at zero distance."""
    sq = x.pow(2).sum(dim=1, keepdim=True)
    d2 = sq + sq.t() - 2.0 * (x @ x.t())
    return d2.clamp(min=_EPS).sqrt()


def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Row-wise softmax of ``scores`` restricted to ``mask``; rows with no True give zeros."""
    neg_inf = torch.finfo(scores.dtype).min
    masked = scores.masked_fill(~mask, neg_inf)
    weights = torch.softmax(masked, dim=1) * mask
    return weights


def wrt_loss(features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Weighted regularisation triplet loss (EEES Eq. 2, the AGW form).

    For each anchor i over all B rows of the batch (both modalities):
      - d_ij are Euclidean distances to the anchor's positives (same label, i itself
        excluded), weighted by softmax(d) over those positives: ``wp = sum_j w_ij d_ij``;
      - d_ik are distances to its negatives, weighted by softmax(-d) over them:
        ``wn = sum_k w_ik d_ik``;
      - the anchor's term is the soft margin ``softplus(wp - wn) = log(1 + exp(wp - wn))``.
    The loss is the mean over anchors. An anchor with no positive or no negative in the
    batch forms no triplet and is left out of the mean; if no anchor forms one, the loss is
    an exact 0 that still back-propagates (zero gradients).
    """
    if features.ndim != 2 or labels.ndim != 1 or features.shape[0] != labels.shape[0]:
        raise ValueError(f"wrt_loss: expected features [B, D] and labels [B], got {tuple(features.shape)} and {tuple(labels.shape)}")
    # At least float32: under autocast the eps clamp would underflow to 0 in fp16 (infinite sqrt gradient).
    dist = pairwise_euclidean(features.to(torch.promote_types(features.dtype, torch.float32)))
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    pos = same & ~eye
    neg = ~same
    w_pos = _masked_softmax(dist, pos)
    w_neg = _masked_softmax(-dist, neg)
    wp = (w_pos * dist).sum(dim=1)
    wn = (w_neg * dist).sum(dim=1)
    valid = pos.any(dim=1) & neg.any(dim=1)
    if not bool(valid.any()):
        return features.sum() * 0.0
    return F.softplus(wp - wn)[valid].mean()
