"""The synthetic benchmark's settings, validated through :mod:`vireid.config`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vireid.errors import ConfigError

Layout = Literal["sysu", "regdb", "llcm"]
LAYOUTS: tuple[str, ...] = ("sysu", "regdb", "llcm")
# Two training and two test identities; a layout may need more (see layout.minimum_ids).
MIN_IDS = 4


@dataclass(frozen=True)
class SynthConfig:
    """Size and difficulty of a synthetic cross-modality benchmark.

    The defaults give a CPU demo: 60 identities x 6 cameras x 6 images of 128x64 pixels
    (2,160 images for the SYSU layout), generated in a few seconds.
    """

    ids: int = 60
    images_per_camera: int = 6
    height: int = 128
    width: int = 64
    seed: int = 0
    # Share of infrared captions' colour slots that name a colour (always a wrong one):
    # real captioners hallucinate colours on grey infrared images.
    ir_color_error_rate: float = 0.3
    # SYSU and LLCM layouts: share of identities in the test split (RegDB always halves).
    test_fraction: float = 0.33
    jpeg_quality: int = 92

    def validate(self) -> None:
        if self.ids < MIN_IDS:
            raise ConfigError(f"ids: need at least {MIN_IDS} identities (train and test), got {self.ids}")
        if self.images_per_camera < 1:
            raise ConfigError(f"images_per_camera: must be >= 1, got {self.images_per_camera}")
        if self.height < 32 or self.width < 16:
            raise ConfigError(f"height x width: at least 32x16 pixels, got {self.height}x{self.width}")
        if not 0.0 <= self.ir_color_error_rate <= 1.0:
            raise ConfigError(f"ir_color_error_rate: must lie in [0, 1], got {self.ir_color_error_rate}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"test_fraction: must lie in (0, 1), got {self.test_fraction}")
        if not 1 <= self.jpeg_quality <= 95:
            raise ConfigError(f"jpeg_quality: must lie in [1, 95], got {self.jpeg_quality}")
