"""SYSU-MM01 reader on the synthetic SYSU layout (24 ids x 6 cameras x 3 images)."""

from collections import Counter

import pytest

from vireid.datasets import build_index
from vireid.errors import DatasetError


def _ids(root, name):
    return [int(x) for x in (root / "exp" / f"{name}_id.txt").read_text().strip().split(",")]


def test_every_listed_image_is_indexed_with_its_camera_and_modality(synth_sysu_root):
    rows = build_index("sysu", synth_sysu_root, val_ids=0).to_pylist()
    assert len(rows) == 24 * 6 * 3
    by_cam = Counter((r["camera"], r["modality"]) for r in rows)
    assert by_cam == {(1, "visible"): 72, (2, "visible"): 72, (3, "infrared"): 72,
                      (4, "visible"): 72, (5, "visible"): 72, (6, "infrared"): 72}
    first = rows[0]
    assert first["image_id"] == f"sysu:{first['path']}"
    assert first["trial"] is None and first["dataset"] == "sysu"


def test_training_ids_are_train_plus_val_files_and_test_ids_the_test_file(synth_sysu_root):
    rows = build_index("sysu", synth_sysu_root, val_ids=0).to_pylist()
    train = {r["pid"] for r in rows if r["split"] == "train"}
    test = {r["pid"] for r in rows if r["split"] == "test"}
    assert train == set(_ids(synth_sysu_root, "train")) | set(_ids(synth_sysu_root, "val"))
    assert test == set(_ids(synth_sysu_root, "test"))
    # test images of every camera are indexed: query (cam3, cam6) and gallery alike
    assert {r["camera"] for r in rows if r["split"] == "test"} == {1, 2, 3, 4, 5, 6}


def test_labels_follow_sorted_pid_order_over_train_ids_only(synth_sysu_root):
    rows = build_index("sysu", synth_sysu_root, val_ids=2, seed=1).to_pylist()
    train_pids = sorted({r["pid"] for r in rows if r["split"] == "train"})
    assert {r["pid"]: r["label"] for r in rows if r["split"] == "train"} == {
        pid: i for i, pid in enumerate(train_pids)}
    assert all(r["label"] == -1 for r in rows if r["split"] != "train")


def test_missing_camera_folder_and_unlisted_images_are_layout_errors(sysu_copy):
    import shutil

    shutil.rmtree(sysu_copy / "cam5")
    with pytest.raises(DatasetError) as err:
        build_index("sysu", sysu_copy)
    assert f"{sysu_copy / 'cam5'}: camera folder not found" in err.value.problems


def test_identity_without_images_is_reported_with_its_id_file(sysu_copy):
    (sysu_copy / "exp" / "test_id.txt").write_text(
        (sysu_copy / "exp" / "test_id.txt").read_text().strip() + ",999\n")
    with pytest.raises(DatasetError, match=r"cam\*/0999: identity 999 \(listed in exp/test_id.txt\) has no images"):
        build_index("sysu", sysu_copy)


def test_trial_is_refused_for_sysu(synth_sysu_root):
    with pytest.raises(DatasetError, match="--trial applies to regdb only"):
        build_index("sysu", synth_sysu_root, trial=1)
