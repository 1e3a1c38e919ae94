"""CSDN's own losses: the stage 1-2 image-text loss (the shared supervised contrastive loss
on raw dot products, :func:`stage_pair_loss`) and MSEL (stage 3).

Both compute in at least float32 (features from bf16/fp16 autocast are widened first, and the
logits are taken with autocast off), and MSEL's Euclidean distances use a clamped square root,
so identical features give finite values and gradients: the NaN losses users report from the
reference code around epoch 60-70 come from exactly these two places (half-precision logits,
sqrt at 0).
"""

from __future__ import annotations

import torch

from vireid.losses.contrastive import similarity, supcon_loss, wide

# Squared distances are clamped before the square root: d sqrt(x)/dx is infinite at 0.
_EPS = 1e-12


def full_precision(device: torch.device) -> torch.autocast:
    """A region where autocast is off: matmuls of widened tensors really run in float32."""
    return torch.autocast(device_type=device.type, enabled=False)


def stage_pair_loss(image: torch.Tensor, text: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Stages 1-2: ``SupCon(image -> text) + SupCon(text -> image)`` on raw dot products / temperature
    (every same-identity row of the other side is a positive), logits in float32."""
    with full_precision(image.device):
        image_to_text = similarity(image, text, temperature, normalize=False)
        text_to_image = similarity(text, image, temperature, normalize=False)
    return supcon_loss(image_to_text, labels, labels) + supcon_loss(text_to_image, labels, labels)


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
    v, r = wide(visible), wide(infrared)
    with full_precision(v.device):
        sides = [s for s in (_msel_side(v, r, labels), _msel_side(r, v, labels)) if s is not None]
    if not sides:
        return (v.sum() + r.sum()) * 0.0
    return sum(sides) / len(sides)
