"""A tiny encoder that honours the model <-> evaluation contract (docs/architecture.md):
``image_size``, ``pixel_mean``, ``pixel_std`` and ``encode_image(images, modality)`` returning
``pooled`` / ``bn`` / ``proj``. A test double for ``vireid.models.store.ReIDModel``."""

import torch
from torch import nn


class FakeEncoder(nn.Module):
    image_size = (8, 4)
    pixel_mean = (0.5, 0.5, 0.5)
    pixel_std = (0.25, 0.25, 0.25)

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.ModuleDict({m: nn.Conv2d(3, 6, 3, padding=1) for m in ("visible", "infrared")})
        self.bn = nn.BatchNorm1d(6)
        self.proj = nn.Linear(6, 4)
        self.calls = []

    def encode_image(self, images, modality):
        self.calls.append((modality, tuple(images.shape), self.training, torch.is_grad_enabled()))
        x = self.stem[modality](images)
        # position-dependent weights make the feature sensitive to horizontal flips
        ramp = torch.linspace(0.0, 1.0, x.shape[-1])
        pooled = (x * ramp).mean(dim=(2, 3))
        return {"pooled": pooled, "bn": self.bn(pooled), "proj": self.proj(pooled)}
