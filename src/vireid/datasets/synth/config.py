"""The synthetic benchmark's settings, validated through :mod:`vireid.config`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from vireid.errors import ConfigError

Layout = Literal["sysu", "regdb", "llcm", "custom"]
LAYOUTS: tuple[str, ...] = ("sysu", "regdb", "llcm", "custom")
# Two training and two test identities; a layout may need more (see layout.minimum_ids).
MIN_IDS = 4
VERSIONS: tuple[int, ...] = (1, 2)
LATEST_VERSION = 2

# Options that only benchmark version 2 has. Version 1 is frozen (its files are
# byte-identical to those written before versions existed), so it neither reads nor
# records them.
V2_FIELDS: tuple[str, ...] = ("views", "view_bias", "feet_crop_rate", "caption_omit_rate",
                              "caption_error_rate", "caption_filler_rate", "caption_view_rate")


@dataclass(frozen=True)
class SynthConfig:
    """Size and difficulty of a synthetic cross-modality benchmark.

    The defaults give a CPU demo with a SYSU-MM01-sized test split: 136 identities x 6
    cameras x 6 images of 128x64 pixels (4,896 images for the SYSU layout), 95 of them test
    identities (SYSU-MM01 has 96) and 41 training identities. A test split of 20 identities,
    the earlier default, moved R1 by ~2 points per query; see docs/synthetic.md.

    ``version`` picks the benchmark generation model. Version 1: every person drawn
    front-on, every caption names every attribute of its identity exactly. Version 2
    (default): each image has a viewpoint that decides what is drawn and visible, and its
    caption describes only what the image shows, with omissions, filler and wrong words,
    like a 7B captioner's.
    """

    ids: int = 136
    images_per_camera: int = 6
    height: int = 128
    width: int = 64
    seed: int = 0
    # Share of infrared captions' colour slots that name a colour (always a wrong one):
    # real captioners hallucinate colours on grey infrared images.
    ir_color_error_rate: float = 0.3
    # SYSU and LLCM layouts: share of identities in the test split (RegDB always halves).
    test_fraction: float = 0.7
    jpeg_quality: int = 92
    version: int = LATEST_VERSION
    # --- version 2 only -------------------------------------------------------------
    # Viewpoints (front, back, side): False draws everyone front-on with every attribute
    # visible, as version 1 does (captions stay noisy).
    views: bool = True
    # How strongly each camera prefers its own viewpoint: 0 = every view equally likely
    # everywhere, 1 = a camera sees only its preferred view.
    view_bias: float = 0.5
    # Share of images framed so close that the feet (shoes) are out of the picture.
    feet_crop_rate: float = 0.15
    # Share of the visible attributes a caption leaves out.
    caption_omit_rate: float = 0.3
    # Share of the named attributes (garments, bag, hair, build; colours in visible
    # captions) replaced by a wrong value of the same kind.
    caption_error_rate: float = 0.08
    # Share of captions that are generic filler ("A person walking.") and name nothing.
    caption_filler_rate: float = 0.05
    # Share of captions that say which way the person faces ("seen from behind").
    caption_view_rate: float = 0.3

    def validate(self) -> None:
        """Every option's range, and that version 1 is asked only for what it has."""
        if self.ids < MIN_IDS:
            raise ConfigError(f"ids: need at least {MIN_IDS} identities (train and test), got {self.ids}")
        if self.images_per_camera < 1:
            raise ConfigError(f"images_per_camera: must be >= 1, got {self.images_per_camera}")
        if self.height < 32 or self.width < 16:
            raise ConfigError(f"height x width: at least 32x16 pixels, got {self.height}x{self.width}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"test_fraction: must lie in (0, 1), got {self.test_fraction}")
        if not 1 <= self.jpeg_quality <= 95:
            raise ConfigError(f"jpeg_quality: must lie in [1, 95], got {self.jpeg_quality}")
        if self.version not in VERSIONS:
            raise ConfigError(f"version: benchmark version must be one of "
                              f"{', '.join(map(str, VERSIONS))}, got {self.version}")
        for name in ("ir_color_error_rate", "view_bias", "feet_crop_rate", "caption_omit_rate",
                     "caption_error_rate", "caption_filler_rate", "caption_view_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name}: must lie in [0, 1], got {value}")
        if self.version == 1:
            defaults = SynthConfig()
            changed = [n for n in V2_FIELDS if getattr(self, n) != getattr(defaults, n)]
            if changed:
                raise ConfigError(f"{changed[0]}: only benchmark version 2 has this option "
                                  f"(version 1 is frozen); drop it or use version 2")

    def metadata(self) -> dict[str, Any]:
        """The options recorded with a generated benchmark.

        Version 1 records exactly the fields it had before versions existed, so its
        ``synth.json`` and caption manifest stay byte-identical; a missing ``version``
        therefore means version 1.
        """
        data = asdict(self)
        if self.version == 1:
            for name in ("version", *V2_FIELDS):
                del data[name]
        return data

