"""Renderers: colour stays in the visible world; shape and pattern reach infrared; the view
(version 2) decides what is drawn."""

import dataclasses

import numpy as np

from vireid.datasets.synth.attributes import sample_identities
from vireid.datasets.synth.render import camera_style, person_masks, render_infrared, render_visible
from vireid.datasets.synth.views import Framing

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


# --- benchmark version 2: views and framing ---------------------------------------------

def _masks(person, frame, shot=0):
    return person_masks(person, H, W, np.random.default_rng(shot), frame)


def test_version_1_drawing_is_unchanged_when_no_framing_is_given():
    person = _person()
    legacy = render_visible(person, camera_style(1, False, 0), H, W, np.random.default_rng(3))
    assert np.array_equal(legacy, render_visible(person, camera_style(1, False, 0), H, W,
                                                 np.random.default_rng(3), None))


def test_a_backpack_fills_the_back_view_and_shows_only_straps_from_the_front():
    person = _person(bag="backpack")
    back = _masks(person, Framing("back"))[0]["bag"].sum()
    front = _masks(person, Framing("front"))[0]["bag"].sum()
    side = _masks(person, Framing("side"))[0]["bag"].sum()
    assert back > 2.5 * front and side > front, (back, front, side)


def test_a_chest_logo_shows_only_from_the_front():
    person = _person(pattern="chest logo")
    assert _masks(person, Framing("front"))[1].sum() > 0
    assert _masks(person, Framing("back"))[1].sum() == 0 and _masks(person, Framing("side"))[1].sum() == 0


def test_from_behind_hair_covers_the_head_and_in_profile_the_body_is_narrower():
    person = _person(hair="short", build="broad")
    front, back = _masks(person, Framing("front"))[0], _masks(person, Framing("back"))[0]
    assert (back["head"] & ~back["hair"]).sum() < 0.5 * (front["head"] & ~front["hair"]).sum()
    side = _masks(person, Framing("side"))[0]
    assert side["top"].sum() < 0.85 * front["top"].sum()


def test_feet_cropped_framing_leaves_the_shoes_out_of_the_picture():
    for shoes in ("shoes", "boots"):
        person = _person(shoes=shoes)
        assert _masks(person, Framing("front"))[0]["shoes"].sum() > 0
        for view in ("front", "back", "side", None):
            assert _masks(person, Framing(view, feet_cropped=True))[0]["shoes"].sum() == 0, (shoes, view)


def test_views_keep_the_modality_gap_recolouring_changes_only_visible_images():
    person = _person(top_colour="red", bottom_colour="blue", bag="backpack", bag_colour="green")
    recoloured = dataclasses.replace(person, top_colour="yellow", bottom_colour="white", bag_colour="black")
    for view in ("front", "back", "side"):
        frame = Framing(view)
        ir = [render_infrared(p, camera_style(3, True, 0), H, W, np.random.default_rng(1), frame)
              for p in (person, recoloured)]
        vis = [render_visible(p, camera_style(1, False, 0), H, W, np.random.default_rng(1), frame)
               for p in (person, recoloured)]
        assert np.array_equal(*ir) and not np.array_equal(*vis), view
