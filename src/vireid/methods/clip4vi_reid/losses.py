"""CLIP4VI-ReID's loss terms as pure tensor functions (a reading of the paper's abstract).

No equations of CLIP4VI-ReID are public; each function's docstring names the abstract's
module it implements and the reading chosen (docs/methods/clip4vi-reid.md discusses the
alternatives). Similarities are cosines divided by a temperature, computed in at least
float32 (:func:`vireid.losses.similarity`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vireid.losses import similarity
from vireid.manifests.schema import MODALITY_INDEX

VISIBLE = MODALITY_INDEX["visible"]
INFRARED = MODALITY_INDEX["infrared"]


def identity_prototypes(features: torch.Tensor, labels: torch.Tensor, num_classes: int,
                        use: torch.Tensor | None = None) -> torch.Tensor:
    """TSG (``captions`` source): one text feature per identity from its visible captions.

    ``features`` [N, D] caption features, ``labels`` [N], ``use`` [N] bool (the visible
    rows; None = all). Each identity's text is the L2-normalised mean of the L2-normalised
    features of its ``use`` rows; an identity without such rows falls back to the mean over
    all its rows (in the trainer those hold the template caption). Returns [C, D]; raises
    ValueError when an identity has no row at all.
    """
    if features.ndim != 2 or labels.shape != features.shape[:1]:
        raise ValueError(f"identity_prototypes: expected features [N, D] and labels [N], got "
                         f"{tuple(features.shape)} and {tuple(labels.shape)}")
    feats = F.normalize(features.to(torch.promote_types(features.dtype, torch.float32)), dim=-1)
    use = torch.ones_like(labels, dtype=torch.bool) if use is None else use.bool()

    def mean_per_class(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sums = torch.zeros(num_classes, feats.shape[1], dtype=feats.dtype, device=feats.device)
        sums.index_add_(0, labels[mask], feats[mask])
        counts = torch.bincount(labels[mask], minlength=num_classes)
        return sums, counts

    sums, counts = mean_per_class(use)
    missing = counts == 0
    if missing.any():
        all_sums, all_counts = mean_per_class(torch.ones_like(use))
        if (all_counts[missing] == 0).any():
            absent = torch.nonzero(missing & (all_counts == 0)).flatten()[:5].tolist()
            raise ValueError(f"identity_prototypes: identities {absent} have no rows")
        sums[missing], counts[missing] = all_sums[missing], all_counts[missing]
    return F.normalize(sums / counts[:, None].to(sums.dtype), dim=-1)


def text_bridge_loss(image: torch.Tensor, class_text: torch.Tensor, labels: torch.Tensor,
                     temperature: float) -> torch.Tensor:
    """TSG alignment (visible rows) and IFE (infrared rows): image -> identity-text cross-entropy.

    ``image`` [N, D] image features of ONE modality, ``class_text`` [C, D] one text feature
    per identity (the TSG semantics, refined by HSA when it is on; the caller detaches them,
    so only the shared image encoder moves), ``labels`` [N]. Each image must be closer to its
    identity's text than to every other identity's text:
    ``mean_i -log softmax_c(s(f_i, t_c))[y_i]``. On infrared rows this is IFE: it rectifies
    infrared embeddings toward text fitted to visible images only, so visible and infrared
    features meet through the text (the abstract's "text serving as a bridge").
    """
    if image.ndim != 2 or class_text.ndim != 2 or image.shape[1] != class_text.shape[1]:
        raise ValueError(f"text_bridge_loss: expected image [N, D] and class_text [C, D], got "
                         f"{tuple(image.shape)} and {tuple(class_text.shape)}")
    if image.shape[0] == 0:
        raise ValueError("text_bridge_loss: empty batch")
    return F.cross_entropy(similarity(image, class_text, temperature), labels)


def hsa_text_loss(image: torch.Tensor, modality: torch.Tensor, labels: torch.Tensor, text: torch.Tensor,
                  text_ids: torch.Tensor, temperature: float, balance: float = 1.0) -> torch.Tensor:
    """HSA text refinement: identity texts that fit BOTH modalities' features, and equally.

    ``image`` [B, D] image features of both modalities (the caller detaches them, so only the
    text semantics move), ``modality`` [B] (0 visible, 1 infrared), ``labels`` [B];
    ``text`` [K, D] the current text features of the identities ``text_ids`` [K] (distinct,
    covering every label in ``labels``).

    Two parts:
      * fit: for each modality m present, the cross-entropy of its rows over the K texts,
        ``mean_{i in m} -log softmax_k(s(f_i, t_k))[y_i]``, summed over modalities (each
        modality pulls the texts with the same weight, whatever its row count);
      * balance: for each identity k with rows of both modalities,
        ``(mean_{i in V_k} cos(f_i, t_k) - mean_{i in R_k} cos(f_i, t_k))^2``, averaged over
        those identities and weighted by ``balance``: a text that sits closer to one
        modality carries modality-specific information (e.g. colours only visible images
        show), which the abstract's "only contain id-related information" rules out.
    """
    if image.ndim != 2 or text.ndim != 2 or image.shape[1] != text.shape[1]:
        raise ValueError(f"hsa_text_loss: expected image [B, D] and text [K, D], got "
                         f"{tuple(image.shape)} and {tuple(text.shape)}")
    if text_ids.shape != text.shape[:1] or len(torch.unique(text_ids)) != len(text_ids):
        raise ValueError("hsa_text_loss: text_ids must be [K] distinct identities, one per text row")
    match = labels[:, None] == text_ids[None, :]
    if not bool(match.any(dim=1).all()):
        raise ValueError("hsa_text_loss: every label needs a text row in text_ids")
    target = match.float().argmax(dim=1)
    logits = similarity(image, text, temperature)
    fit = logits.new_zeros(())
    for m in (VISIBLE, INFRARED):
        rows = modality == m
        if rows.any():
            fit = fit + F.cross_entropy(logits[rows], target[rows])
    if balance == 0:
        return fit
    cos = logits * temperature  # [B, K] cosines
    own = cos.gather(1, target[:, None]).squeeze(1)  # cos(f_i, t_{y_i})
    onehot = F.one_hot(target, len(text_ids)).to(cos.dtype)  # [B, K]
    means = []
    for m in (VISIBLE, INFRARED):
        weight = onehot * (modality == m)[:, None].to(cos.dtype)
        count = weight.sum(dim=0)
        means.append(((weight * own[:, None]).sum(dim=0), count))
    (sum_v, n_v), (sum_r, n_r) = means
    both = (n_v > 0) & (n_r > 0)
    if not both.any():
        return fit
    gap = sum_v[both] / n_v[both] - sum_r[both] / n_r[both]
    return fit + balance * (gap ** 2).mean()
