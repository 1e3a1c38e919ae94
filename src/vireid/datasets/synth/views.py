"""Viewpoints (benchmark version 2): which way each image's person faces, and what shows.

Real cross-camera footage sees one person from different sides, so different cues show
in different images: a backpack from behind or the side, a chest logo and a shoulder-bag
strap from the front. Each camera prefers one view (a corridor camera sees people walking
away, an entrance camera sees faces), which is what makes cross-view cue differences a
camera effect that methods such as CVSC can learn to compensate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vireid.datasets.synth.attributes import Identity
from vireid.datasets.synth.config import SynthConfig

VIEWS: tuple[str, ...] = ("front", "back", "side")

# The attributes a caption can name. Colours ride on their garment: a hidden garment hides
# its colour too.
ATTRIBUTES: tuple[str, ...] = ("height", "build", "hair", "sleeves", "pattern", "top",
                               "bottom", "shoes", "bag")


@dataclass(frozen=True)
class Framing:
    """How one image shows its person: the view and whether the feet are in the picture."""

    view: str | None  # None: no view model, drawn front-on with everything visible (version 1)
    feet_cropped: bool = False


def camera_preference(seed: int, camera: int, infrared: bool) -> str:
    """The view a camera sees most often; fixed per seed, camera and modality."""
    rng = np.random.default_rng([seed, camera, int(infrared), 515])
    return VIEWS[int(rng.integers(len(VIEWS)))]


def view_probabilities(config: SynthConfig, camera: int, infrared: bool) -> np.ndarray:
    """P(front, back, side) for one camera: its preferred view gets ``view_bias`` extra mass."""
    probs = np.full(len(VIEWS), (1.0 - config.view_bias) / len(VIEWS))
    probs[VIEWS.index(camera_preference(config.seed, camera, infrared))] += config.view_bias
    return probs


def framing(config: SynthConfig, pid: int, camera: int, infrared: bool, shot: int) -> Framing:
    """The framing of one image, from its own random stream (independent of the render's).

    Version 1 has no framing model: everyone front-on, feet in the picture.
    """
    if config.version == 1:
        return Framing(None)
    rng = np.random.default_rng([config.seed, pid, camera, shot, int(infrared), 11])
    probs = view_probabilities(config, camera, infrared)
    view = VIEWS[int(rng.choice(len(VIEWS), p=probs))] if config.views else None
    return Framing(view, bool(rng.random() < config.feet_crop_rate))


def visible_attributes(person: Identity, frame: Framing) -> frozenset[str]:
    """The attributes an observer of this image could name.

    * pattern: a chest logo shows only from the front (stripes and checks from anywhere);
    * bag: a backpack shows from the back and the side (from the front only its straps),
      a shoulder bag from the front and the side (from behind the body hides it), a
      handbag from anywhere; "no bag" is visible from anywhere;
    * build: a side view shows depth, not width;
    * shoes: not when the feet are out of the picture.
    """
    shown = set(ATTRIBUTES)
    view = frame.view
    if view is not None:
        if person.pattern == "chest logo" and view != "front":
            shown.discard("pattern")
        if (person.bag == "backpack" and view == "front") or (
                person.bag == "shoulder bag" and view == "back"):
            shown.discard("bag")
        if view == "side":
            shown.discard("build")
    if frame.feet_cropped:
        shown.discard("shoes")
    return frozenset(shown)
