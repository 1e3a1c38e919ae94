"""Reference captions.

Version 1: every attribute, true colours in visible, grey tones and hallucinated colours in
infrared. Version 2: only what the image's view shows, with omissions, wrong attributes,
filler and view phrases at their configured rates.
"""

import dataclasses
import re

import numpy as np

from vireid.datasets.synth.attributes import COLOURS, sample_identities
from vireid.datasets.synth.captions import infrared_caption, observed_caption, visible_caption
from vireid.datasets.synth.config import SynthConfig
from vireid.datasets.synth.views import Framing

COLOUR_WORD = re.compile(r"\b(" + "|".join(COLOURS) + r")\b")


def _people(n=40):
    return sample_identities(list(range(1, n + 1)), np.random.default_rng(2))


def test_visible_caption_names_the_true_colours_and_shared_cues():
    rng = np.random.default_rng(0)
    for p in _people():
        text = visible_caption(p, rng)
        assert p.top_colour in text and p.bottom_colour in text
        assert ("long hair" in text) == (p.hair == "long")
        assert (p.bag in text) if p.bag != "no bag" else "carrying nothing" in text


def test_infrared_caption_without_errors_names_no_colour():
    rng = np.random.default_rng(0)
    for p in _people():
        text = infrared_caption(p, rng, error_rate=0.0)
        assert text.startswith("An infrared image")
        assert not COLOUR_WORD.search(text.replace("grey", "")), text


def test_infrared_colour_words_are_always_wrong():
    rng = np.random.default_rng(0)
    for p in _people(100):
        text = infrared_caption(p, rng, error_rate=1.0)
        top = re.search(r"wearing a (\w+) ", text).group(1)
        bottom = re.search(r"top, (?:a )?(\w+) (?:long trousers|shorts|skirt)", text).group(1)
        assert top in COLOURS and top != p.top_colour, text
        assert bottom in COLOURS and bottom != p.bottom_colour, text


def test_infrared_colour_words_follow_the_configured_rate():
    rng = np.random.default_rng(0)
    slots = named = 0
    for p in _people(200):
        text = infrared_caption(p, rng, error_rate=0.3)
        named += len(COLOUR_WORD.findall(text.replace("grey", "")))
        slots += 3 if p.bag != "no bag" else 2
    assert 0.2 < named / slots < 0.4


# --- benchmark version 2: captions of what one image shows -----------------------------

EXACT = SynthConfig(caption_omit_rate=0.0, caption_error_rate=0.0, caption_filler_rate=0.0,
                    caption_view_rate=0.0, ir_color_error_rate=0.0)
FRONT, BACK, SIDE = Framing("front"), Framing("back"), Framing("side")
BAG_WORDS = re.compile(r"\b(backpack|shoulder bag|handbag)\b")
HAIR_TEXT = {"short": "short hair", "medium": "chin-length hair", "long": "long hair"}


def _captions(people, frame, config, infrared=False, seed=0):
    rng = np.random.default_rng(seed)
    return [observed_caption(p, frame, infrared, config, rng) for p in people]


def test_noise_free_front_caption_names_every_visible_attribute_truly():
    for p, text in zip(_people(), _captions(_people(), FRONT, EXACT)):
        assert p.top_colour in text and p.bottom_colour in text and p.hair_colour in text
        assert HAIR_TEXT[p.hair] in text and p.shoes in text
        if p.bag in ("shoulder bag", "handbag"):
            assert p.bag in text
        if p.bag == "no bag":
            assert not BAG_WORDS.search(text)


def test_hidden_attributes_are_never_named_without_errors():
    people = _people(200)
    backpack = [p for p in people if p.bag == "backpack"]
    logo = [p for p in people if p.pattern == "chest logo"]
    shoulder = [p for p in people if p.bag == "shoulder bag"]
    assert backpack and logo and shoulder
    assert not any("backpack" in t for t in _captions(backpack, FRONT, EXACT))
    assert all("backpack" in t for t in _captions(backpack, BACK, EXACT))
    assert not any("logo" in t for t in _captions(logo, BACK, EXACT) + _captions(logo, SIDE, EXACT))
    assert all("logo" in t for t in _captions(logo, FRONT, EXACT))
    assert not any("shoulder bag" in t for t in _captions(shoulder, BACK, EXACT))
    cropped = _captions(people, Framing("front", feet_cropped=True), EXACT)
    assert not any(re.search(r"\b(shoes|boots)\b", t) for t in cropped)
    no_views = _captions(backpack + logo, Framing(None), EXACT)
    assert all(("backpack" in t) or ("logo" in t) for t in no_views)


def test_omission_rate_is_the_share_of_visible_attributes_left_out():
    config = dataclasses.replace(EXACT, caption_omit_rate=0.3)
    texts = _captions(_people(400), FRONT, config)
    hair = np.mean([any(h in t for h in HAIR_TEXT.values()) for t in texts])
    sleeves = np.mean(["sleeved" in t for t in texts])
    assert 0.62 < hair < 0.78 and 0.62 < sleeves < 0.78, (hair, sleeves)


def test_wrong_attributes_replace_true_ones_at_the_error_rate():
    people = _people(400)
    config = dataclasses.replace(EXACT, caption_error_rate=0.2)
    texts = _captions(people, FRONT, config)
    garment = re.compile(r"\b(long trousers|shorts|skirt)\b")
    wrong = np.mean([garment.search(t).group(1) != {"trousers": "long trousers"}.get(p.bottom, p.bottom)
                     for p, t in zip(people, texts)])
    top_colour_wrong = np.mean([p.top_colour not in t for p, t in zip(people, texts)])
    assert 0.12 < wrong < 0.28 and 0.1 < top_colour_wrong < 0.3, (wrong, top_colour_wrong)


def test_filler_captions_name_no_attribute():
    config = dataclasses.replace(EXACT, caption_filler_rate=1.0)
    for text in _captions(_people(), FRONT, config) + _captions(_people(), BACK, config, infrared=True):
        assert not COLOUR_WORD.search(text) and "hair" not in text and "top" not in text, text
        assert "person" in text or "pedestrian" in text


def test_visible_and_infrared_captions_both_carry_wrong_attributes_but_only_infrared_greys():
    people = _people(300)
    config = dataclasses.replace(EXACT, caption_error_rate=0.1, ir_color_error_rate=0.3)
    visible = _captions(people, FRONT, config)
    infrared = _captions(people, FRONT, config, infrared=True)
    assert np.mean([p.top_colour not in t for p, t in zip(people, visible)]) > 0.05
    assert not any(re.search(r"\b(bright|dark)\b", t) for t in visible)
    assert sum(bool(re.search(r"\b(bright|dark|grey)\b", t)) for t in infrared) > 200
    named = [len(COLOUR_WORD.findall(t.replace("grey", ""))) for t in infrared]
    slots = [3 if p.bag != "no bag" else 2 for p in people]
    assert 0.15 < sum(named) / sum(slots) < 0.35   # omission removes some colour slots too


def test_infrared_colour_words_in_version_2_are_always_wrong():
    people = _people(200)
    config = dataclasses.replace(EXACT, ir_color_error_rate=1.0)
    for p, text in zip(people, _captions(people, FRONT, config, infrared=True)):
        top = re.search(r"(?:wearing|dressed in|in) a (\w+) ", text).group(1)
        assert top in COLOURS and top != p.top_colour, text


def test_view_phrases_follow_the_view():
    config = dataclasses.replace(EXACT, caption_view_rate=1.0)
    assert all(("behind" in t) or ("away" in t) for t in _captions(_people(), BACK, config))
    assert all(("side" in t) or ("profile" in t) for t in _captions(_people(), SIDE, config))
    assert not any("behind" in t for t in _captions(_people(), Framing(None), config))
