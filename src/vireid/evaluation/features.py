"""Test features from a trained model: batched, no_grad, eval mode, optional flip TTA.

Pre-processing mirrors CLIP-ReID / CSDN testing: ``load_rgb`` -> resize to the model's
``image_size`` (H, W) with PIL bicubic interpolation (CLIP's own resampling; pass
``interpolation="bilinear"`` for models trained with torchvision's default) -> [0, 1] ->
normalise with the model's ``pixel_mean`` / ``pixel_std``. Feature kinds follow the model
contract in docs/architecture.md: ``pooled``, ``bn``, ``proj`` or ``concat`` =
cat(L2(bn), L2(proj)). With flip TTA the composed features of the image and its mirror are
averaged; the result is always L2-normalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from vireid.datasets.images import load_rgb
from vireid.errors import VireidError

FEATURE_KINDS = ("pooled", "bn", "proj", "concat")
_RESAMPLE = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}


def compose_feature(outputs: dict[str, torch.Tensor], kind: str = "concat") -> torch.Tensor:
    """Pick or build the test feature from ``encode_image`` outputs (not yet L2-normalised)."""
    if kind not in FEATURE_KINDS:
        raise VireidError(f"unknown feature kind {kind!r}; expected one of {', '.join(FEATURE_KINDS)}")
    if kind == "concat":
        return torch.cat([F.normalize(outputs["bn"].float(), dim=1),
                          F.normalize(outputs["proj"].float(), dim=1)], dim=1)
    return outputs[kind].float()


class _ImageFiles(Dataset):
    """Decodes and normalises root-relative image paths (worker processes do the decoding)."""

    def __init__(self, root: Path, paths: Sequence[str], size: tuple[int, int],
                 mean: Sequence[float], std: Sequence[float], interpolation: str):
        self.root, self.paths = root, list(paths)
        self.size = (int(size[1]), int(size[0]))               # PIL wants (W, H)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
        self.resample = _RESAMPLE[interpolation]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        img = load_rgb(self.root / self.paths[i]).resize(self.size, self.resample)
        x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
        return (x - self.mean) / self.std


@torch.no_grad()
def extract_features(model: Any, root: str | Path, paths: Sequence[str], modalities: Sequence[str],
                     *, feature: str = "concat", flip: bool = True, batch_size: int = 64,
                     num_workers: int = 0, device: str | torch.device = "cpu",
                     interpolation: str = "bicubic") -> np.ndarray:
    """L2-normalised float32 features [N, D] for ``paths`` (root-relative), in input order.

    Each batch holds one modality, because ``encode_image`` routes visible and infrared
    images through different stems.
    """
    if len(paths) != len(modalities):
        raise VireidError(f"{len(paths)} paths but {len(modalities)} modalities")
    if interpolation not in _RESAMPLE:
        raise VireidError(f"interpolation must be one of {', '.join(_RESAMPLE)}, got {interpolation!r}")
    if feature not in FEATURE_KINDS:
        raise VireidError(f"unknown feature kind {feature!r}; expected one of {', '.join(FEATURE_KINDS)}")
    model.eval()
    root = Path(root)
    out: np.ndarray | None = None
    for modality in sorted(set(modalities)):
        index = [i for i, m in enumerate(modalities) if m == modality]
        data = _ImageFiles(root, [paths[i] for i in index], model.image_size,
                           model.pixel_mean, model.pixel_std, interpolation)
        loader = DataLoader(data, batch_size=batch_size, shuffle=False, num_workers=num_workers)
        chunks = []
        for images in loader:
            images = images.to(device)
            feat = compose_feature(model.encode_image(images, modality), feature)
            if flip:
                mirrored = compose_feature(model.encode_image(torch.flip(images, dims=[3]), modality), feature)
                feat = (feat + mirrored) / 2
            chunks.append(F.normalize(feat, dim=1).cpu().numpy().astype(np.float32))
        feats = np.concatenate(chunks)
        if out is None:
            out = np.empty((len(paths), feats.shape[1]), dtype=np.float32)
        out[index] = feats
    if out is None:
        raise VireidError("no images to extract features from")
    return out
