"""MUN's two alignment losses as pure tensor functions (readings of the abstract).

Both work on L2-normalised features, so their values are bounded and do not depend on the
very different raw norms of the 2048-d map feature and the 1024-d projected feature (one
weight fits both), and both compute in at least float32 (safe under bf16 autocast).
Degenerate batches (nothing to align) give an exact 0 that still back-propagates.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_EPS = 1e-12  # clamp under square roots: finite gradients at zero distance / zero spread


def _unit(features: torch.Tensor) -> torch.Tensor:
    return F.normalize(features.to(torch.promote_types(features.dtype, torch.float32)), dim=-1)


def identity_alignment_loss(features: torch.Tensor, labels: torch.Tensor, modality: torch.Tensor) -> torch.Tensor:
    """MUN identity alignment loss: "aligning identity centres across the three modalities".

    Features [B, D] are L2-normalised; ``c[k, m]`` is the mean feature of identity ``k`` in
    modality ``m`` (visible, infrared, auxiliary: any integer ids). For every identity and
    every unordered pair of distinct modalities in which it has rows, the term is the
    Euclidean distance ``||c[k, m] - c[k, m']||``; the loss is the mean over all such
    (identity, pair) terms. Identities seen in one modality only contribute nothing; a
    batch with no such pair gives 0.
    """
    if features.ndim != 2 or labels.shape != (features.shape[0],) or modality.shape != labels.shape:
        raise ValueError(f"identity_alignment_loss: expected features [B, D], labels [B], modality [B], got "
                         f"{tuple(features.shape)}, {tuple(labels.shape)}, {tuple(modality.shape)}")
    f = _unit(features)
    # One group per (identity, modality): centres by scatter-mean.
    keys = torch.stack([labels, modality], dim=1)
    groups, inverse = torch.unique(keys, dim=0, return_inverse=True)
    counts = torch.zeros(len(groups), dtype=f.dtype, device=f.device).index_add_(0, inverse, torch.ones_like(inverse, dtype=f.dtype))
    centres = torch.zeros(len(groups), f.shape[1], dtype=f.dtype, device=f.device).index_add_(0, inverse, f) / counts[:, None]
    same_id = groups[:, 0, None] == groups[None, :, 0]
    upper = torch.triu(torch.ones_like(same_id), diagonal=1)  # distinct groups (so distinct modalities), each pair once
    pairs = same_id & upper
    if not bool(pairs.any()):
        return features.sum() * 0.0
    i, j = torch.nonzero(pairs, as_tuple=True)
    d2 = (centres[i] - centres[j]).pow(2).sum(dim=1)
    return d2.clamp(min=_EPS).sqrt().mean()


def modality_alignment_loss(features: torch.Tensor, modality: torch.Tensor, first: int = 0, second: int = 1) -> torch.Tensor:
    """MUN modality alignment loss: "reduce the distribution distance of visible and infrared
    images by modality prototype modeling".

    Features [B, D] are L2-normalised. Each modality's prototype is the (per-batch) first and
    second moment of its rows: the mean ``mu_m`` [D] and the per-channel standard deviation
    ``sigma_m`` [D] (biased, ``sqrt(var + eps)``). The loss is
    ``||mu_first - mu_second||^2 + ||sigma_first - sigma_second||^2`` between the rows with
    ``modality == first`` (visible) and ``== second`` (infrared). Either modality absent: 0.
    """
    if features.ndim != 2 or modality.shape != (features.shape[0],):
        raise ValueError(f"modality_alignment_loss: expected features [B, D] and modality [B], got "
                         f"{tuple(features.shape)} and {tuple(modality.shape)}")
    f = _unit(features)
    a, b = f[modality == first], f[modality == second]
    if len(a) == 0 or len(b) == 0:
        return features.sum() * 0.0
    mu_a, mu_b = a.mean(dim=0), b.mean(dim=0)
    sd_a = ((a - mu_a).pow(2).mean(dim=0) + _EPS).sqrt()
    sd_b = ((b - mu_b).pow(2).mean(dim=0) + _EPS).sqrt()
    return (mu_a - mu_b).pow(2).sum() + (sd_a - sd_b).pow(2).sum()
