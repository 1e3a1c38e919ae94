"""Batched training augmentation as tensor ops on the training device.

Input: a uint8 batch ``[B, H, W, 3]`` straight from the image cache. Output: a normalised
float batch ``[B, 3, H, W]``. Every random draw comes from a ``torch.Generator`` seeded with
``(seed, epoch, step, stream)``, so a batch's augmentation is reproducible on its own (exact
resume needs no augmentation state) and visible/infrared halves use independent streams.

Operations, in order (the field's ReID recipe):
1. zero-pad ``pad`` pixels on every side and crop back to ``H x W`` at a random offset;
2. horizontal flip with probability ``flip``;
3. channel augmentation for visible images (CAJ style, probability ``channel``): replace the
   image with one of its R, G, B channels or its grey value, replicated to three channels;
4. normalisation with the model's pixel mean/std;
5. random erasing with probability ``erasing``: a rectangle of 2-40 % of the area with aspect
   ratio 0.3-3.3 is set to 0 (the mean colour after normalisation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from vireid.errors import ConfigError

_MIX = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F)


@dataclass
class AugmentConfig:
    pad: int = 10
    flip: float = 0.5
    channel: float = 0.0  # CAJ channel exchange probability for visible images
    erasing: float = 0.0  # random erasing probability

    def validate(self) -> None:
        if self.pad < 0:
            raise ConfigError(f"augment.pad: must be >= 0, got {self.pad}")
        for name in ("flip", "channel", "erasing"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"augment.{name}: a probability in [0, 1], got {value}")


def step_seed(seed: int, epoch: int, step: int, stream: int = 0) -> int:
    """A 63-bit seed mixing the run seed, epoch, step and stream (e.g. modality, rank)."""
    value = 0
    for part, mult in zip((seed, epoch, step, stream), _MIX):
        value = (value * 0x100000001B3 + (int(part) + 1) * mult) % (1 << 63)
    return value


def make_generator(device: torch.device | str, seed: int) -> torch.Generator:
    gen = torch.Generator(device=torch.device(device))
    gen.manual_seed(seed)
    return gen


def to_float(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> float [B, 3, H, W] in [0, 1]."""
    return images_u8.permute(0, 3, 1, 2).float().div_(255.0)


def normalize(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    m = torch.tensor(mean, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    s = torch.tensor(std, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    return (images - m) / s


def pad_crop(images: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``pad`` and crop every image back to its size at its own random offset."""
    if pad == 0:
        return images
    b, c, h, w = images.shape
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
    dev = images.device
    oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen, device=dev)
    ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen, device=dev)
    rows = (oy[:, None] + torch.arange(h, device=dev)).view(b, 1, h, 1)
    cols = (ox[:, None] + torch.arange(w, device=dev)).view(b, 1, 1, w)
    rows_cut = torch.gather(padded, 2, rows.expand(b, c, h, w + 2 * pad))
    return torch.gather(rows_cut, 3, cols.expand(b, c, h, w))


def hflip(images: torch.Tensor, prob: float, gen: torch.Generator) -> torch.Tensor:
    if prob <= 0:
        return images
    mask = torch.rand(images.shape[0], generator=gen, device=images.device) < prob
    return torch.where(mask.view(-1, 1, 1, 1), images.flip(-1), images)


def channel_exchange(images: torch.Tensor, prob: float, gen: torch.Generator) -> torch.Tensor:
    """CAJ-style: with ``prob``, replace an image by one random channel (R, G, B) or its grey."""
    if prob <= 0:
        return images
    b = images.shape[0]
    dev = images.device
    apply = torch.rand(b, generator=gen, device=dev) < prob
    choice = torch.randint(0, 4, (b,), generator=gen, device=dev)
    grey = (0.299 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]).unsqueeze(1)
    stacked = torch.cat([images, grey], 1)  # [B, 4, H, W]
    single = stacked.gather(1, choice.view(b, 1, 1, 1).expand(b, 1, *images.shape[2:]))
    return torch.where(apply.view(-1, 1, 1, 1), single.expand_as(images), images)


def random_erasing(images: torch.Tensor, prob: float, gen: torch.Generator,
                   area: tuple[float, float] = (0.02, 0.4),
                   ratio: tuple[float, float] = (0.3, 3.3)) -> torch.Tensor:
    """Erase one random rectangle per selected image (value 0), all images at once."""
    if prob <= 0:
        return images
    b, _, h, w = images.shape
    dev = images.device
    apply = torch.rand(b, generator=gen, device=dev) < prob
    target = (area[0] + (area[1] - area[0]) * torch.rand(b, generator=gen, device=dev)) * h * w
    log_r = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * torch.rand(
        b, generator=gen, device=dev)
    aspect = torch.exp(log_r)
    eh = torch.sqrt(target * aspect).round().clamp(1, h).long()
    ew = torch.sqrt(target / aspect).round().clamp(1, w).long()
    y0 = (torch.rand(b, generator=gen, device=dev) * (h - eh + 1)).floor().long()
    x0 = (torch.rand(b, generator=gen, device=dev) * (w - ew + 1)).floor().long()
    ys = torch.arange(h, device=dev).view(1, h, 1)
    xs = torch.arange(w, device=dev).view(1, 1, w)
    inside = ((ys >= y0.view(b, 1, 1)) & (ys < (y0 + eh).view(b, 1, 1))
              & (xs >= x0.view(b, 1, 1)) & (xs < (x0 + ew).view(b, 1, 1)))
    mask = (inside & apply.view(b, 1, 1)).unsqueeze(1)
    return images.masked_fill(mask, 0.0)


def augment_batch(images_u8: torch.Tensor, cfg: AugmentConfig, mean: Sequence[float],
                  std: Sequence[float], gen: torch.Generator, *, visible: bool) -> torch.Tensor:
    """The full training augmentation of one modality's uint8 batch (on its device)."""
    x = to_float(images_u8)
    x = pad_crop(x, cfg.pad, gen)
    x = hflip(x, cfg.flip, gen)
    if visible:
        x = channel_exchange(x, cfg.channel, gen)
    x = normalize(x, mean, std)
    return random_erasing(x, cfg.erasing, gen)


def eval_batch(images_u8: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Test-time preprocessing of a cached uint8 batch: scale and normalise only."""
    return normalize(to_float(images_u8), mean, std)
