"""Image-text contrastive losses shared by several methods: the similarity s(a, b) and the
supervised contrastive loss (Khosla et al. 2020), the one SupCon of vireid (EEES Eq. 3-5 with
identity positives, the prompt-fitting stages of ISE, TSG and CSDN)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def check_pairs(name: str, image: torch.Tensor, text: torch.Tensor) -> None:
    if image.ndim != 2 or image.shape != text.shape:
        raise ValueError(f"{name}: expected image and text features of equal shape [N, D], got {tuple(image.shape)} and {tuple(text.shape)}")
    if image.shape[0] == 0:
        raise ValueError(f"{name}: empty batch")


def wide(x: torch.Tensor) -> torch.Tensor:
    """At least float32 (half precision from autocast is widened; float64 is kept)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def similarity(image: torch.Tensor, text: torch.Tensor, temperature: float, normalize: bool = True) -> torch.Tensor:
    """s(a, b) of the paper, [N_img, N_txt]: cosine similarity divided by the temperature.

    ``normalize=False`` gives the raw dot product divided by the temperature instead (the
    CLIP-ReID / CSDN image-text logits use raw projected features and temperature 1).
    """
    # Widened: dividing by a small temperature in half precision loses most of the logit range.
    image, text = wide(image), wide(text)
    if normalize:
        image, text = F.normalize(image, dim=-1), F.normalize(text, dim=-1)
    return image @ text.t() / temperature


def supcon_loss(logits: torch.Tensor, labels_rows: torch.Tensor, labels_cols: torch.Tensor) -> torch.Tensor:
    """One direction of the supervised contrastive loss (Khosla et al. 2020, Eq. 2, L^sup_out).

    ``logits`` [N, M] are similarities of N anchors to M candidates. For anchor i,
    ``p_ij = softmax_j(logits_ij)`` over all M candidates, and its loss is minus the mean of
    ``log p_ij`` over the candidates j with ``labels_cols[j] == labels_rows[i]``; the result is
    the mean over the anchors. An anchor whose label has no candidate has no positive and is
    left out of the mean (all left out: an exact 0 that still back-propagates).
    """
    if logits.ndim != 2 or labels_rows.shape != logits.shape[:1] or labels_cols.shape != logits.shape[1:]:
        raise ValueError(f"supcon_loss: expected logits [N, M] with labels [N] and [M], got {tuple(logits.shape)}, "
                         f"{tuple(labels_rows.shape)} and {tuple(labels_cols.shape)}")
    log_prob = torch.log_softmax(logits, dim=1)
    positive = (labels_rows[:, None] == labels_cols[None, :]).to(log_prob.dtype)
    count = positive.sum(dim=1)
    valid = count > 0
    if not bool(valid.any()):
        return logits.sum() * 0.0
    per_row = -(log_prob * positive).sum(dim=1)[valid] / count[valid]
    return per_row.mean()


def supcon_both_ways(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``L_i2t + L_t2i`` of :func:`supcon_loss` for [N, N] image-text ``logits`` of rows labelled ``labels``."""
    return supcon_loss(logits, labels, labels) + supcon_loss(logits.t(), labels, labels)


def supervised_contrastive_loss(image: torch.Tensor, text: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Label-aware image-text contrastive loss for learned identity prompts (ISE, stage 1).

    With one prompt per identity, rows of ``text`` repeat whenever labels repeat, so the
    "paired row is the only positive" rule of Eq. 3-5 would punish matching an identical
    text. Here every same-label pair is a positive (Khosla et al. 2020, as in CLIP-ReID's
    prompt stage): for each row, minus the mean log-probability of its positives, averaged
    over rows, in both directions; returns ``L_i2t + L_t2i``.
    """
    check_pairs("supervised_contrastive_loss", image, text)
    return supcon_both_ways(similarity(image, text, temperature), labels)


def clip_loss(image: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """CLIP's symmetric InfoNCE (Radford et al. 2021, Fig. 3): row i of ``image`` and of ``text``
    are a pair, every other row of the batch a negative; logits = ``logit_scale`` x cosine
    similarity; the mean of the image->text and text->image cross-entropies.

    ``logit_scale`` is the (already exponentiated, clamped) learnable inverse temperature.
    """
    check_pairs("clip_loss", image, text)
    image, text = F.normalize(wide(image), dim=-1), F.normalize(wide(text), dim=-1)
    logits = logit_scale * image @ text.t()
    target = torch.arange(image.shape[0], device=image.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
