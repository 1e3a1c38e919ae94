"""`vireid data ...` through the real entry point: output, error lines, exit codes."""

import sys

import pytest

from vireid.cli import main
from vireid.manifests import read_manifest, read_metadata


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["vireid", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err


def test_check_prints_counts_and_exits_zero_on_a_clean_dataset(monkeypatch, capsys, synth_sysu_root):
    code, out, err = run(monkeypatch, capsys, "data", "check", "--dataset", "sysu", "--root", str(synth_sysu_root))
    assert code == 0
    assert "SYSU-MM01 at" in out and "total images: 432; problems: 0" in out
    assert "error" not in err


def test_check_prints_one_error_line_per_problem_without_traceback(monkeypatch, capsys, sysu_copy):
    import shutil

    shutil.rmtree(sysu_copy / "cam6")
    (sysu_copy / "cam1" / "0002" / "0001.jpg").write_bytes(b"")
    code, out, err = run(monkeypatch, capsys, "data", "check", "--dataset", "sysu", "--root", str(sysu_copy))
    assert code != 0
    lines = err.strip().splitlines()
    assert lines == [f"error: {sysu_copy / 'cam6'}: camera folder not found",
                     f"error: {sysu_copy / 'cam1' / '0002' / '0001.jpg'}: empty file (0 bytes)"]
    assert "Traceback" not in err and "problems: 2" in out


def test_check_of_a_missing_root(monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "data", "check", "--dataset", "llcm", "--root", str(tmp_path / "x"))
    assert code != 0 and err == f"error: {tmp_path / 'x'}: dataset root folder not found\n"


def test_regdb_check_without_trial_checks_all_ten_trials(monkeypatch, capsys, synth_regdb_root):
    code, out, err = run(monkeypatch, capsys, "data", "check", "--dataset", "regdb", "--root", str(synth_regdb_root))
    assert code == 0 and err == ""
    assert [line.split(" at ")[0] for line in out.splitlines() if " at " in line] == [
        f"RegDB trial {t}" for t in range(1, 11)]


def test_regdb_check_of_all_trials_reports_a_shared_problem_once(monkeypatch, capsys, regdb_copy):
    bad = regdb_copy / "Visible" / "1" / "1_v_01.jpg"
    bad.write_bytes(b"not a jpeg")
    (regdb_copy / "Thermal" / "1" / "Thumbs.db").write_bytes(b"\0")
    code, _, err = run(monkeypatch, capsys, "data", "check", "--dataset", "regdb", "--root", str(regdb_copy))
    assert code == 2
    assert err.splitlines() == [f"error: {regdb_copy / 'Thermal' / '1' / 'Thumbs.db'}: not an image file in an image folder",
                                f"error: {bad}: not an image file (cannot identify format)"]


def test_regdb_index_still_requires_a_trial(monkeypatch, capsys, synth_regdb_root, tmp_path):
    code, _, err = run(monkeypatch, capsys, "data", "index", "--dataset", "regdb", "--root", str(synth_regdb_root),
                       "--out", str(tmp_path / "i.parquet"))
    assert code == 2 and err.startswith("error: regdb: a trial is required") and len(err.splitlines()) == 1


def test_synth_force_reports_the_new_count_and_check_sees_only_new_images(monkeypatch, capsys, tmp_path):
    out_dir = tmp_path / "s"
    small = ["--images-per-camera", "1", "--height", "64", "--width", "32", "--test-fraction", "0.33"]
    run(monkeypatch, capsys, "data", "synth", "--out", str(out_dir), "--ids", "10", *small)
    code, out, _ = run(monkeypatch, capsys, "data", "synth", "--out", str(out_dir), "--ids", "6", "--force", *small)
    assert code == 0 and "wrote 36 images" in out
    code, out, _ = run(monkeypatch, capsys, "data", "check", "--dataset", "sysu", "--root", str(out_dir))
    assert code == 0 and "total images: 36; problems: 0" in out


def test_synth_with_too_few_ids_for_the_layout_is_one_line(monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "data", "synth", "--out", str(tmp_path / "s"), "--ids", "5",
                       "--test-fraction", "0.33")
    assert code == 2 and err == "error: ids: the sysu layout needs at least 6 identities (train, val and test splits must all be non-empty), got 5\n"


def test_index_writes_a_manifest_with_provenance(monkeypatch, capsys, synth_regdb_root, tmp_path):
    out_file = tmp_path / "index.parquet"
    code, out, _ = run(monkeypatch, capsys, "data", "index", "--dataset", "regdb", "--root", str(synth_regdb_root),
                       "--trial", "2", "--val-ids", "2", "--seed", "4", "--out", str(out_file))
    assert code == 0 and "144 images (train=60, val=12, test=72)" in out
    table = read_manifest(out_file, "image-index")
    assert table.num_rows == 144 and set(table.column("trial").to_pylist()) == {2}
    meta = read_metadata(out_file)
    assert meta["seed"] == 4 and meta["options"]["val_ids"] == 2 and len(meta["held_out_val_ids"]) == 2


def test_synth_then_check_round_trip(monkeypatch, capsys, tmp_path):
    out_dir = tmp_path / "s"
    code, out, _ = run(monkeypatch, capsys, "data", "synth", "--layout", "regdb", "--out", str(out_dir),
                       "--ids", "6", "--images-per-camera", "1", "--height", "64", "--width", "32")
    assert code == 0 and "wrote 12 images" in out
    code, out, _ = run(monkeypatch, capsys, "data", "check", "--dataset", "regdb", "--root", str(out_dir),
                       "--trial", "10")
    assert code == 0 and "problems: 0" in out


def test_synth_refuses_bad_options_and_non_empty_folders(monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "data", "synth", "--out", str(tmp_path / "a"), "--ids", "2")
    assert code == 2 and "ids: need at least 4 identities" in err
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("mine")
    code, _, err = run(monkeypatch, capsys, "data", "synth", "--out", str(tmp_path / "b"))
    assert code == 2 and "output folder is not empty" in err
    code, _, err = run(monkeypatch, capsys, "data", "synth", "--layout", "market", "--out", str(tmp_path / "c"),
                       "--ids", "4")
    assert code == 2 and "unknown synthetic layout 'market'" in err


def test_help_describes_the_data_commands(monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, "data", "--help")
    assert code == 0
    for command in ("check", "index", "synth"):
        assert command in out
