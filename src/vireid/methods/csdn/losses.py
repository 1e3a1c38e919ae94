"""CSDN's own losses: the supervised image-text contrastive loss (stages 1-2) and MSEL (stage 3).

Both compute in at least float32 (features from bf16/fp16 autocast are widened first), and
MSEL's Euclidean distances use a clamped square root, so identical features give finite
values and gradients: the NaN losses users report from the reference code around epoch
60-70 come from exactly these two places (half-precision logits, sqrt at 0).
"""

from __future__ import annotations

import torch

# Squared distances are clamped before the square root: d sqrt(x)/dx is infinite at 0.
_EPS = 1e-12


def _wide(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.promote_types(x.dtype, torch.float32))


def full_precision(device: torch.device) -> torch.autocast:
    """A region where autocast is off: matmuls of widened tensors really run in float32."""
    return torch.autocast(device_type=device.type, enabled=False)


def supcon_loss(a: torch.Tensor, b: torch.Tensor, labels_a: torch.Tensor, labels_b: torch.Tensor,
                temperature: float = 1.0) -> torch.Tensor:
    """One direction of the supervised contrastive loss between two feature sets.

    ``a`` [N, D], ``b`` [M, D]: for each row i of ``a``, ``p_ij = softmax_j(a_i . b_j / temperature)``
    over all M rows of ``b``; the row's loss is minus the mean of ``log p_ij`` over the rows j
    of ``b`` with ``labels_b[j] == labels_a[i]``; the result is the mean over the rows of ``a``.
    Dot products are raw (no normalisation; CSDN/CLIP-ReID use temperature 1). A row of ``a``
    whose label has no row in ``b`` has no positive and is left out of the mean (all rows
    left out: an exact 0 that still back-propagates). Stage 1 and 2 use
    ``supcon_loss(img, txt, l, l) + supcon_loss(txt, img, l, l)``.
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"supcon_loss: expected a [N, D] and b [M, D], got {tuple(a.shape)} and {tuple(b.shape)}")
    if labels_a.shape != (a.shape[0],) or labels_b.shape != (b.shape[0],):
        raise ValueError(f"supcon_loss: expected labels [N] and [M], got {tuple(labels_a.shape)} and {tuple(labels_b.shape)}")
    if not temperature > 0:
        raise ValueError(f"supcon_loss: temperature must be > 0, got {temperature}")
    with full_precision(a.device):
        logits = _wide(a) @ _wide(b).t() / temperature
        log_prob = torch.log_softmax(logits, dim=1)
    positive = (labels_a[:, None] == labels_b[None, :]).to(log_prob.dtype)
    count = positive.sum(dim=1)
    valid = count > 0
    if not bool(valid.any()):
        return logits.sum() * 0.0
    per_row = -(log_prob * positive).sum(dim=1)[valid] / count[valid]
    return per_row.mean()


def _distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[N, D] x [M, D] -> [N, M] Euclidean distances, finite gradients at 0."""
    d2 = x.pow(2).sum(dim=1, keepdim=True) + y.pow(2).sum(dim=1)[None, :] - 2.0 * (x @ y.t())
    return d2.clamp(min=_EPS).sqrt()


def _msel_side(anchor: torch.Tensor, other: torch.Tensor, labels: torch.Tensor) -> torch.Tensor | None:
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    intra_mask = (same & ~eye).to(anchor.dtype)
    cross_mask = same.to(anchor.dtype)
    n_intra = intra_mask.sum(dim=1)
    valid = n_intra > 0  # every anchor has a cross positive (row i of the other modality)
    if not bool(valid.any()):
        return None
    intra = (_distances(anchor, anchor) * intra_mask).sum(dim=1)[valid] / n_intra[valid]
    cross = (_distances(anchor, other) * cross_mask).sum(dim=1)[valid] / cross_mask.sum(dim=1)[valid]
    return (cross - intra).pow(2).mean()


def msel_loss(visible: torch.Tensor, infrared: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Modality-shared enhancement loss (CSDN's MSEL) on one batch's features.

    ``visible`` and ``infrared`` are [N, D]; row i of both has identity ``labels[i]``. For each
    anchor (every row of either modality) with Euclidean distances d:
    ``(mean d(anchor, its cross-modality positives) - mean d(anchor, its other same-modality
    positives))^2``; averaged over the anchors of each modality, then over the two
    modalities. An anchor without another same-modality positive (one image of its identity)
    is left out; if none is left the loss is an exact 0 that still back-propagates.
    Distances use a clamped square root and at least float32.
    """
    if visible.ndim != 2 or visible.shape != infrared.shape or labels.shape != (visible.shape[0],):
        raise ValueError(f"msel_loss: expected visible and infrared [N, D] and labels [N], got "
                         f"{tuple(visible.shape)}, {tuple(infrared.shape)} and {tuple(labels.shape)}")
    v, r = _wide(visible), _wide(infrared)
    with full_precision(v.device):
        sides = [s for s in (_msel_side(v, r, labels), _msel_side(r, v, labels)) if s is not None]
    if not sides:
        return (v.sum() + r.sum()) * 0.0
    return sum(sides) / len(sides)
