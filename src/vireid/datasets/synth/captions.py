"""Reference captions written from the latent attributes.

Visible captions name the true colours. Infrared captions describe grey levels (from the
thermal values) and the modality-shared cues; with probability ``error_rate`` each colour
slot instead names a colour, always a wrong one, imitating captioners that hallucinate
colours on infrared images.
"""

from __future__ import annotations

import numpy as np

from vireid.datasets.synth.attributes import COLOURS, Identity

_BUILD_WORDS = {"slim": "slim", "average": "medium-build", "broad": "broad"}
_HEIGHT_WORDS = {"short": "short", "medium": "", "tall": "tall"}
_HAIR_WORDS = {"short": "short hair", "medium": "chin-length hair", "long": "long hair"}
_PATTERN_WORDS = {"plain": "plain", "horizontal stripes": "horizontally striped",
                  "vertical stripes": "vertically striped", "checked": "checked",
                  "chest logo": "logo"}
_BOTTOM_WORDS = {"trousers": "long trousers", "shorts": "shorts", "skirt": "a skirt"}


def _person(p: Identity) -> str:
    words = [w for w in (_HEIGHT_WORDS[p.height], _BUILD_WORDS[p.build]) if w]
    return " ".join(words + ["person"])


def _sleeves(p: Identity) -> str:
    return "short-sleeved" if p.sleeves == "short" else "long-sleeved"


def _bag(p: Identity, colour: str | None) -> str:
    if p.bag == "no bag":
        return "carrying nothing"
    return f"carrying a {colour + ' ' if colour else ''}{p.bag}"


def _bottom(p: Identity, descr: str) -> str:
    garment = _BOTTOM_WORDS[p.bottom]
    if garment.startswith("a "):
        return f"a {descr} {garment[2:]}"
    return f"{descr} {garment}"


def visible_caption(p: Identity, rng: np.random.Generator) -> str:
    top = f"{p.top_colour} {_PATTERN_WORDS[p.pattern]} {_sleeves(p)} top"
    if p.pattern != "plain":
        top += f" with {p.pattern_colour} {'print' if p.pattern == 'chest logo' else 'bands'}"
    parts = [
        f"A {_person(p)} with {p.hair_colour} {_HAIR_WORDS[p.hair]}",
        f"wearing a {top}",
        f"{_bottom(p, p.bottom_colour)} and {p.shoe_colour} {p.shoes}",
        _bag(p, p.bag_colour),
    ]
    return _join(parts, rng)


def _grey(value: float) -> str:
    if value >= 0.66:
        return "bright"
    if value <= 0.5:
        return "dark"
    return "grey"


def infrared_caption(p: Identity, rng: np.random.Generator, error_rate: float) -> str:
    names = list(COLOURS)

    def tone(value: float, true_colour: str) -> str:
        if rng.random() < error_rate:
            wrong = [n for n in names if n != true_colour]
            return wrong[int(rng.integers(len(wrong)))]
        return _grey(value)

    top = f"{tone(p.thermal_top, p.top_colour)} {_PATTERN_WORDS[p.pattern]} {_sleeves(p)} top"
    parts = [
        f"An infrared image of a {_person(p)} with {_HAIR_WORDS[p.hair]}",
        f"wearing a {top}",
        f"{_bottom(p, tone(p.thermal_bottom, p.bottom_colour))} and {p.shoes}",
        _bag(p, tone(p.thermal_bag, p.bag_colour) if p.bag != "no bag" else None),
    ]
    return _join(parts, rng)


def _join(parts: list[str], rng: np.random.Generator) -> str:
    # Vary the clause order a little, as free-running captioners do: sometimes the bag
    # comes right after the subject.
    subject, top, bottom, bag = parts
    if rng.random() < 0.3:
        return f"{subject}, {bag}, {top}, {bottom}."
    return f"{subject}, {top}, {bottom}, {bag}."
