"""Fake network training outputs for objective tests (no network needed)."""

from __future__ import annotations

import torch


def network_outputs(g: torch.Generator, n_ids: int = 3, per: int = 2, dim: int = 6,
                    classes: int = 5) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """``(outputs, labels)`` of a batch [visible; infrared], ``per`` rows per identity each.

    Keys as ReIDModel.forward: logits, proj_logits, pooled (dim + 2), proj (dim), modality.
    Drawn from ``g`` in that order, so callers can draw further tensors after it.
    """
    half = torch.arange(n_ids).repeat_interleave(per)
    labels = torch.cat([half, half])
    b = len(labels)
    outputs = {
        "logits": torch.randn(b, classes, generator=g, requires_grad=True),
        "proj_logits": torch.randn(b, classes, generator=g, requires_grad=True),
        "pooled": torch.randn(b, dim + 2, generator=g, requires_grad=True),
        "proj": torch.randn(b, dim, generator=g, requires_grad=True),
        "modality": torch.cat([torch.zeros(b // 2), torch.ones(b // 2)]).long(),
    }
    return outputs, labels
