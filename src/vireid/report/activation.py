"""Activation maps of the last convolutional block, as torchreid's ``visactmap``: the sum of
squared activations over channels, L2-normalised over positions, upsampled to the image and
scaled to [0, 1] per image. The network must expose ``feature_map(images, modality)``
(:class:`vireid.models.reid_model.ReIDModel` does: its layer4 output)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vireid.datasets.images import ImageReadError, load_rgb


def load_tile(root: Path, rel: str, size: tuple[int, int]) -> np.ndarray:
    """The image at ``root/rel`` resized to ``size`` (H, W), uint8 RGB."""
    from PIL import Image

    try:
        img = load_rgb(root / rel).resize((size[1], size[0]), Image.BICUBIC)
    except ImageReadError:
        return np.full((size[0], size[1], 3), 128, dtype=np.uint8)   # a grey tile, as the ranked-list PNG
    return np.asarray(img, dtype=np.uint8)


def has_feature_map(model: Any) -> bool:
    return callable(getattr(model, "feature_map", None))


def activation_maps(model: Any, root: str | Path, paths: Sequence[str], modalities: Sequence[str],
                    device: str = "cpu") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(images, maps)``: each image resized to the model's input (uint8 HxWx3) and its
    activation map (float HxW in [0, 1])."""
    import torch
    import torch.nn.functional as F

    size = tuple(model.image_size)
    mean = torch.tensor(model.pixel_mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(model.pixel_std, dtype=torch.float32).view(1, 3, 1, 1)
    images = [load_tile(Path(root), p, size) for p in paths]
    maps: list[np.ndarray] = [np.zeros(size)] * len(paths)
    model.eval()
    with torch.no_grad():
        for modality in sorted(set(modalities)):
            index = [i for i, m in enumerate(modalities) if m == modality]
            batch = torch.from_numpy(np.stack([images[i] for i in index])).permute(0, 3, 1, 2).float() / 255.0
            batch = ((batch - mean) / std).to(device)
            fmap = model.feature_map(batch, modality).float()
            act = (fmap ** 2).sum(dim=1)                                  # [B, h, w]
            b, h, w = act.shape
            act = F.normalize(act.view(b, -1), p=2, dim=1).view(b, 1, h, w)
            act = F.interpolate(act, size=size, mode="bilinear", align_corners=False)[:, 0].cpu().numpy()
            for j, i in enumerate(index):
                a = act[j]
                span = a.max() - a.min()
                maps[i] = (a - a.min()) / span if span > 0 else np.zeros_like(a)
    return images, maps
