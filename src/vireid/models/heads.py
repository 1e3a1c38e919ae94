"""Re-ID heads: GeM pooling and the BNNeck classifier."""

from __future__ import annotations

import torch
from torch import nn


def gem(x: torch.Tensor, p: float, eps: float = 1e-6) -> torch.Tensor:
    """Generalised-mean pooling of a [B, C, H, W] map to [B, C]: (mean x^p)^(1/p).

    p = 3 (CSDN) leans towards the strongest activations; p = 1 is average pooling. The clamp
    keeps the fractional power defined (post-ReLU maps are >= 0 anyway).
    """
    # At least float32: x^3 of half-precision activations overflows fp16 under autocast.
    return x.to(torch.promote_types(x.dtype, torch.float32)).clamp(min=eps).pow(p).mean(dim=(-2, -1)).pow(1.0 / p)


class BNNeck(nn.Module):
    """BatchNorm1d (bias frozen at 0) followed by a bias-free linear identity classifier.

    The frozen bias keeps the normalised feature centred, as the BNNeck paper (Luo et al.)
    prescribes, so cosine retrieval on it is not shifted by a learnt offset.
    """

    def __init__(self, dim: int, num_classes: int, train_bias: bool = False):
        super().__init__()
        self.bn = nn.BatchNorm1d(dim)
        self.bn.bias.requires_grad_(train_bias)
        self.classifier = nn.Linear(dim, num_classes, bias=False)
        nn.init.normal_(self.classifier.weight, std=0.001)

    def forward(self, feature: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (normalised feature, logits)."""
        normed = self.bn(feature)
        return normed, self.classifier(normed)
