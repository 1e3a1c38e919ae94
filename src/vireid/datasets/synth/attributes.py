"""Latent per-identity attributes of the synthetic people.

Attributes fall in two groups. *Shared* cues (build, height, hair, sleeves, top pattern,
bottom garment, bag, shoes) shape the silhouette and texture, so both modalities see them.
*Colour* belongs to the visible world only; the infrared renderer uses an independent
per-garment "thermal" value instead. Shared-cue combinations are drawn without repetition
so that identities stay distinguishable across modalities.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

BUILDS = ("slim", "average", "broad")
HEIGHTS = ("short", "medium", "tall")
HAIR = ("short", "medium", "long")
SLEEVES = ("short", "long")
PATTERNS = ("plain", "horizontal stripes", "vertical stripes", "checked", "chest logo")
BOTTOMS = ("trousers", "shorts", "skirt")
BAGS = ("no bag", "backpack", "shoulder bag", "handbag")
SHOES = ("shoes", "boots")

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (196, 36, 40),
    "blue": (40, 72, 190),
    "green": (44, 150, 64),
    "yellow": (226, 200, 48),
    "black": (28, 28, 30),
    "white": (232, 232, 228),
    "grey": (128, 128, 132),
    "pink": (230, 130, 170),
    "purple": (120, 50, 150),
    "orange": (236, 126, 30),
    "brown": (120, 76, 40),
    "beige": (210, 190, 150),
}
HAIR_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (24, 20, 18),
    "brown": (90, 56, 30),
    "blond": (200, 170, 100),
}
SKIN_TONES = ((236, 200, 170), (210, 160, 120), (160, 110, 80), (110, 74, 52))

_SHARED_AXES = (BUILDS, HEIGHTS, HAIR, SLEEVES, PATTERNS, BOTTOMS, BAGS, SHOES)


@dataclass(frozen=True)
class Identity:
    """Everything that stays fixed for one synthetic person across cameras."""

    pid: int
    build: str
    height: str
    hair: str
    sleeves: str
    pattern: str
    bottom: str
    bag: str
    shoes: str
    # visible-only appearance
    top_colour: str
    pattern_colour: str
    bottom_colour: str
    bag_colour: str
    shoe_colour: str
    hair_colour: str
    skin_tone: int
    # infrared-only appearance: emitted brightness per garment in [0, 1], independent of colour
    thermal_top: float
    thermal_pattern: float
    thermal_bottom: float
    thermal_bag: float
    thermal_hair: float
    thermal_skin: float
    # texture geometry shared by both modalities
    pattern_period: float
    pattern_phase: float
    bag_side: int  # +1 right, -1 left (before per-image mirroring)

    def shared_cues(self) -> tuple[str, ...]:
        return (self.build, self.height, self.hair, self.sleeves, self.pattern, self.bottom,
                self.bag, self.shoes)


def _two_distinct(rng: np.random.Generator, names: list[str]) -> tuple[str, str]:
    a, b = rng.choice(len(names), size=2, replace=False)
    return names[int(a)], names[int(b)]


def sample_identities(pids: list[int], rng: np.random.Generator) -> list[Identity]:
    """One :class:`Identity` per pid; shared-cue combinations are unique while possible."""
    combos = list(itertools.product(*_SHARED_AXES))
    replace = len(pids) > len(combos)
    picks = rng.choice(len(combos), size=len(pids), replace=replace)
    colour_names = list(COLOURS)
    hair_names = list(HAIR_COLOURS)
    people = []
    for pid, pick in zip(pids, picks):
        build, height, hair, sleeves, pattern, bottom, bag, shoes = combos[int(pick)]
        top, pattern_colour = _two_distinct(rng, colour_names)
        # The pattern must stay visible in infrared too: its thermal value differs from the
        # garment's by a clear margin, in a random direction.
        thermal_top = float(rng.uniform(0.42, 0.78))
        delta = float(rng.uniform(0.14, 0.24)) * (1 if thermal_top < 0.6 else -1)
        people.append(Identity(
            pid=int(pid), build=build, height=height, hair=hair, sleeves=sleeves,
            pattern=pattern, bottom=bottom, bag=bag, shoes=shoes,
            top_colour=top, pattern_colour=pattern_colour,
            bottom_colour=colour_names[int(rng.integers(len(colour_names)))],
            bag_colour=colour_names[int(rng.integers(len(colour_names)))],
            shoe_colour=("black", "white", "brown", "grey")[int(rng.integers(4))],
            hair_colour=hair_names[int(rng.integers(len(hair_names)))],
            skin_tone=int(rng.integers(len(SKIN_TONES))),
            thermal_top=thermal_top,
            thermal_pattern=thermal_top + delta,
            thermal_bottom=float(rng.uniform(0.38, 0.75)),
            thermal_bag=float(rng.uniform(0.15, 0.40)),
            thermal_hair=float(rng.uniform(0.30, 0.50)),
            thermal_skin=float(rng.uniform(0.85, 0.97)),
            pattern_period=float(rng.uniform(0.035, 0.06)),
            pattern_phase=float(rng.uniform(0.0, 1.0)),
            bag_side=1 if rng.random() < 0.5 else -1,
        ))
    return people
