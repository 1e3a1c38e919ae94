"""Semantic Information Integration (SII): attention fusion of the two modalities' text features.

Facts (docs/methods/csdn.md): query = the visible text feature, key and value = the infrared
text feature, each through Linear + Tanh + Dropout(0.1); scaled dot-product attention; an
output Linear; a residual connection to the visible text feature. What the attention runs
over is not stated; ``attention`` chooses (see :class:`~vireid.methods.csdn.config.FusionConfig`).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _branch(dim: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Dropout(dropout))


class SemanticFusion(nn.Module):
    """``fused = visible + out(attention(q(visible), k(infrared), v(infrared)))``; [N, D] -> [N, D].

    ``attention = "channels"``: per row, ``a_ij = softmax_j(q_i k_j)`` over the D channels
    (tokens of width 1, so the scale 1/sqrt(1) = 1) and ``o_i = sum_j a_ij v_j``.
    ``attention = "identities"``: ``A = softmax(Q K^T / sqrt(D))`` over the N rows and ``O = A V``.
    """

    def __init__(self, dim: int, dropout: float = 0.1, attention: str = "channels"):
        super().__init__()
        if attention not in ("channels", "identities"):
            raise ValueError(f"SemanticFusion: attention must be channels or identities, got {attention!r}")
        self.attention = attention
        self.query = _branch(dim, dropout)
        self.key = _branch(dim, dropout)
        self.value = _branch(dim, dropout)
        self.out = nn.Linear(dim, dim)

    def forward(self, visible: torch.Tensor, infrared: torch.Tensor) -> torch.Tensor:
        if visible.ndim != 2 or visible.shape != infrared.shape:
            raise ValueError(f"SemanticFusion: expected visible and infrared [N, D], got "
                             f"{tuple(visible.shape)} and {tuple(infrared.shape)}")
        q, k, v = self.query(visible), self.key(infrared), self.value(infrared)
        if self.attention == "channels":
            weights = torch.softmax(q.unsqueeze(2) * k.unsqueeze(1), dim=2)  # [N, D, D]
            mixed = (weights @ v.unsqueeze(2)).squeeze(2)
        else:
            weights = torch.softmax(q @ k.t() / math.sqrt(q.shape[1]), dim=1)  # [N, N]
            mixed = weights @ v
        return visible + self.out(mixed)
