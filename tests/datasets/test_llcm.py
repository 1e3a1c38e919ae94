"""LLCM reader on a hand-built LLCM layout."""

from collections import Counter

import pytest

from vireid.datasets import build_index
from vireid.errors import DatasetError

from .conftest import LLCM_NIR_TEST_CAMS, LLCM_TEST_IDS, LLCM_TRAIN_IDS, LLCM_VIS_TEST_CAMS


def test_train_lists_and_test_folders_are_indexed_with_cameras_from_paths(llcm_root):
    rows = build_index("llcm", llcm_root, val_ids=0).to_pylist()
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    assert Counter((r["modality"], r["camera"]) for r in train) == {
        ("visible", 1): 12, ("visible", 2): 12, ("infrared", 4): 12}
    assert {r["pid"] for r in train} == set(LLCM_TRAIN_IDS)
    assert {r["pid"] for r in test} == set(LLCM_TEST_IDS)
    assert {r["camera"] for r in test if r["modality"] == "visible"} == set(LLCM_VIS_TEST_CAMS)
    assert {r["camera"] for r in test if r["modality"] == "infrared"} == set(LLCM_NIR_TEST_CAMS)
    assert len(test) == 3 * (9 + 8)
    assert all(r["label"] == -1 and r["trial"] is None for r in test)


def test_default_hold_out_takes_one_of_twelve_training_ids(llcm_root):
    rows = build_index("llcm", llcm_root).to_pylist()
    assert len({r["pid"] for r in rows if r["split"] == "val"}) == 1
    assert len({r["label"] for r in rows if r["split"] == "train"}) == 11


def test_train_list_line_without_camera_folder_is_reported(llcm_root):
    with open(llcm_root / "idx" / "train_vis.txt", "a") as fh:
        fh.write("train_vis/0003/stray.jpg 0\n")
    with pytest.raises(DatasetError, match=r"train_vis.txt: train_vis/0003/stray.jpg: no camN folder"):
        build_index("llcm", llcm_root)


def test_unparseable_list_line_names_file_and_line(llcm_root):
    with open(llcm_root / "idx" / "train_nir.txt", "a") as fh:
        fh.write("train_nir/cam4/0003/x.jpg label\n")
    with pytest.raises(DatasetError, match=r"train_nir.txt: line 13: expected '<image path> <integer label>'"):
        build_index("llcm", llcm_root)


@pytest.mark.parametrize("entry", ["../../etc/passwd", "/etc/passwd", "train_vis/cam1/../../../x.jpg"])
def test_a_list_entry_leaving_the_root_is_an_error_naming_list_file_and_line(llcm_root, entry):
    list_file = llcm_root / "idx" / "train_nir.txt"
    list_file.write_text(list_file.read_text() + f"{entry} 1\n")
    line = len(list_file.read_text().splitlines())
    with pytest.raises(DatasetError) as err:
        build_index("llcm", llcm_root)
    assert err.value.problems == [f"{list_file}: line {line}: {entry!r} points outside the dataset root"]
