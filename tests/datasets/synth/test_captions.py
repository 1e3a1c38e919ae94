"""Reference captions: true colours in visible, grey tones and hallucinations in infrared."""

import re

import numpy as np

from vireid.datasets.synth.attributes import COLOURS, sample_identities
from vireid.datasets.synth.captions import infrared_caption, visible_caption

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
