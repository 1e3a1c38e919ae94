"""Image-text contrastive losses: EEES Eq. 3-5 (and 8-10), plus the ISE prompt objectives."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_pairs(name: str, image: torch.Tensor, text: torch.Tensor) -> None:
    if image.ndim != 2 or image.shape != text.shape:
        raise ValueError(f"{name}: expected image and text features of equal shape [N, D], got {tuple(image.shape)} and {tuple(text.shape)}")
    if image.shape[0] == 0:
        raise ValueError(f"{name}: empty batch")


def _wide(x: torch.Tensor) -> torch.Tensor:
    """At least float32 (half precision from autocast is widened; float64 is kept)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def similarity(image: torch.Tensor, text: torch.Tensor, temperature: float, normalize: bool = True) -> torch.Tensor:
    """s(a, b) of the paper, [N_img, N_txt]: cosine similarity divided by the temperature.

    ``normalize=False`` gives the raw dot product divided by the temperature instead (the
    CLIP-ReID / CSDN image-text logits use raw projected features and temperature 1).
    """
    # Widened: dividing by a small temperature in half precision loses most of the logit range.
    image, text = _wide(image), _wide(text)
    if normalize:
        image, text = F.normalize(image, dim=-1), F.normalize(text, dim=-1)
    return image @ text.t() / temperature


def _supcon_both_ways(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``L_i2t + L_t2i`` where every same-label pair is a positive (Khosla et al. 2020):
    per row, minus the mean log-probability of its positives, averaged over rows."""
    positive = (labels[:, None] == labels[None, :]).to(logits.dtype)

    def one_way(scores: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        log_prob = torch.log_softmax(scores, dim=1)
        return -((log_prob * pos).sum(dim=1) / pos.sum(dim=1)).mean()

    return one_way(logits, positive) + one_way(logits.t(), positive.t())


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
    _check_pairs("contrastive_loss", image, text)
    logits = similarity(image, text, temperature, normalize)
    if labels is not None:
        if labels.shape != (image.shape[0],):
            raise ValueError(f"contrastive_loss: labels must be [N] = [{image.shape[0]}], got {tuple(labels.shape)}")
        return _supcon_both_ways(logits, labels)
    target = torch.arange(image.shape[0], device=image.device)
    return F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)


def supervised_contrastive_loss(image: torch.Tensor, text: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Label-aware image-text contrastive loss for learned identity prompts (ISE, stage 1).

    With one prompt per identity, rows of ``text`` repeat whenever labels repeat, so the
    "paired row is the only positive" rule of Eq. 3-5 would punish matching an identical
    text. Here every same-label pair is a positive (Khosla et al. 2020, as in CLIP-ReID's
    prompt stage): for each row, minus the mean log-probability of its positives, averaged
    over rows, in both directions; returns ``L_i2t + L_t2i``.
    """
    _check_pairs("supervised_contrastive_loss", image, text)
    return _supcon_both_ways(similarity(image, text, temperature), labels)


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
