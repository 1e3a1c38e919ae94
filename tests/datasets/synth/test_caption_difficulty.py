"""Version-2 captions are informative but imperfect, and they depend on the view.

On the shared SYSU-layout fixture (24 identities, benchmark version 2 defaults):

* text of one image retrieves the other images of its identity (bag-of-words cosine)
  clearly better than chance, but far from perfectly: captions are partial, sometimes
  wrong, sometimes filler, and describe different cues in different views;
* which attributes a caption names changes with the view: a backpack is named from
  behind and hardly ever from the front, a chest logo the other way round.
"""

import re

import numpy as np
import pytest

from tests.datasets.synth.test_difficulty import mean_ap
from vireid.datasets.synth import SynthConfig
from vireid.datasets.synth.generate import image_framing
from vireid.datasets.synth.layout import ImageSpec
from vireid.manifests import read_manifest

WORD = re.compile(r"[a-z-]+")


def bag_of_words(captions: list[str]) -> np.ndarray:
    """L2-normalised word counts over the captions' joint vocabulary."""
    tokens = [WORD.findall(c.lower()) for c in captions]
    vocab = {w: i for i, w in enumerate(sorted({w for t in tokens for w in t}))}
    counts = np.zeros((len(captions), len(vocab)))
    for row, words in enumerate(tokens):
        for w in words:
            counts[row, vocab[w]] += 1
    return counts / np.maximum(np.linalg.norm(counts, axis=1, keepdims=True), 1e-12)


def leave_one_out_map(features: np.ndarray, pids: np.ndarray) -> float:
    """Each item queries all the others (itself excluded) by cosine similarity."""
    aps = []
    for i in range(len(pids)):
        rest = np.arange(len(pids)) != i
        aps.append(mean_ap(features[i:i + 1], pids[i:i + 1], features[rest], pids[rest]))
    return float(np.mean(aps))


def chance_map(pids: np.ndarray, trials: int = 5) -> float:
    rng = np.random.default_rng(0)
    return float(np.mean([leave_one_out_map(rng.normal(size=(len(pids), 16)), pids)
                          for _ in range(trials)]))


@pytest.fixture(scope="module")
def captions(synth_sysu_root):
    return read_manifest(synth_sysu_root / "reference_captions.parquet", "captions").to_pylist()


def test_bag_of_words_of_identical_captions_retrieves_perfectly():
    features = bag_of_words(["a red top", "a red top", "blue shorts", "blue shorts"])
    assert leave_one_out_map(features, np.array([1, 1, 2, 2])) == 1.0


def test_caption_only_retrieval_is_informative_but_far_from_perfect(captions):
    pids = np.array([r["pid"] for r in captions])
    got = leave_one_out_map(bag_of_words([r["caption"] for r in captions]), pids)
    chance = chance_map(pids)
    assert 3 * chance < got < 0.75, (got, chance)


def test_infrared_captions_retrieve_visible_ones_above_chance_but_worse_than_visible(captions):
    pids = np.array([r["pid"] for r in captions])
    ir = np.array([r["modality"] == "infrared" for r in captions])
    features = bag_of_words([r["caption"] for r in captions])
    cross = mean_ap(features[ir], pids[ir], features[~ir], pids[~ir])
    rng = np.random.default_rng(0)
    chance = mean_ap(rng.normal(size=(ir.sum(), 16)), pids[ir], rng.normal(size=((~ir).sum(), 16)), pids[~ir])
    within = leave_one_out_map(features[~ir], pids[~ir])
    assert 2 * chance < cross < within, (cross, within, chance)


def _view(caption_row) -> str:
    config = SynthConfig(ids=24, images_per_camera=3, height=64, width=32, seed=0, test_fraction=0.33)
    shot = int(caption_row["path"].rsplit("/", 1)[1][:4]) - 1
    spec = ImageSpec(caption_row["path"], caption_row["pid"], caption_row["camera"],
                     caption_row["modality"] == "infrared", shot)
    return image_framing(config, spec).view


def test_every_view_occurs_and_cameras_prefer_different_views(captions):
    views = {}
    for r in captions:
        views.setdefault(r["camera"], []).append(_view(r))
    assert {v for vs in views.values() for v in vs} == {"front", "back", "side"}
    preferred = {cam: max(set(vs), key=vs.count) for cam, vs in views.items()}
    assert len(set(preferred.values())) >= 2, preferred


def test_the_view_changes_which_attributes_a_caption_names(synth_sysu_root, captions):
    from vireid.datasets.synth.attributes import sample_identities
    from vireid.datasets.synth.layout import pids_for

    config = SynthConfig(ids=24, images_per_camera=3, height=64, width=32, seed=0, test_fraction=0.33)
    people = {p.pid: p for p in sample_identities(pids_for(config), np.random.default_rng([0, 1]))}

    def rate(word, attribute, value, view):
        hits = [word in r["caption"] for r in captions
                if getattr(people[r["pid"]], attribute) == value and _view(r) == view]
        return np.mean(hits), len(hits)

    back, n_back = rate("backpack", "bag", "backpack", "back")
    front, n_front = rate("backpack", "bag", "backpack", "front")
    assert n_back >= 10 and n_front >= 10
    assert back > 0.5 and front < 0.15 and back - front > 0.4, (back, front)
