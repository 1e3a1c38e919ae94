"""Cross-View Semantics Compensation: EEES Eq. 6-7 (fusion) and Eq. 11 (distillation)."""

from __future__ import annotations

import torch

from vireid.errors import VireidError


def cvsc_partners(labels: torch.Tensor, m: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw, for every row, M other rows with the same label (without replacement).

    Returns a [N, M] long tensor of row indices on ``labels``' device. Drawing once and
    reusing the indices for both the image and the text features keeps fused image i and
    fused caption i built from the same views, as Eq. 6-7 require. Each row gets an
    independent uniform random key per candidate (from ``generator``, a CPU generator) and
    keeps the M same-label rows with the smallest keys: a uniform M-subset, drawn for all
    rows at once. The draw depends only on ``labels``, ``m`` and the generator state, so a
    seeded generator reproduces it. Raises VireidError if an identity has fewer than M+1 rows.
    """
    if m < 0:
        raise VireidError(f"CVSC: the number of cross-view partners M must be >= 0, got {m}")
    n = labels.shape[0]
    if m == 0:
        return torch.empty((n, 0), dtype=torch.long, device=labels.device)
    values, counts = torch.unique(labels.detach().cpu(), return_counts=True)
    if bool((counts < m + 1).any()):
        label, count = next((int(v), int(c)) for v, c in zip(values, counts) if c < m + 1)
        raise VireidError(
            f"CVSC: identity label {label} has {count} sample(s) in this modality of the batch; "
            f"M={m} needs at least {m + 1} (sample more images per identity or lower M)"
        )
    keys = torch.rand((n, n), generator=generator).to(labels.device, non_blocking=True)
    others = labels[:, None] != labels[None, :]
    others.fill_diagonal_(True)
    keys = keys.masked_fill(others, 2.0)              # only same-label rows have keys < 1
    return keys.topk(m, dim=1, largest=False).indices


def cvsc_fuse(
    features: torch.Tensor,
    labels: torch.Tensor,
    m: int,
    generator: torch.Generator | None = None,
    partners: torch.Tensor | None = None,
) -> torch.Tensor:
    """Multi-view representation of EEES Eq. 6-7: ``(f_i + sum of M same-identity f) / (M+1)``.

    ``features`` [N, D] hold ONE modality's features (image or text). Partners are drawn with
    :func:`cvsc_partners` from ``generator`` unless a [N, M] ``partners`` tensor is given
    (pass the same one for image and text features).
    """
    if features.ndim != 2 or features.shape[0] != labels.shape[0]:
        raise ValueError(f"cvsc_fuse: expected features [N, D] and labels [N], got {tuple(features.shape)} and {tuple(labels.shape)}")
    if partners is None:
        partners = cvsc_partners(labels, m, generator)
    elif partners.shape != (features.shape[0], m):
        raise ValueError(f"cvsc_fuse: partners must be [N, M] = [{features.shape[0]}, {m}], got {tuple(partners.shape)}")
    return (features + features[partners].sum(dim=1)) / (m + 1)


def kd_loss(fused: torch.Tensor, single: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """One term of EEES Eq. 11: ``(1/N) sum_i ||fused_i - single_i||_2^2``.

    ``reduction="sum"`` (default, Eq. 11 as written): sum over the D dimensions, mean over
    rows. ``reduction="mean"``: the element mean, ``F.mse_loss(fused, single)``, i.e. the
    "MSE loss" the sentence under Eq. 11 names and the CLIP-ReID/CSDN code lineage computes
    (the first value divided by D).

    The squared L2 norm is summed over the D feature dimensions and averaged over the N
    rows, i.e. it equals ``torch.nn.functional.mse_loss(fused, single) * D`` (element-wise
    MSE times D). We keep the per-sample sum as written in Eq. 11 because the element-mean
    would shrink the term by D (1024 for RN50) and make lambda_3 = 0.08 meaningless.

    The multi-view ``fused`` representation is the teacher and is DETACHED: the gradient flows
    only into ``single`` (knowledge goes from multi-view to single-view, never back).
    """
    if fused.shape != single.shape or fused.ndim != 2:
        raise ValueError(f"kd_loss: expected two [N, D] tensors of equal shape, got {tuple(fused.shape)} and {tuple(single.shape)}")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"kd_loss: reduction must be 'sum' or 'mean', got {reduction!r}")
    squared = (fused.detach() - single).pow(2)
    return squared.sum(dim=1).mean() if reduction == "sum" else squared.mean()
