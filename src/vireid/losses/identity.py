"""Identity (classification) loss, Eq. 1 of the EEES paper."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def id_loss(logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Identity cross-entropy (EEES Eq. 1) over a batch holding both modalities.

    ``logits`` is [B, C] for the whole batch (visible and infrared rows together), ``labels``
    is [B]. The value is the cross-entropy averaged over all B rows. With the paper's
    balanced batches (N visible + N infrared rows) that equals ``(L^v + L^r) / 2`` where
    ``L^v`` and ``L^r`` are the two per-modality means of Eq. 1; i.e. it is Eq. 1 scaled by
    1/2. We average rather than sum because that is how the AGW/CSDN code lineage the paper
    builds on computes it (one cross-entropy over the concatenated batch), so the loss
    weights of Eq. 13 keep the balance they were tuned with.
    """
    if logits.ndim != 2 or labels.ndim != 1 or logits.shape[0] != labels.shape[0]:
        raise ValueError(f"id_loss: expected logits [B, C] and labels [B], got {tuple(logits.shape)} and {tuple(labels.shape)}")
    return F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
