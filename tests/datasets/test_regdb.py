"""RegDB reader: one index per trial, identities from the person folders."""

import pytest

from vireid.datasets import build_index
from vireid.errors import DatasetError


@pytest.mark.parametrize("trial", [None, 0, 11])
def test_trial_must_be_given_and_within_1_to_10(synth_regdb_root, trial):
    with pytest.raises(DatasetError, match="trial"):
        build_index("regdb", synth_regdb_root, trial=trial)


def test_trial_split_is_half_half_with_visible_camera_1_and_thermal_camera_2(synth_regdb_root):
    rows = build_index("regdb", synth_regdb_root, trial=3, val_ids=0).to_pylist()
    assert len(rows) == 24 * 2 * 3
    for split in ("train", "test"):
        assert len({r["pid"] for r in rows if r["split"] == split}) == 12
        for modality, camera in (("visible", 1), ("infrared", 2)):
            sel = [r for r in rows if r["split"] == split and r["modality"] == modality]
            assert len(sel) == 36 and {r["camera"] for r in sel} == {camera}
    assert {r["trial"] for r in rows} == {3}
    assert all(r["pid"] == int(r["path"].split("/")[1]) for r in rows)


def test_trials_differ_in_their_identity_split(synth_regdb_root):
    def train_ids(t):
        return {r["pid"] for r in build_index("regdb", synth_regdb_root, trial=t).to_pylist()
                if r["split"] != "test"}

    assert train_ids(1) != train_ids(2)


def test_val_ids_are_carved_from_the_trials_training_ids(synth_regdb_root):
    rows = build_index("regdb", synth_regdb_root, trial=1, val_ids=2, seed=5).to_pylist()
    val = {r["pid"] for r in rows if r["split"] == "val"}
    train = {r["pid"] for r in rows if r["split"] == "train"}
    assert len(val) == 2 and len(train) == 10 and not val & train
    assert sorted({r["label"] for r in rows if r["split"] == "train"}) == list(range(10))


def test_without_person_folders_the_file_label_is_the_identity(tmp_path):
    from .conftest import write_jpeg

    for name, folder in (("visible", "Visible"), ("thermal", "Thermal")):
        for split, labels in (("train", (0, 1)), ("test", (0,))):
            lines = []
            for label in labels:
                rel = f"{folder}/{split}_{name}_{label}.bmp"
                write_jpeg(tmp_path / rel)
                lines.append(f"{rel} {label}")
            (tmp_path / "idx").mkdir(exist_ok=True)
            (tmp_path / "idx" / f"{split}_{name}_1.txt").write_text("\n".join(lines) + "\n")
    rows = build_index("regdb", tmp_path, trial=1).to_pylist()
    assert sorted((r["split"], r["pid"]) for r in rows if r["modality"] == "visible") == [
        ("test", 0), ("train", 0), ("train", 1)]


def test_listed_file_that_does_not_exist_is_an_error_naming_it(regdb_copy):
    line = (regdb_copy / "idx" / "test_thermal_1.txt").read_text().splitlines()[0]
    rel = line.split()[0]
    (regdb_copy / rel).unlink()
    with pytest.raises(DatasetError) as err:
        build_index("regdb", regdb_copy, trial=1)
    assert err.value.problems == [f"{regdb_copy / rel}: listed in test_thermal_1.txt but not found"]


def test_a_list_entry_leaving_the_root_is_an_error_naming_list_file_and_line(regdb_copy):
    list_file = regdb_copy / "idx" / "train_visible_1.txt"
    lines = list_file.read_text().splitlines()
    lines.insert(1, "../../etc/passwd 0")
    list_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as err:
        build_index("regdb", regdb_copy, trial=1)
    assert err.value.problems == [f"{list_file}: line 2: '../../etc/passwd' points outside the dataset root"]
