"""Validation on held-out TRAINING identities (``split=val``), never on the test set.

Features of the cached val images (no augmentation) are composed as the evaluation package
does (``vireid.evaluation.features.compose_feature``) and scored with its cross-modality
helper: infrared queries against the visible gallery, mAP / mINP / CMC. The result selects
``best.pt``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch
import torch.nn.functional as F

from vireid.evaluation.features import compose_feature
from vireid.evaluation.retrieval import cross_modality_map
from vireid.training.augment import eval_batch
from vireid.training.cache import ImageCache


@torch.no_grad()
def cached_features(model: torch.nn.Module, cache: ImageCache, modalities: Sequence[str],
                    *, feature: str = "concat", batch_size: int = 128, normalize: bool = True,
                    device: torch.device | str = "cpu", channels_last: bool = False,
                    autocast: Callable[[], AbstractContextManager] | None = None) -> torch.Tensor:
    """Features [N, D] (float32, on ``device``) of every cached image, un-augmented, one
    modality per batch; L2-normalised unless ``normalize`` is False."""
    was_training = model.training
    model.eval()
    modalities = np.asarray(modalities)
    out: torch.Tensor | None = None
    try:
        for modality in ("visible", "infrared"):
            rows = np.flatnonzero(modalities == modality)
            for start in range(0, len(rows), batch_size):
                chunk = rows[start:start + batch_size]
                images = torch.from_numpy(cache.gather(chunk)).to(device)
                images = eval_batch(images, model.pixel_mean, model.pixel_std)
                if channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                with autocast() if autocast is not None else nullcontext():
                    outputs = model.encode_image(images, modality)
                feats = compose_feature(outputs, feature)
                if normalize:
                    feats = F.normalize(feats, dim=1)
                if out is None:
                    out = torch.zeros((len(modalities), feats.shape[1]), dtype=torch.float32, device=device)
                out[torch.from_numpy(chunk).to(device)] = feats.float()
    finally:
        model.train(was_training)
    if out is None:
        raise ValueError("no images to extract features from")
    return out


def extract_cached_features(model: torch.nn.Module, cache: ImageCache, modalities: Sequence[str],
                            **kwargs) -> np.ndarray:
    """:func:`cached_features` as a NumPy array on the host."""
    return cached_features(model, cache, modalities, **kwargs).cpu().numpy()


def validate(model: torch.nn.Module, cache: ImageCache, pids: Sequence[int], cams: Sequence[int],
             modalities: Sequence[str], **kwargs) -> dict[str, float]:
    """``val/mAP``, ``val/R1``, ... of infrared->visible retrieval among the val identities."""
    feats = extract_cached_features(model, cache, modalities, **kwargs)
    result = cross_modality_map(feats, np.asarray(pids), np.asarray(cams), np.asarray(modalities))
    return {f"val/{k}": float(v) for k, v in result.items()}
