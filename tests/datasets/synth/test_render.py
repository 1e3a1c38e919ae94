"""Renderers: colour stays in the visible world; shape and pattern reach infrared."""

import dataclasses

import numpy as np

from vireid.datasets.synth.attributes import sample_identities
from vireid.datasets.synth.render import camera_style, render_infrared, render_visible

H, W = 96, 48


def _person(**changes):
    person = sample_identities([1], np.random.default_rng(0))[0]
    return dataclasses.replace(person, **changes)


def _ir(person, shot=0):
    return render_infrared(person, camera_style(3, True, 0), H, W, np.random.default_rng(shot))


def _vis(person, shot=0):
    return render_visible(person, camera_style(1, False, 0), H, W, np.random.default_rng(shot))


def test_infrared_is_grey_in_three_equal_channels_and_visible_is_coloured():
    ir = _ir(_person())
    assert ir.shape == (H, W, 3) and ir.dtype == np.uint8
    assert np.array_equal(ir[..., 0], ir[..., 1]) and np.array_equal(ir[..., 0], ir[..., 2])
    vis = _vis(_person())
    assert np.abs(vis[..., 0].astype(int) - vis[..., 2]).mean() > 5


def test_recolouring_a_person_changes_visible_but_not_infrared_images():
    person = _person(top_colour="red", bottom_colour="blue", bag_colour="green")
    recoloured = dataclasses.replace(person, top_colour="yellow", bottom_colour="white", bag_colour="black")
    assert np.array_equal(_ir(person), _ir(recoloured))
    assert not np.array_equal(_vis(person), _vis(recoloured))


def test_shared_cues_change_the_infrared_image():
    person = _person(pattern="plain", hair="short", bag="no bag", build="average")
    base = _ir(person)
    for change in ({"pattern": "horizontal stripes"}, {"hair": "long"}, {"bag": "backpack"},
                   {"build": "broad"}):
        other = _ir(dataclasses.replace(person, **change))
        changed = np.abs(other.astype(int) - base) > 25
        assert changed[..., 0].mean() > 0.01, change


def test_rendering_is_a_pure_function_of_its_generator():
    person = _person()
    assert np.array_equal(_vis(person, 5), _vis(person, 5))
    assert not np.array_equal(_vis(person, 5), _vis(person, 6))


def test_shared_cue_combinations_are_unique_per_identity():
    people = sample_identities(list(range(1, 301)), np.random.default_rng(1))
    assert len({p.shared_cues() for p in people}) == 300
