"""Held-out validation identities and index metadata."""

import pytest

from vireid.datasets import build_index, default_val_count, index_metadata, select_val_ids
from vireid.errors import DatasetError
from vireid.fingerprint import hash_strings


@pytest.mark.parametrize("n, expected", [(0, 0), (9, 0), (10, 1), (30, 2), (206, 10), (395, 20), (713, 36)])
def test_default_hold_out_is_about_five_percent_and_at_least_one_from_ten_ids(n, expected):
    assert default_val_count(n) == expected


def test_hold_out_is_deterministic_for_a_seed_and_varies_with_it():
    pids = list(range(100, 160))
    assert select_val_ids(pids, 5, seed=3) == select_val_ids(list(reversed(pids)), 5, seed=3)
    draws = {frozenset(select_val_ids(pids, 5, seed=s)) for s in range(5)}
    assert len(draws) > 1


@pytest.mark.parametrize("count", [-1, 16])
def test_hold_out_cannot_take_every_training_identity(count):
    with pytest.raises(DatasetError, match="--val-ids must lie in 0..15"):
        select_val_ids(range(16), count, seed=0)


def test_val_split_rows_keep_their_pid_and_have_no_label(synth_sysu_root):
    rows = build_index("sysu", synth_sysu_root, val_ids=3, seed=7).to_pylist()
    val = [r for r in rows if r["split"] == "val"]
    assert len({r["pid"] for r in val}) == 3 and len(val) == 3 * 6 * 3
    assert {r["label"] for r in val} == {-1}
    again = build_index("sysu", synth_sysu_root, val_ids=3, seed=7).to_pylist()
    assert again == rows


def test_metadata_fingerprints_the_image_list(synth_sysu_root):
    table = build_index("sysu", synth_sysu_root, seed=2)
    meta = index_metadata(table, dataset="sysu", root=synth_sysu_root, trial=None, val_ids=None, seed=2)
    assert meta["image_list_fingerprint"] == hash_strings(table.column("image_id").to_pylist())
    assert meta["seed"] == 2 and meta["num_images"] == table.num_rows
    assert meta["options"]["dataset"] == "sysu" and "vireid_version" in meta
    assert len(meta["held_out_val_ids"]) == default_val_count(
        len({p for p, s in zip(table.column("pid").to_pylist(), table.column("split").to_pylist()) if s != "test"}))


def test_unknown_dataset_lists_the_known_ones(tmp_path):
    with pytest.raises(DatasetError, match="unknown dataset 'market1501'; choose from sysu, regdb, llcm"):
        build_index("market1501", tmp_path)


def test_missing_root_is_a_dataset_error_naming_it(tmp_path):
    with pytest.raises(DatasetError, match=f"{tmp_path / 'absent'}: dataset root folder not found"):
        build_index("llcm", tmp_path / "absent")
