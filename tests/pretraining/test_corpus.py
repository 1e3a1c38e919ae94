"""The web corpus: deterministic, its own people, web-style captions, some greyscale, no infrared."""

import numpy as np

from vireid.datasets.synth.attributes import sample_identities
from vireid.pretraining.config import PretrainConfig
from vireid.pretraining.corpus import build_corpus

CFG = PretrainConfig(people=30, heldout_people=6, photos_per_person=2, web_cameras=7, batch_size=8,
                     greyscale_rate=0.25)


def test_the_same_config_gives_the_same_corpus_and_another_seed_another():
    a, b = build_corpus(CFG, show_progress=False), build_corpus(CFG, show_progress=False)
    assert np.array_equal(a.images, b.images) and a.captions == b.captions
    other = build_corpus(PretrainConfig(**{**CFG.__dict__, "seed": 1}), show_progress=False)
    assert not np.array_equal(a.images, other.images)


def test_people_come_from_their_own_stream_not_a_benchmarks():
    # `vireid data synth --seed 0` draws its people from the stream [0, 1]
    benchmark = sample_identities(list(range(1, 37)), np.random.default_rng([0, 1]))
    corpus = build_corpus(CFG, show_progress=False)
    web = sample_identities(list(range(1, 37)), np.random.default_rng([CFG.seed, 7707]))
    assert [p.shared_cues() for p in web] != [p.shared_cues() for p in benchmark]
    assert corpus.images.shape == (36 * 2, 64, 32, 3)


def test_heldout_people_are_the_last_ones_and_never_in_training():
    corpus = build_corpus(CFG, show_progress=False)
    assert set(corpus.person[corpus.heldout]) == set(range(31, 37))
    assert not set(corpus.person[~corpus.heldout]) & set(corpus.person[corpus.heldout])


def test_greyscale_photos_have_equal_channels_and_keep_a_colour_caption():
    corpus = build_corpus(CFG, show_progress=False)
    grey = corpus.images[corpus.greyscale]
    assert 0.1 < corpus.greyscale.mean() < 0.45  # rate 0.25 over 72 photos
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    colour = corpus.images[~corpus.greyscale]
    assert np.mean([not np.array_equal(c[..., 0], c[..., 2]) for c in colour]) == 1.0


def test_captions_are_web_style_visible_descriptions_never_infrared():
    corpus = build_corpus(PretrainConfig(people=80, heldout_people=4, photos_per_person=2, batch_size=8),
                          show_progress=False)
    text = " ".join(corpus.captions).lower()
    for word in ("infrared", "thermal", "night-vision", "grayscale"):
        assert word not in text
    assert len(set(corpus.captions)) > 0.8 * len(corpus.captions)  # varied, partial descriptions
    assert any(w in text for w in ("backpack", "skirt", "long hair"))
