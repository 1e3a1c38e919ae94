"""EEES's own losses, pure tensor functions: the image-caption contrastive loss (Eq. 3-5,
8-10), Cross-View Semantics Compensation (Eq. 6-7 fusion, Eq. 11 distillation), Cross-Modality
Semantics Purification (Eq. 12), and the ISE row's prompt cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vireid.errors import VireidError
from vireid.losses.contrastive import check_pairs, similarity, supcon_both_ways


def contrastive_loss(image: torch.Tensor, text: torch.Tensor, temperature: float, *,
                     labels: torch.Tensor | None = None, normalize: bool = True) -> torch.Tensor:
    """Image-text InfoNCE for ONE modality's N image/caption pairs (EEES Eq. 3-5).

    ``labels=None`` (EEES ``positives = "pair"``, Eq. 3-5 as written): row i of ``image`` is
    paired with row i of ``text`` and that caption is the only positive. With ``labels``
    (``positives = "identity"``, supervised contrastive learning, Khosla et al. 2020, which
    the paper cites for Eq. 3 and the authors' CSDN code uses): every same-label caption is a
    positive, and the loss per row is minus the mean log-probability of its positives.
    Returns ``L_i2t + L_t2i`` for this modality, each direction averaged over the N rows. The
    paper's ``L_con^o`` is the sum of this value over the visible and the infrared halves;
    applied to CVSC-fused pairs it gives ``L_con^m`` (Eq. 8-10). ``normalize`` picks the
    similarity (see :func:`similarity`). With all labels distinct both readings agree.
    """
    check_pairs("contrastive_loss", image, text)
    logits = similarity(image, text, temperature, normalize)
    if labels is not None:
        if labels.shape != (image.shape[0],):
            raise ValueError(f"contrastive_loss: labels must be [N] = [{image.shape[0]}], got {tuple(labels.shape)}")
        return supcon_both_ways(logits, labels)
    target = torch.arange(image.shape[0], device=image.device)
    return F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)


def prompt_ce_loss(image: torch.Tensor, class_text: torch.Tensor, labels: torch.Tensor, temperature: float,
                   normalize: bool = True) -> torch.Tensor:
    """Image-to-all-identities cross-entropy against learned prompt features (ISE, stage 2).

    ``class_text`` is [C, D], one text feature per identity; each image must be most similar
    to its own identity's prompt among all C. Used by the ``ise`` ablation instead of the
    caption contrastive loss (CLIP-ReID's second stage). ``normalize=False``: raw dot
    products (CSDN's stage-3 ``proj @ T^T``), see :func:`similarity`.
    """
    if image.ndim != 2 or class_text.ndim != 2 or image.shape[1] != class_text.shape[1]:
        raise ValueError(f"prompt_ce_loss: expected image [N, D] and class_text [C, D], got {tuple(image.shape)} and {tuple(class_text.shape)}")
    return F.cross_entropy(similarity(image, class_text, temperature, normalize), labels)


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


def cmsp_loss(f_v: torch.Tensor, f_r: torch.Tensor, t_v: torch.Tensor, t_r: torch.Tensor) -> torch.Tensor:
    """EEES Eq. 12 on the tensors as given (all [N, D], row i of each is the same identity).

    ``mean_i (||f_v_i - t_v_i|| - ||f_v_i - t_r_i||)^2 + mean_i (||f_r_i - t_r_i|| - ||f_r_i - t_v_i||)^2``:
    each image should be as far from the other modality's caption of its identity as from
    its own modality's caption. Distances are Euclidean, computed with a clamped square root
    so identical vectors give finite gradients.
    """
    shapes = {tuple(t.shape) for t in (f_v, f_r, t_v, t_r)}
    if len(shapes) != 1 or f_v.ndim != 2:
        raise ValueError(f"cmsp_loss: expected four [N, D] tensors of equal shape, got {sorted(shapes)}")

    def dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # At least float32 so the eps clamp survives half precision (autocast) and the sqrt stays finite.
        return (a - b).to(torch.promote_types(a.dtype, torch.float32)).pow(2).sum(dim=1).clamp(min=1e-12).sqrt()

    visible = (dist(f_v, t_v) - dist(f_v, t_r)).pow(2).mean()
    infrared = (dist(f_r, t_r) - dist(f_r, t_v)).pow(2).mean()
    return visible + infrared
