"""The Python API: ``vireid.load(checkpoint)`` -> a :class:`ReIDModel` that embeds images.

    model = vireid.load("runs/sysu/eees/checkpoints/best.pt", device="cpu")
    feats = model.embed(["a.jpg", "b.jpg"], modality="infrared")   # float32 [2, D], unit norm

The features are exactly those ``vireid eval`` extracts from the same checkpoint (the same
preprocessing, :func:`vireid.evaluation.features.encode_batch`, and the checkpoint's own
test-feature options, :attr:`ReIDModel.feature_options`), so they can be ranked against
features of the benchmark or of ``vireid embed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from vireid import __version__
from vireid.datasets.images import load_rgb
from vireid.device import resolve_device
from vireid.errors import VireidError
from vireid.evaluation.checkpoint import load_checkpoint_model
from vireid.evaluation.features import encode_batch, to_model_input
from vireid.inference.options import FeatureOptions, recipe_options
from vireid.manifests.names import MODALITIES

ImageLike = str | Path | Image.Image | np.ndarray


def as_pil(image: ImageLike, where: str = "image") -> Image.Image:
    """A path, PIL image or uint8 array ([H, W] grey or [H, W, 3] RGB) as an RGB PIL image."""
    if isinstance(image, (str, Path)):
        return load_rgb(image)
    if isinstance(image, Image.Image):
        return image if image.mode == "RGB" else image.convert("RGB")
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
            raise VireidError(f"{where}: an array image must be uint8 [H, W] or [H, W, 3], got "
                              f"{image.dtype} {list(image.shape)}")
        return Image.fromarray(image).convert("RGB")
    raise VireidError(f"{where}: expected a path, a PIL image or a uint8 array, got {type(image).__name__}")


def per_image_modalities(modality: str | Sequence[str], count: int) -> list[str]:
    """One modality per image: a single name for all, or one per image (counts must agree)."""
    names = [modality] * count if isinstance(modality, str) else list(modality)
    if len(names) != count:
        raise VireidError(f"modality: {len(names)} modalities given for {count} images; give one "
                          f"name for all or one per image")
    bad = sorted({m for m in names if m not in MODALITIES})
    if bad:
        raise VireidError(f"modality: {bad[0]!r} is not one of {', '.join(MODALITIES)}")
    return names


class ReIDModel:
    """A trained vireid network ready to embed images (made by :func:`load`).

    ``feature_options``: the test-feature options used (the checkpoint's own unless
    overridden at :func:`load`); ``info``: method, dataset, trial, epoch, seed, selection,
    checkpoint path and sha256, versions; ``dim``: the feature dimension.
    """

    def __init__(self, network: torch.nn.Module, meta: dict[str, Any], options: FeatureOptions,
                 device: torch.device):
        self.network, self.device, self.feature_options = network, device, options
        training = meta.get("training") or {}
        trained_on = training.get("trained_on") or {}
        self.info: dict[str, Any] = {
            "checkpoint": meta["checkpoint"], "checkpoint_sha256": meta["checkpoint_sha256"],
            "method": training.get("method"), "preset": training.get("preset"), "recipe": training.get("recipe"),
            "dataset": trained_on.get("dataset"), "trial": trained_on.get("trial"),
            "epoch": training.get("epoch"), "seed": training.get("seed"),
            "selection": training.get("selection_detail"), "pixel_stats": training.get("pixel_stats"),
            "versions": {"vireid": __version__, "torch": torch.__version__},
        }
        self._dim: int | None = None

    @property
    def fingerprint(self) -> str:
        """The checkpoint file's sha256: features of different fingerprints never mix."""
        return self.info["checkpoint_sha256"]

    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(self.network.image_size)

    def preprocess(self, image: ImageLike, where: str = "image") -> torch.Tensor:
        """The normalised network input [3, H, W] of one image (as ``vireid eval`` prepares it)."""
        mean, std = self.feature_options.mean_std(self.network)
        return to_model_input(as_pil(image, where), self.image_size, mean, std,
                              self.feature_options.interpolation)

    @torch.no_grad()
    def embed_batch(self, images: torch.Tensor, modality: str) -> torch.Tensor:
        """Unit-norm features of a normalised batch [B, 3, H, W] of one modality (on CUDA in
        bfloat16 autocast when the model is there; the features come back float32)."""
        images = images.to(self.device, non_blocking=True)
        opts = self.feature_options
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            feats = encode_batch(self.network, images, modality, opts.feature, opts.flip)
        return feats.float()

    def embed(self, images: ImageLike | Sequence[ImageLike], modality: str | Sequence[str] = "visible",
              batch_size: int = 64) -> np.ndarray:
        """float32 [N, D] unit-norm features of ``images`` (paths, PIL images or uint8 arrays; a
        single image gives [1, D]), in input order. ``modality``: ``"visible"`` or
        ``"infrared"`` for all, or one per image. An unreadable image raises a VireidError
        naming it (``vireid embed`` records such images instead)."""
        if isinstance(images, (str, Path, Image.Image, np.ndarray)):
            images = [images]
        images = list(images)
        if batch_size < 1:
            raise VireidError(f"batch_size: must be at least 1, got {batch_size}")
        modalities = per_image_modalities(modality, len(images))
        out = np.empty((len(images), self.dim), dtype=np.float32)
        for name in MODALITIES:
            index = [i for i, m in enumerate(modalities) if m == name]
            for start in range(0, len(index), batch_size):
                chunk = index[start:start + batch_size]
                batch = torch.stack([self.preprocess(images[i], f"image {i}") for i in chunk])
                out[chunk] = self.embed_batch(batch, name).cpu().numpy()
        return out

    @property
    def dim(self) -> int:
        """The feature dimension (measured once on a blank image)."""
        if self._dim is None:
            blank = torch.zeros(1, 3, *self.image_size)
            self._dim = int(self.embed_batch(blank, MODALITIES[0]).shape[1])
        return self._dim

    def __repr__(self) -> str:
        return (f"ReIDModel({self.info['method']!r} from {self.info['checkpoint']}, "
                f"{self.feature_options}, device={self.device})")


def load(checkpoint: str | Path, device: str | torch.device = "cpu", *, feature: str | None = None,
         flip: str | None = None, interpolation: str | None = None) -> ReIDModel:
    """The model stored in ``checkpoint`` (a vireid ``.pt``), in eval mode on ``device``.

    ``feature`` / ``flip`` / ``interpolation`` override the checkpoint's own test-feature
    options. A missing file or one that is not a vireid checkpoint is a VireidError naming it.
    """
    device = torch.device(resolve_device(str(device), key="device"))
    network, meta = load_checkpoint_model(checkpoint, str(device))
    options = recipe_options((meta.get("training") or {}).get("recipe"))
    options = options.override(feature=feature, flip=flip, interpolation=interpolation)
    return ReIDModel(network, meta, options, device)
