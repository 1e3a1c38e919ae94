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
def extract_cached_features(model: torch.nn.Module, cache: ImageCache, modalities: Sequence[str],
                            *, feature: str = "concat", batch_size: int = 128,
                            device: torch.device | str = "cpu", channels_last: bool = False,
                            autocast: Callable[[], AbstractContextManager] | None = None) -> np.ndarray:
    """L2-normalised features [N, D] of every cached image, one modality per batch."""
    was_training = model.training
    model.eval()
    modalities = np.asarray(modalities)
    out: np.ndarray | None = None
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
                feats = F.normalize(compose_feature(outputs, feature), dim=1).float().cpu().numpy()
                if out is None:
                    out = np.zeros((len(modalities), feats.shape[1]), dtype=np.float32)
                out[chunk] = feats
    finally:
        model.train(was_training)
    if out is None:
        raise ValueError("no validation images")
    return out


def validate(model: torch.nn.Module, cache: ImageCache, pids: Sequence[int], cams: Sequence[int],
             modalities: Sequence[str], **kwargs) -> dict[str, float]:
    """``val/mAP``, ``val/R1``, ... of infrared->visible retrieval among the val identities."""
    feats = extract_cached_features(model, cache, modalities, **kwargs)
    result = cross_modality_map(feats, np.asarray(pids), np.asarray(cams), np.asarray(modalities))
    return {f"val/{k}": float(v) for k, v in result.items()}
