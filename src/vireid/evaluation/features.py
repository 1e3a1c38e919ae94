"""Test features from a trained model: batched, no_grad, eval mode, optional flip TTA.

Pre-processing mirrors CLIP-ReID / CSDN testing: ``load_rgb`` -> resize to the model's
``image_size`` (H, W) with PIL ``interpolation`` (``"bicubic"``, CLIP's own resampling and
vireid's default, or ``"bilinear"``, torchvision's Resize default that CSDN tests with) ->
[0, 1] -> normalise with the model's ``pixel_mean`` / ``pixel_std``. Feature kinds follow the
model contract in docs/architecture.md: ``pooled``, ``bn``, ``proj`` or ``concat`` =
cat(L2(bn), L2(proj)).

Flip test-time augmentation (``flip``), with f and f' the composed features of the image and
of its horizontal mirror:

* ``"none"``: L2(f);
* ``"mean"``: L2((f + f') / 2), vireid's default (``flip=True`` means this);
* ``"concat"``: [L2(f), L2(f')] / sqrt(2), twice the dimension. CSDN (core/test.py, dd6e953)
  concatenates its 3072-d cat(L2(bn), L2(proj)) of the image and of the mirror into 6144-d
  and ranks by dot product without a final normalisation; with ``feature="concat"`` this is
  exactly CSDN's vector divided by 2 (each 3072-d half has norm sqrt(2)), so dot products,
  rankings and every metric are CSDN's. For the single kinds each half is L2-normalised the
  same way.

Every row returned has unit L2 norm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from vireid.config import from_dict
from vireid.datasets.images import load_rgb
from vireid.errors import ConfigError, VireidError
from vireid.evaluation.options import FEATURE_KINDS, FLIP_MODES, INTERPOLATIONS  # noqa: F401 - re-exported
from vireid.models import pixel_stats
from vireid.progress import Ticker, interactive

_RESAMPLE = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}


PIXEL_STATS = ("checkpoint", "clip", "imagenet")


@dataclass(frozen=True)
class FeatureOptions:
    """How test features are made, typed and validated in one place (a recipe's ``[eval]``
    table, `vireid eval` flags, the pipeline), then passed down whole.

    ``feature``: pooled | bn | proj | concat (see :func:`compose_feature`); ``flip``: none |
    mean | concat (see the module docstring); ``interpolation``: bicubic | bilinear resizing
    of the test images; ``pixel_stats``: checkpoint (the network's own normalisation, from
    its ``model_config``) | clip | imagenet.
    """

    feature: str = "concat"
    flip: str = "mean"
    interpolation: str = "bicubic"
    pixel_stats: str = "checkpoint"

    def check(self, where: str = "eval") -> None:
        """Every value allowed, else a ConfigError naming ``where.key`` (the file or table it came from)."""
        for key, allowed in (("feature", FEATURE_KINDS), ("flip", FLIP_MODES),
                             ("interpolation", INTERPOLATIONS), ("pixel_stats", PIXEL_STATS)):
            if getattr(self, key) not in allowed:
                raise ConfigError(f"{where}.{key}: one of {', '.join(allowed)}, got {getattr(self, key)!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "eval") -> FeatureOptions:
        """Options from plain data (unknown keys and bad values: ConfigError naming ``where.key``);
        the booleans older callers used for ``flip`` map True -> mean, False -> none."""
        data = dict(data)
        if isinstance(data.get("flip"), bool):
            data["flip"] = flip_mode(data["flip"])
        options = from_dict(cls, data, prefix=f"{where}.")
        options.check(where)
        return options

    def mean_std(self, model: Any) -> tuple[Sequence[float], Sequence[float]]:
        """The pixel mean and std the test images are normalised with."""
        if self.pixel_stats == "checkpoint":
            return model.pixel_mean, model.pixel_std
        return pixel_stats(self.pixel_stats)

    def resolved(self, model: Any) -> FeatureOptions:
        """These options with ``pixel_stats`` named (``checkpoint`` -> the network's own)."""
        if self.pixel_stats != "checkpoint":
            return self
        own = getattr(getattr(model, "config", None), "pixel_stats", None)
        return FeatureOptions(self.feature, self.flip, self.interpolation, own) if own else self

    def record(self) -> dict[str, str]:
        """What results and feature files record of them."""
        return asdict(self)

    def override(self, **values: str | None) -> FeatureOptions:
        """These options with every non-None value of ``values`` replaced, validated."""
        options = replace(self, **{k: v for k, v in values.items() if v is not None})
        options.check("options")
        return options


def flip_mode(flip: bool | str) -> str:
    """The flip TTA mode: ``"none"``, ``"mean"`` or ``"concat"``; the booleans of older callers
    and saved metadata map True -> ``"mean"`` (the averaging vireid always did), False -> ``"none"``."""
    if isinstance(flip, bool):
        return "mean" if flip else "none"
    if flip not in FLIP_MODES:
        raise VireidError(f"flip must be one of {', '.join(FLIP_MODES)}, got {flip!r}")
    return flip


def combine_flip(feat: torch.Tensor, mirrored: torch.Tensor | None, flip: bool | str) -> torch.Tensor:
    """The unit-norm test feature [B, D] (or [B, 2D] for ``"concat"``) of a batch's composed
    features ``feat`` and those of its mirrored images (unused for ``"none"``)."""
    mode = flip_mode(flip)
    if mode == "none":
        return F.normalize(feat, dim=1)
    if mirrored is None:
        raise VireidError(f"flip={mode!r} needs the features of the mirrored images")
    if mode == "mean":
        return F.normalize((feat + mirrored) / 2, dim=1)
    return torch.cat([F.normalize(feat, dim=1), F.normalize(mirrored, dim=1)], dim=1) / 2 ** 0.5


def compose_feature(outputs: dict[str, torch.Tensor], kind: str = "concat") -> torch.Tensor:
    """Pick or build the test feature from ``encode_image`` outputs (not yet L2-normalised)."""
    if kind not in FEATURE_KINDS:
        raise VireidError(f"unknown feature kind {kind!r}; expected one of {', '.join(FEATURE_KINDS)}")
    if kind == "concat":
        return torch.cat([F.normalize(outputs["bn"].float(), dim=1),
                          F.normalize(outputs["proj"].float(), dim=1)], dim=1)
    return outputs[kind].float()


def to_model_input(img: Image.Image, size: tuple[int, int], mean: Sequence[float], std: Sequence[float],
                   interpolation: str = "bicubic") -> torch.Tensor:
    """One RGB image as the network's normalised input [3, H, W]: resize to ``size`` (H, W)
    with PIL ``interpolation``, scale to [0, 1], subtract ``mean`` and divide by ``std``."""
    img = img.resize((int(size[1]), int(size[0])), _RESAMPLE[interpolation])  # PIL wants (W, H)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
    return (x - mean_t) / std_t


def read_model_input(path: Path, size: tuple[int, int], mean: Sequence[float], std: Sequence[float],
                     interpolation: str = "bicubic") -> tuple[torch.Tensor, str]:
    """``(input, "")`` for a readable image file, or ``(zeros, one-line reason)``: an exception
    raised in a DataLoader worker reaches the user as a page of worker traceback."""
    try:
        img = load_rgb(path)
    except VireidError as exc:
        return torch.zeros(3, int(size[0]), int(size[1])), str(exc).splitlines()[0]
    except Exception as exc:  # noqa: BLE001 - reported as one line naming the image
        return torch.zeros(3, int(size[0]), int(size[1])), f"{path}: unreadable image ({type(exc).__name__}: {exc})"
    return to_model_input(img, size, mean, std, interpolation), ""


class _ImageFiles(Dataset):
    """Decodes and normalises root-relative image paths (worker processes do the decoding)."""

    def __init__(self, root: Path, paths: Sequence[str], size: tuple[int, int],
                 mean: Sequence[float], std: Sequence[float], interpolation: str):
        self.root, self.paths = root, list(paths)
        self.size, self.mean, self.std, self.interpolation = size, mean, std, interpolation

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, str]:
        return read_model_input(self.root / self.paths[i], self.size, self.mean, self.std, self.interpolation)


def encode_batch(model: Any, images: torch.Tensor, modality: str, feature: str = "concat",
                 flip: bool | str = True) -> torch.Tensor:
    """The unit-norm test features of one batch of normalised ``images`` of one ``modality``:
    :func:`compose_feature` of ``encode_image``, with flip TTA (:func:`combine_flip`)."""
    mode = flip_mode(flip)
    feat = compose_feature(model.encode_image(images, modality), feature)
    mirrored = None
    if mode != "none":
        mirrored = compose_feature(model.encode_image(torch.flip(images, dims=[3]), modality), feature)
    return combine_flip(feat, mirrored, mode)


@torch.no_grad()
def extract_features(model: Any, root: str | Path, paths: Sequence[str], modalities: Sequence[str],
                     options: FeatureOptions = FeatureOptions(), *, batch_size: int = 64,
                     num_workers: int = 0, device: str | torch.device = "cpu",
                     progress: bool = True) -> np.ndarray:
    """L2-normalised float32 features [N, D] for ``paths`` (root-relative), in input order.

    Each batch holds one modality, because ``encode_image`` routes visible and infrared
    images through different stems. ``options``: feature, flip, resize and pixel statistics
    (:class:`FeatureOptions`).
    """
    if len(paths) != len(modalities):
        raise VireidError(f"{len(paths)} paths but {len(modalities)} modalities")
    options.check()
    feature, mode, interpolation = options.feature, options.flip, options.interpolation
    mean, std = options.mean_std(model)
    model.eval()
    root = Path(root)
    out: np.ndarray | None = None
    ticker = Ticker("extracting features", len(paths), "img", enabled=progress and not interactive())
    bar = None
    if progress and interactive():
        from tqdm.auto import tqdm

        bar = tqdm(total=len(paths), desc="extracting features", unit="img", leave=False)
    for modality in sorted(set(modalities)):
        index = [i for i, m in enumerate(modalities) if m == modality]
        data = _ImageFiles(root, [paths[i] for i in index], model.image_size, mean, std, interpolation)
        loader = DataLoader(data, batch_size=batch_size, shuffle=False, num_workers=num_workers)
        chunks = []
        for images, errors in loader:
            bad = [e for e in errors if e]
            if bad:
                more = f" (and {len(bad) - 1} more in this batch)" if len(bad) > 1 else ""
                raise VireidError(f"{bad[0]}{more}")
            if bar is not None:
                bar.update(len(images))
            ticker.update(len(images))
            feats = encode_batch(model, images.to(device), modality, feature, mode)
            chunks.append(feats.cpu().numpy().astype(np.float32))
        feats = np.concatenate(chunks)
        if out is None:
            out = np.empty((len(paths), feats.shape[1]), dtype=np.float32)
        out[index] = feats
    if bar is not None:
        bar.close()
    if out is None:
        raise VireidError("no images to extract features from")
    return out
