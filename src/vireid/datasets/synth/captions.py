"""Reference captions written from the latent attributes.

Benchmark version 1 (:func:`visible_caption`, :func:`infrared_caption`): visible captions
name every attribute and the true colours; infrared captions describe grey levels (from
the thermal values) and the modality-shared cues, and with probability ``error_rate`` each
colour slot instead names a colour, always a wrong one, imitating captioners that
hallucinate colours on infrared images.

Benchmark version 2 (:func:`observed_caption`): a caption describes the image, not the
identity. It names only what the view shows (:mod:`.views`), leaves attributes out, names
some wrongly, is sometimes generic filler, and varies its phrasing, the way a 7B
captioner's output is detailed but partial and sometimes wrong.
"""

from __future__ import annotations

import numpy as np

from vireid.datasets.synth.attributes import (BAGS, BOTTOMS, BUILDS, COLOURS, HAIR, HAIR_COLOURS,
                                              HEIGHTS, PATTERNS, SHOES, SLEEVES, Identity)
from vireid.datasets.synth.config import SynthConfig
from vireid.datasets.synth.views import Framing, visible_attributes

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


# ---------------------------------------------------------------------------------------
# Benchmark version 2: captions of what one image shows.

# Phrasing variety (not noise: every variant says the same thing).
_VISIBLE_OPENINGS = ("A", "A photo of a", "The image shows a", "This is a")
_INFRARED_OPENINGS = ("An infrared image of a", "A thermal image of a", "A grayscale photo of a",
                      "A night-vision image of a")
_WEARING = ("wearing", "dressed in", "in")
_CARRYING = {"backpack": ("carrying a", "with a", "wearing a"),
             "shoulder bag": ("carrying a", "with a"),
             "handbag": ("carrying a", "holding a", "with a")}
_NO_BAG = ("carrying nothing", "with no bag", "not carrying a bag")
_VIEW_PHRASES = {"front": ("facing the camera", "seen from the front"),
                 "back": ("seen from behind", "walking away from the camera"),
                 "side": ("seen from the side", "in profile")}
_FILLER = ("A person walking.", "A person standing in a hallway.",
           "A pedestrian walking down a corridor.", "A person in a building.",
           "A person walking on a street.")
_SHOE_COLOURS = ("black", "white", "brown", "grey")

# The axis each caption-nameable attribute takes its wrong values from.
_AXES = {"height": HEIGHTS, "build": BUILDS, "hair": HAIR, "sleeves": SLEEVES,
         "pattern": PATTERNS, "bottom": BOTTOMS, "shoes": SHOES, "bag": BAGS}


def _pick(options: tuple[str, ...] | list[str], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _maybe_wrong(true: str, axis: tuple[str, ...] | list[str], rate: float,
                 rng: np.random.Generator) -> str:
    """``true``, or with probability ``rate`` another value of the same axis."""
    if rng.random() >= rate:
        return true
    return _pick([a for a in axis if a != true], rng)


def _named(person: Identity, frame: Framing, omit_rate: float, rng: np.random.Generator) -> set[str]:
    """The visible attributes this caption mentions: each left out with ``omit_rate``."""
    shown = visible_attributes(person, frame)
    return {a for a in sorted(shown) if rng.random() >= omit_rate}


def observed_caption(person: Identity, frame: Framing, infrared: bool, config: SynthConfig,
                     rng: np.random.Generator) -> str:
    """A caption of one image of ``person`` (benchmark version 2).

    Names only attributes the view shows, each left out with ``caption_omit_rate``;
    a named attribute (and, in visible images, a named colour) is wrong with
    ``caption_error_rate``; infrared colour slots name a (wrong) colour with
    ``ir_color_error_rate`` and a grey tone otherwise; ``caption_filler_rate`` of captions
    are generic filler. All draws come from ``rng``, so a caption is fixed by its image's
    random stream.
    """
    if rng.random() < config.caption_filler_rate:
        return _filler(infrared, rng)
    err = config.caption_error_rate
    named = _named(person, frame, config.caption_omit_rate, rng)
    value = {a: _maybe_wrong(getattr(person, a), _AXES[a], err, rng) for a in sorted(named)
             if a in _AXES}
    colour = _colour_words(person, infrared, config, rng)

    subject = _subject(value, colour, infrared, rng)
    clauses = [c for c in (_clothes_clause(value, named, colour, rng), _bag_clause(value, colour, rng))
               if c]
    clauses = [clauses[i] for i in rng.permutation(len(clauses))]
    if frame.view is not None and rng.random() < config.caption_view_rate:
        clauses.insert(int(rng.integers(len(clauses) + 1)), _pick(_VIEW_PHRASES[frame.view], rng))
    return ", ".join([subject, *clauses]) + "."


def _filler(infrared: bool, rng: np.random.Generator) -> str:
    text = _pick(_FILLER, rng)
    if infrared and rng.random() < 0.5:
        return "An infrared image of " + text[0].lower() + text[1:]
    return text


def _colour_words(person: Identity, infrared: bool, config: SynthConfig,
                  rng: np.random.Generator) -> dict[str, str]:
    """The word for each garment's colour: true colour (wrong at the attribute error rate)
    in visible images; a grey tone, or a wrong colour at ``ir_color_error_rate``, in
    infrared ones."""
    names = list(COLOURS)
    if not infrared:
        err = config.caption_error_rate
        return {
            "top": _maybe_wrong(person.top_colour, names, err, rng),
            "pattern": _maybe_wrong(person.pattern_colour, names, err, rng),
            "bottom": _maybe_wrong(person.bottom_colour, names, err, rng),
            "bag": _maybe_wrong(person.bag_colour, names, err, rng),
            "shoes": _maybe_wrong(person.shoe_colour, _SHOE_COLOURS, err, rng),
            "hair": _maybe_wrong(person.hair_colour, list(HAIR_COLOURS), err, rng),
        }

    def tone(thermal: float, true_colour: str) -> str:
        if rng.random() < config.ir_color_error_rate:
            return _pick([n for n in names if n != true_colour], rng)
        return _grey(thermal)

    return {"top": tone(person.thermal_top, person.top_colour),
            "bottom": tone(person.thermal_bottom, person.bottom_colour),
            "bag": tone(person.thermal_bag, person.bag_colour)}


def _subject(value: dict[str, str], colour: dict[str, str], infrared: bool,
             rng: np.random.Generator) -> str:
    opening = _pick(_INFRARED_OPENINGS if infrared else _VISIBLE_OPENINGS, rng)
    words = [w for w in (_HEIGHT_WORDS.get(value.get("height", ""), ""),
                         _BUILD_WORDS.get(value.get("build", ""), "")) if w]
    text = " ".join([opening, *words, "person"])
    if "hair" in value:
        hair_colour = colour.get("hair")
        text += f" with {hair_colour + ' ' if hair_colour else ''}{_HAIR_WORDS[value['hair']]}"
    return text


def _clothes_clause(value: dict[str, str], named: set[str], colour: dict[str, str],
                    rng: np.random.Generator) -> str:
    """"wearing a red striped top, blue shorts and white boots", or the named parts of it."""
    garments = [g for g in (_top_phrase(value, named, colour), _bottom_phrase(value, colour),
                            _shoes_phrase(value, colour)) if g]
    if not garments:
        return ""
    listed = garments[0] if len(garments) == 1 else ", ".join(garments[:-1]) + " and " + garments[-1]
    return f"{_pick(_WEARING, rng)} {listed}"


def _top_phrase(value: dict[str, str], named: set[str], colour: dict[str, str]) -> str:
    """"a red striped short-sleeved top with white bands", or the named parts of it."""
    if not {"top", "pattern", "sleeves"} & named:
        return ""
    words = [colour["top"]] if "top" in named else []
    pattern = value.get("pattern")
    if pattern is not None:
        words.append(_PATTERN_WORDS[pattern])
    if "sleeves" in value:
        words.append("short-sleeved" if value["sleeves"] == "short" else "long-sleeved")
    text = f"a {' '.join(words + ['top'])}"
    if pattern not in (None, "plain") and "pattern" in colour:
        text += f" with {colour['pattern']} {'print' if pattern == 'chest logo' else 'bands'}"
    return text


def _bottom_phrase(value: dict[str, str], colour: dict[str, str]) -> str:
    if "bottom" not in value:
        return ""
    garment = _BOTTOM_WORDS[value["bottom"]]
    tone = colour["bottom"]
    return f"a {tone} {garment[2:]}" if garment.startswith("a ") else f"{tone} {garment}"


def _shoes_phrase(value: dict[str, str], colour: dict[str, str]) -> str:
    if "shoes" not in value:
        return ""
    return f"{colour['shoes'] + ' ' if 'shoes' in colour else ''}{value['shoes']}"


def _bag_clause(value: dict[str, str], colour: dict[str, str], rng: np.random.Generator) -> str:
    bag = value.get("bag")
    if bag is None:
        return ""
    if bag == "no bag":
        return _pick(_NO_BAG, rng)
    return f"{_pick(_CARRYING[bag], rng)} {colour['bag']} {bag}"
