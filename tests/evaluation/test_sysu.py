"""SYSU-MM01 protocol lists: query order, seeded single-/multi-shot galleries, skipped pairs."""

import random

import numpy as np
import pytest

from vireid.errors import DatasetError, VireidError
from vireid.evaluation import sysu_gallery, sysu_query

from .conftest import SYSU_COUNTS, SYSU_TEST_IDS


def test_query_is_every_ir_test_image_ids_sorted_then_cam3_cam6_then_files(tiny_sysu_root):
    q = sysu_query(tiny_sysu_root, "all")
    expected = [f"cam{cam}/{pid:04d}/{k:04d}.jpg" for pid in sorted(SYSU_TEST_IDS)
                for cam in (3, 6) for k in range(1, SYSU_COUNTS[cam] + 1)]
    assert q.paths == expected                      # Thumbs.db ignored, train ids excluded
    assert q.pids.tolist() == [int(p.split("/")[1]) for p in expected]
    assert set(q.cams.tolist()) == {3, 6} and q.modality == "infrared"
    assert sysu_query(tiny_sysu_root, "indoor").paths == expected


def test_single_shot_gallery_matches_the_seeded_field_sequence(tiny_sysu_root):
    g = sysu_gallery(tiny_sysu_root, "all", trial=4, shots=1)
    random.seed(4)                                  # what the field's code does
    expected = []
    for pid in sorted(SYSU_TEST_IDS):
        for cam in (1, 2, 4, 5):
            if (pid, cam) in ((7, 5), (9, 4)):      # missing / empty folder: skipped, no draw
                continue
            files = [f"cam{cam}/{pid:04d}/{k:04d}.jpg" for k in range(1, SYSU_COUNTS[cam] + 1)]
            expected.append(random.choice(files))
    assert g.paths == expected
    pairs = list(zip(g.pids.tolist(), g.cams.tolist()))
    assert len(pairs) == len(set(pairs)) == 4 * 5 - 2   # one image per (id, camera)


def test_indoor_gallery_uses_cam1_and_cam2_only(tiny_sysu_root):
    g = sysu_gallery(tiny_sysu_root, "indoor", trial=0)
    assert g.cams.tolist() == [1, 2] * 5 and g.modality == "visible"


def test_galleries_are_deterministic_per_trial_and_differ_across_trials(tiny_sysu_root):
    for shots in (1, 10):
        a = sysu_gallery(tiny_sysu_root, "all", 3, shots)
        assert a.paths == sysu_gallery(tiny_sysu_root, "all", 3, shots).paths
        assert a.paths != sysu_gallery(tiny_sysu_root, "all", 5, shots).paths


def test_multi_shot_takes_ten_distinct_images_or_all_when_fewer(tiny_sysu_root):
    g = sysu_gallery(tiny_sysu_root, "all", trial=1, shots=10)
    assert len(set(g.paths)) == len(g.paths)
    counts = {}
    for pid, cam in zip(g.pids.tolist(), g.cams.tolist()):
        counts[(pid, cam)] = counts.get((pid, cam), 0) + 1
    assert counts[(3, 1)] == 10 and counts[(3, 5)] == 10   # 12 and 11 on disk
    assert counts[(3, 2)] == 4 and counts[(3, 4)] == 2     # fewer than 10: all
    assert (7, 5) not in counts and (9, 4) not in counts
    assert np.all(np.diff(g.pids) >= 0)                     # ids stay in sorted order


def test_bad_mode_shots_and_missing_files_are_user_errors(tiny_sysu_root, tmp_path):
    with pytest.raises(VireidError, match="mode"):
        sysu_query(tiny_sysu_root, "outdoor")
    with pytest.raises(VireidError, match="shots"):
        sysu_gallery(tiny_sysu_root, "all", 0, shots=5)
    with pytest.raises(DatasetError, match="test_id.txt"):
        sysu_query(tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        sysu_query(tmp_path / "nope")
