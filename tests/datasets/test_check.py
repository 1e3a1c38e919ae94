"""`check_dataset` finds every planted fault and names its path."""

import shutil

import pytest

from vireid.datasets.check import check_dataset
from vireid.errors import DatasetError


def _problems_with(report, fragment):
    return [p for p in report.problems if fragment in p]


def test_clean_synthetic_dataset_has_no_problems_and_exact_counts(synth_sysu_root):
    report = check_dataset("sysu", synth_sysu_root)
    assert report.ok, report.problems
    assert report.num_images == 24 * 6 * 3
    assert report.images[("test", "infrared", 3)] == report.identities[("test", "infrared")] * 3
    assert "total images: 432; problems: 0; warnings: 0" in report.table()


def test_missing_root_is_the_only_problem(tmp_path):
    report = check_dataset("sysu", tmp_path / "nowhere")
    assert report.problems == [f"{tmp_path / 'nowhere'}: dataset root folder not found"]


def test_missing_camera_folder(sysu_copy):
    shutil.rmtree(sysu_copy / "cam2")
    assert check_dataset("sysu", sysu_copy).problems == [f"{sysu_copy / 'cam2'}: camera folder not found"]


@pytest.mark.parametrize("content", ["", "\n  \n"])
def test_empty_id_file(sysu_copy, content):
    (sysu_copy / "exp" / "val_id.txt").write_text(content)
    assert check_dataset("sysu", sysu_copy).problems == [
        f"{sysu_copy / 'exp' / 'val_id.txt'}: id file is empty"]


def test_missing_id_file(sysu_copy):
    (sysu_copy / "exp" / "test_id.txt").unlink()
    assert f"{sysu_copy / 'exp' / 'test_id.txt'}: id file not found" in check_dataset("sysu", sysu_copy).problems


def test_unparseable_id_file_line(sysu_copy):
    (sysu_copy / "exp" / "val_id.txt").write_text("1,2,x3\n")
    problems = check_dataset("sysu", sysu_copy).problems
    assert f"{sysu_copy / 'exp' / 'val_id.txt'}: line 1: 'x3' is not an integer identity" in problems


def test_identity_listed_without_images(sysu_copy):
    test_ids = (sysu_copy / "exp" / "test_id.txt").read_text().strip().split(",")
    gone = int(test_ids[0])
    for cam in range(1, 7):
        shutil.rmtree(sysu_copy / f"cam{cam}" / f"{gone:04d}")
    report = check_dataset("sysu", sysu_copy)
    assert len(report.problems) == 1
    assert f"identity {gone} (listed in exp/test_id.txt) has no images" in report.problems[0]


def test_corrupt_jpeg_zero_byte_file_and_non_image_file(sysu_copy):
    corrupt = sysu_copy / "cam1" / "0001" / "0001.jpg"
    corrupt.write_bytes(corrupt.read_bytes()[:200])  # truncated mid-scan
    empty = sysu_copy / "cam3" / "0001" / "0002.jpg"
    empty.write_bytes(b"")
    stray = sysu_copy / "cam4" / "0001" / "notes.txt"
    stray.write_text("not an image")
    report = check_dataset("sysu", sysu_copy)
    assert len(report.problems) == 3
    assert _problems_with(report, f"{corrupt}: unreadable or truncated image")
    assert _problems_with(report, f"{empty}: empty file (0 bytes)")
    assert report.problems.count(f"{stray}: not an image file in an image folder") == 1


def test_garbage_with_image_extension_is_not_an_image(sysu_copy):
    fake = sysu_copy / "cam6" / "0001" / "0001.jpg"
    fake.write_bytes(b"GIF? no, just text" * 10)
    assert _problems_with(check_dataset("sysu", sysu_copy), f"{fake}: not an image file")


def test_no_decode_skips_image_decoding(sysu_copy):
    (sysu_copy / "cam1" / "0001" / "0001.jpg").write_bytes(b"")
    assert check_dataset("sysu", sysu_copy, decode=False).ok


def test_regdb_check_counts_one_trial(synth_regdb_root):
    report = check_dataset("regdb", synth_regdb_root, trial=2)
    assert report.ok, report.problems
    assert report.images == {("train", "visible", 1): 36, ("train", "infrared", 2): 36,
                             ("test", "visible", 1): 36, ("test", "infrared", 2): 36}


def test_regdb_missing_list_file_and_stray_file(regdb_copy):
    (regdb_copy / "idx" / "train_thermal_4.txt").unlink()
    stray = regdb_copy / "Thermal" / "1" / "Thumbs.db"
    stray.write_bytes(b"\0")
    problems = check_dataset("regdb", regdb_copy, trial=4).problems
    assert problems == [f"{regdb_copy / 'idx' / 'train_thermal_4.txt'}: list file not found",
                        f"{stray}: not an image file in an image folder"]


def test_llcm_missing_test_folder(llcm_root):
    shutil.rmtree(llcm_root / "test_nir")
    problems = check_dataset("llcm", llcm_root).problems
    assert f"{llcm_root / 'test_nir'}: test image folder not found" in problems


def test_wrong_requests_raise_instead_of_reporting(synth_sysu_root):
    with pytest.raises(DatasetError, match="unknown dataset 'market'"):
        check_dataset("market", synth_sysu_root)
    with pytest.raises(DatasetError, match="trial"):
        check_dataset("regdb", synth_sysu_root)


def test_a_decompression_bomb_is_one_problem_and_the_report_survives(sysu_copy):
    from tests.datasets.test_images import png_header_only

    bomb = png_header_only(sysu_copy / "cam1" / "0002" / "0001.jpg", 20000, 20000)
    report = check_dataset("sysu", sysu_copy)
    assert len(report.problems) == 1 and report.problems[0].startswith(f"{bomb}: image too large")
    assert report.num_images == 432


def test_all_trials_give_one_report_each_and_a_trial_specific_problem_stays_in_its_trial(regdb_copy):
    from vireid.datasets.check import check_dataset_trials

    (regdb_copy / "idx" / "test_visible_3.txt").unlink()
    reports = check_dataset_trials("regdb", regdb_copy)
    assert [r.trial for r in reports] == list(range(1, 11))
    assert [r.problems for r in reports if r.problems] == [
        [f"{regdb_copy / 'idx' / 'test_visible_3.txt'}: list file not found"]]
    assert all(r.num_images == 144 for r in reports if r.trial != 3)


def test_all_trials_decode_each_image_once(regdb_copy, monkeypatch):
    import vireid.datasets.check as check

    decoded = []
    monkeypatch.setattr(check, "_decode", lambda path: decoded.append(path))
    check.check_dataset_trials("regdb", regdb_copy)
    assert len(decoded) == len(set(decoded)) == 144


def test_a_training_identity_of_one_modality_is_a_warning_not_a_silent_drop(sysu_copy):
    pid = int((sysu_copy / "exp" / "train_id.txt").read_text().split(",")[0])
    for camera in ("cam3", "cam6"):                                    # SYSU's infrared cameras
        shutil.rmtree(sysu_copy / camera / f"{pid:04d}")
    report = check_dataset("sysu", sysu_copy, decode=False)
    assert report.ok
    assert report.warnings == [f"{sysu_copy}: training identity {pid} has visible images only; training "
                               f"leaves it out (a cross-modality batch needs both)"]
    assert "problems: 0; warnings: 1" in report.table()


def test_a_file_given_as_root_is_named_as_a_file(synth_sysu_root):
    report = check_dataset("sysu", synth_sysu_root / "synth.json")
    assert report.problems == [f"{synth_sysu_root / 'synth.json'}: is a file, not a dataset folder; give --root "
                               f"the folder that holds it"]
