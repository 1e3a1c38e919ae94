"""Batched training augmentation as tensor ops on the training device.

Input: a uint8 batch ``[B, H, W, 3]`` straight from the image cache. Output: a normalised
float batch ``[B, 3, H, W]``. Every random draw comes from a ``torch.Generator`` seeded with
``(seed, epoch, step, stream)``, so a batch's augmentation is reproducible on its own (exact
resume needs no augmentation state) and visible/infrared halves use independent streams.
Every random parameter is drawn per sample, for the whole batch at once, on the batch's
device; channel order is always the cache's R, G, B (index 0 = R, 1 = G, 2 = B).

Why not kornia.augmentation: it draws per-sample parameters from torch's *global* RNG, not
from a passed ``torch.Generator``, so a batch's augmentation would depend on everything that
consumed random numbers before it; vireid needs each step's augmentation to be a function of
(seed, epoch, step, stream) alone for determinism and exact resume. The ops here are plain
torch (no kornia dependency, none installed either).

Operations of :func:`augment_batch`, in order:
1. zero-pad ``pad`` pixels on every side and crop back to ``H x W`` at a random offset;
2. horizontal flip with probability ``flip``;
3. ``channel`` (vireid's option, visible images only, in [0, 1] pixel space): with that
   probability replace the image by one of its R, G, B channels or its grey value;
4. normalisation with the model's pixel mean/std (``model.pixel_stats``: clip | imagenet);
5. random erasing with probability ``erasing`` (:func:`random_erasing`, CAJ's
   ChannelRandomErasing);
6. infrared images only: ``ir_adaptive_grey`` (:func:`adaptive_grey`, CAJ's ChannelAdapGray).

:func:`visible_views` gives the authors' two visible views of one batch: view 1 is
:func:`augment_batch`; view 2 is :func:`augment_batch` with its own generator followed by
:func:`channel_exchange` (CAJ's ChannelExchange).

The authors' (CSDN / CAJ) transforms, as the facts used here (read in nengdong96/CSDN
data_loader/loader.py and processing.py at commit 794cc3f, whose classes match CAJ's
ChannelAug.py): Pad(10), RandomCrop(288x144), RandomHorizontalFlip, ToTensor, ImageNet
Normalize, then visible view 1 = ChannelRandomErasing(p=0.5); visible view 2 =
ChannelRandomErasing(p=0.5) then ChannelExchange(gray=2); infrared =
ChannelRandomErasing(p=0.5) then ChannelAdapGray(p=0.5). Note: ChannelExchange(gray=2) never
produces grey (see :func:`channel_exchange`), although docs/reference.md section 5 says
"channel or grey". Steps 5 and 6 and view 2's exchange therefore work on the normalised
tensor, after erasing, as theirs do. Every new option defaults to off, and with them off the
output is bit-identical to vireid's earlier pipeline (pinned by a test).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from vireid.errors import ConfigError

_MIX = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F)

#: CAJ's grey value: 0.2989 R + 0.5870 G + 0.1140 B (ITU-R BT.601 weights, as in its code).
GREY_WEIGHTS = (0.2989, 0.5870, 0.1140)
#: CAJ's / torchreid's RandomErasing default fill, written as-is into the *normalised* tensor.
CAJ_ERASING_VALUE = (0.4914, 0.4822, 0.4465)
#: CAJ tries up to 100 random rectangles per image and erases the first that fits.
ERASING_ATTEMPTS = 100
#: ``step_seed`` stream offset of the second visible view: the trainer uses ``stream + 0``
#: (visible), ``+ 1`` (infrared), ``+ 2`` (loss) and ``+ 3`` (this) of its ``4 * rank`` block.
SECOND_VIEW_STREAM = 3

FILLS = ("mean", "random", "zero")
ADAPTIVE_GREY_MODES = ("off", "caj", "coin")


@dataclass
class AugmentConfig:
    """Training augmentation. Defaults reproduce vireid's pipeline before the CAJ options.

    The authors' recipe (CSDN loader, CAJ transforms): ``pad = 10``, ``flip = 0.5``,
    ``erasing = 0.5`` (fill "mean", area and ratio defaults), ``second_visible_view = true``
    (``channel_exchange = 1.0``, ``channel_exchange_grey = false``),
    ``ir_adaptive_grey = "caj"`` (``ir_adaptive_grey_p = 0.5``), ``model.pixel_stats = "imagenet"``.
    """

    pad: int = 10
    flip: float = 0.5
    channel: float = 0.0  # vireid's channel exchange on the (first) visible view, pre-normalisation
    # Random erasing (CAJ ChannelRandomErasing), on the normalised tensor.
    erasing: float = 0.0  # probability per image
    erasing_area: tuple[float, float] = (0.02, 0.4)  # CAJ sl, sh: fraction of the image area
    erasing_ratio: tuple[float, float] = (0.3, 1 / 0.3)  # CAJ r1, 1/r1: height/width, uniform
    erasing_fill: Literal["mean", "random", "zero"] = "mean"  # see random_erasing
    erasing_value: tuple[float, float, float] = CAJ_ERASING_VALUE  # the "mean" fill per channel
    # Infrared adaptive grey (CAJ ChannelAdapGray), on the normalised tensor after erasing.
    ir_adaptive_grey: Literal["off", "caj", "coin"] = "off"
    ir_adaptive_grey_p: float = 0.5
    # Second visible view (view 1's pipeline + CAJ ChannelExchange); the trainer's switch.
    second_visible_view: bool = False
    channel_exchange: float = 1.0  # probability of the exchange on view 2 (CAJ: always)
    channel_exchange_grey: bool = False  # grey among view 2's choices (CAJ gray=2: never)

    def validate(self) -> None:
        if self.pad < 0:
            raise ConfigError(f"augment.pad: must be >= 0, got {self.pad}")
        for name in ("flip", "channel", "erasing", "ir_adaptive_grey_p", "channel_exchange"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"augment.{name}: a probability in [0, 1], got {value}")
        lo, hi = _pair(self.erasing_area, "erasing_area")
        if not 0.0 < lo <= hi <= 1.0:
            raise ConfigError(f"augment.erasing_area: [min, max] fractions of the image area with "
                              f"0 < min <= max <= 1, got {list(self.erasing_area)}")
        lo, hi = _pair(self.erasing_ratio, "erasing_ratio")
        if not 0.0 < lo <= hi:
            raise ConfigError(f"augment.erasing_ratio: [min, max] height/width ratios with "
                              f"0 < min <= max, got {list(self.erasing_ratio)}")
        if self.erasing_fill not in FILLS:
            raise ConfigError(f"augment.erasing_fill: one of {', '.join(FILLS)}, got {self.erasing_fill!r}")
        if len(self.erasing_value) != 3:
            raise ConfigError(f"augment.erasing_value: one value per channel (3), got {list(self.erasing_value)}")
        if self.ir_adaptive_grey not in ADAPTIVE_GREY_MODES:
            raise ConfigError(f"augment.ir_adaptive_grey: one of {', '.join(ADAPTIVE_GREY_MODES)}, "
                              f"got {self.ir_adaptive_grey!r}")


def _pair(value: Sequence[float], name: str) -> tuple[float, float]:
    if len(value) != 2:
        raise ConfigError(f"augment.{name}: expected [min, max], got {list(value)}")
    return float(value[0]), float(value[1])


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


def _grey(images: torch.Tensor) -> torch.Tensor:
    """CAJ's grey value ``[B, 1, H, W]`` in the images' dtype (integers rounded)."""
    x = images if images.is_floating_point() else images.float()
    r, g, b = GREY_WEIGHTS
    grey = (r * x[:, 0] + g * x[:, 1] + b * x[:, 2]).unsqueeze(1)
    if not images.is_floating_point():
        info = torch.iinfo(images.dtype)
        grey = grey.round().clamp(info.min, info.max)
    return grey.to(images.dtype)


def _one_channel(images: torch.Tensor, choice: torch.Tensor, grey: bool) -> torch.Tensor:
    """Per image, channel ``choice`` (0 R, 1 G, 2 B, 3 grey) copied to all three channels."""
    b = images.shape[0]
    source = torch.cat([images, _grey(images)], 1) if grey else images
    index = choice.view(b, 1, 1, 1).expand(b, 1, *images.shape[2:])
    return source.gather(1, index).expand_as(images)


def channel_exchange(images: torch.Tensor, prob: float, gen: torch.Generator, *,
                     grey: bool = True) -> torch.Tensor:
    """With ``prob``, replace an image ``[B, 3, H, W]`` (any dtype) by one of its channels,
    chosen uniformly, copied to all three; ``grey`` adds the grey value as a fourth choice.

    CAJ ChannelExchange(gray=2), the authors' second visible view, draws ``randint(0, gray)``
    *inclusive* and branches 0 -> channel 0, 1 -> channel 1, 2 -> channel 2, else grey: with
    gray=2 the grey branch is never taken (its comments call channel 1 "B" and 2 "G"; with
    ToTensor of an RGB image the order is R, G, B). It has no probability (always applied):
    ``prob=1.0, grey=False`` reproduces it. vireid's ``channel`` option uses ``grey=True``.
    """
    if prob <= 0:
        return images
    b, dev = images.shape[0], images.device
    apply = torch.rand(b, generator=gen, device=dev) < prob
    choice = torch.randint(0, 4 if grey else 3, (b,), generator=gen, device=dev)
    return torch.where(apply.view(-1, 1, 1, 1), _one_channel(images, choice, grey), images)


def adaptive_grey(images: torch.Tensor, mode: str, prob: float, gen: torch.Generator) -> torch.Tensor:
    """Infrared channel augmentation of ``[B, 3, H, W]`` images (any dtype).

    ``"caj"`` is CAJ ChannelAdapGray(probability=p) as written: draw ``randint(0, 3)``
    (inclusive); 0, 1, 2 copy that channel (R, G, B) to all three; 3 turns the image grey when
    a uniform draw is <= p and otherwise keeps it. So the probability only gates the grey
    branch: with p=0.5 an image becomes a single channel 3/4 of the time, grey 1/8, unchanged
    1/8. ``"coin"`` is the other reading: with probability p replace the image by R, G, B or
    grey (uniform), otherwise keep it (= ``channel_exchange(images, p, gen, grey=True)``).
    ``"off"`` returns the images untouched and draws nothing.
    """
    if mode == "off":
        return images
    if mode == "coin":
        return channel_exchange(images, prob, gen, grey=True)
    if mode != "caj":
        raise ValueError(f"adaptive grey mode must be one of {', '.join(ADAPTIVE_GREY_MODES)}, got {mode!r}")
    b, dev = images.shape[0], images.device
    choice = torch.randint(0, 4, (b,), generator=gen, device=dev)
    coin = torch.rand(b, generator=gen, device=dev)
    replace = (choice < 3) | (coin < prob)
    return torch.where(replace.view(-1, 1, 1, 1), _one_channel(images, choice, True), images)


def random_erasing(images: torch.Tensor, prob: float, gen: torch.Generator,
                   area: tuple[float, float] = (0.02, 0.4),
                   ratio: tuple[float, float] = (0.3, 1 / 0.3), *,
                   fill: str = "mean", value: Sequence[float] = CAJ_ERASING_VALUE,
                   attempts: int = ERASING_ATTEMPTS) -> torch.Tensor:
    """Erase one random rectangle in each selected image of ``[B, C, H, W]``, all at once.

    CAJ ChannelRandomErasing(probability=0.5, sl=0.02, sh=0.4, r1=0.3), the authors' loader,
    applied after Normalize: with ``prob``, up to 100 attempts each draw a target area
    uniform in ``area`` x H*W and an aspect (height/width) uniform in ``[r1, 1/r1]``
    (uniform, not log-uniform), take h = round(sqrt(area*aspect)), w = round(sqrt(area/aspect))
    and accept the first with h < H and w < W (strictly); the top-left corner is uniform over
    every position that fits. When no attempt fits nothing is erased. Fill, per channel:

    * ``"mean"``: ``value[c]`` in channel c. CAJ's default (as torchreid's) is
      (0.4914, 0.4822, 0.4465), written into the *normalised* tensor as-is;
    * ``"zero"``: 0, i.e. the dataset mean colour after normalisation (vireid's earlier fill);
    * ``"random"``: a standard normal value per pixel and channel (torchvision's
      ``value="random"``); integer images get uniform integers in [0, 255].
    """
    if prob <= 0:
        return images
    if fill not in FILLS:
        raise ValueError(f"erasing fill must be one of {', '.join(FILLS)}, got {fill!r}")
    b, c, h, w = images.shape
    dev = images.device
    apply = torch.rand(b, generator=gen, device=dev) < prob
    draw = dict(generator=gen, device=dev, dtype=torch.float64)
    target = (area[0] + (area[1] - area[0]) * torch.rand(b, attempts, **draw)) * (h * w)
    aspect = ratio[0] + (ratio[1] - ratio[0]) * torch.rand(b, attempts, **draw)
    eh = torch.sqrt(target * aspect).round().long()
    ew = torch.sqrt(target / aspect).round().long()
    fits = (eh < h) & (ew < w)
    first = fits.int().argmax(1, keepdim=True)  # the first attempt that fits
    eh, ew = eh.gather(1, first).squeeze(1), ew.gather(1, first).squeeze(1)
    apply &= fits.any(1)
    y0 = (torch.rand(b, **draw) * (h - eh + 1)).floor().long()
    x0 = (torch.rand(b, **draw) * (w - ew + 1)).floor().long()
    ys = torch.arange(h, device=dev).view(1, h, 1)
    xs = torch.arange(w, device=dev).view(1, 1, w)
    inside = ((ys >= y0.view(b, 1, 1)) & (ys < (y0 + eh).view(b, 1, 1))
              & (xs >= x0.view(b, 1, 1)) & (xs < (x0 + ew).view(b, 1, 1)))
    mask = (inside & apply.view(b, 1, 1)).unsqueeze(1)
    if fill == "zero":
        return images.masked_fill(mask, 0)
    if fill == "mean":
        filler = torch.tensor(list(value)[:c], dtype=torch.float32, device=dev).view(1, c, 1, 1)
        if not images.is_floating_point():
            filler = filler.round()
        return torch.where(mask, filler.to(images.dtype), images)
    if images.is_floating_point():
        noise = torch.randn(images.shape, generator=gen, device=dev).to(images.dtype)
    else:
        noise = torch.randint(0, 256, images.shape, generator=gen, device=dev).to(images.dtype)
    return torch.where(mask, noise, images)


def augment_batch(images_u8: torch.Tensor, cfg: AugmentConfig, mean: Sequence[float],
                  std: Sequence[float], gen: torch.Generator, *, visible: bool) -> torch.Tensor:
    """The full training augmentation of one modality's uint8 batch (on its device)."""
    x = to_float(images_u8)
    x = pad_crop(x, cfg.pad, gen)
    x = hflip(x, cfg.flip, gen)
    if visible:
        x = channel_exchange(x, cfg.channel, gen)
    x = normalize(x, mean, std)
    x = random_erasing(x, cfg.erasing, gen, cfg.erasing_area, cfg.erasing_ratio,
                       fill=cfg.erasing_fill, value=cfg.erasing_value)
    if not visible:
        x = adaptive_grey(x, cfg.ir_adaptive_grey, cfg.ir_adaptive_grey_p, gen)
    return x


def visible_views(images_u8: torch.Tensor, cfg: AugmentConfig, mean: Sequence[float],
                  std: Sequence[float], gen: torch.Generator,
                  second_gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The authors' two views of one visible uint8 batch ``[B, H, W, 3]``.

    View 1 is ``augment_batch(..., gen, visible=True)`` exactly. View 2 runs the same pipeline
    with its own draws from ``second_gen`` (its own crop, flip and erasing, as the authors'
    separate transform does) and then :func:`channel_exchange` with probability
    ``cfg.channel_exchange`` (grey a choice only with ``cfg.channel_exchange_grey``). Give
    ``second_gen`` its own stream, e.g. ``step_seed(seed, epoch, step, stream +
    SECOND_VIEW_STREAM)``. ``cfg.second_visible_view`` is the trainer's switch for calling this.
    """
    first = augment_batch(images_u8, cfg, mean, std, gen, visible=True)
    second = augment_batch(images_u8, cfg, mean, std, second_gen, visible=True)
    second = channel_exchange(second, cfg.channel_exchange, second_gen, grey=cfg.channel_exchange_grey)
    return first, second


def eval_batch(images_u8: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Test-time preprocessing of a cached uint8 batch: scale and normalise only."""
    return normalize(to_float(images_u8), mean, std)
