"""The synthetic benchmark: determinism, files, captions, provenance."""

import dataclasses
import json
from pathlib import Path

import pytest

from vireid.datasets import build_index
from vireid.datasets.check import check_dataset
from vireid.datasets.synth import SynthConfig, generate
from vireid.errors import ConfigError, DatasetError
from vireid.manifests import read_manifest, read_metadata

TINY = dict(ids=6, images_per_camera=1, height=64, width=32, test_fraction=0.33)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("layout", ["sysu", "regdb", "llcm"])
def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path, layout):
    a = _files(generate(tmp_path / "a", layout, SynthConfig(**TINY, seed=3)))
    b = _files(generate(tmp_path / "b", layout, SynthConfig(**TINY, seed=3)))
    c = _files(generate(tmp_path / "c", layout, SynthConfig(**TINY, seed=4)))
    assert a == b
    assert "reference_captions.parquet" in a and "synth.json" in a
    jpgs = [k for k in a if k.endswith(".jpg")]
    assert all(a[k] != c[k] for k in jpgs if k in c)     # LLCM: the seed also picks cameras
    assert a != c


def test_sysu_output_passes_check_with_every_image_indexed(synth_sysu_root):
    report = check_dataset("sysu", synth_sysu_root)
    assert report.ok, report.problems
    assert report.num_images == len(list(Path(synth_sysu_root).rglob("*.jpg"))) == 24 * 6 * 3


def test_regdb_output_passes_check_for_every_trial(synth_regdb_root):
    for trial in range(1, 11):
        report = check_dataset("regdb", synth_regdb_root, trial=trial, decode=trial == 1)
        assert report.ok, report.problems
        assert report.identities == {("train", "visible"): 12, ("train", "infrared"): 12,
                                     ("test", "visible"): 12, ("test", "infrared"): 12}


def test_llcm_output_passes_check_with_two_cameras_per_identity_and_modality(synth_llcm_root):
    report = check_dataset("llcm", synth_llcm_root)
    assert report.ok, report.problems
    assert report.num_images == len(list(Path(synth_llcm_root).rglob("*.jpg"))) == 24 * 2 * 2 * 3
    rows = build_index("llcm", synth_llcm_root, val_ids=0).to_pylist()
    cams = {}
    for r in rows:
        cams.setdefault((r["pid"], r["modality"]), set()).add(r["camera"])
    assert all(len(c) == 2 for c in cams.values()) and len(cams) == 24 * 2
    assert not any(r["modality"] == "infrared" and r["camera"] == 3 for r in rows)   # no NIR cam3
    test_ids = {int(t) for t in (synth_llcm_root / "idx" / "test_id.txt").read_text().split(",")}
    assert {r["pid"] for r in rows if r["split"] == "test"} == test_ids and len(test_ids) == round(24 * 0.33)


def test_llcm_train_lists_label_identities_in_sorted_pid_order(synth_llcm_root):
    for name, prefix in (("train_vis.txt", "train_vis/"), ("train_nir.txt", "train_nir/")):
        lines = (synth_llcm_root / "idx" / name).read_text().splitlines()
        pairs = [(int(line.split()[0].split("/")[2]), int(line.split()[1])) for line in lines]
        pids = sorted({p for p, _ in pairs})
        assert all(label == pids.index(pid) for pid, label in pairs)
        assert all(line.startswith(prefix) for line in lines)


def test_regdb_labels_are_relabelled_per_file_in_sorted_pid_order(synth_regdb_root):
    lines = (synth_regdb_root / "idx" / "test_thermal_5.txt").read_text().splitlines()
    pairs = [(int(line.split()[0].split("/")[1]), int(line.split()[1])) for line in lines]
    pids = sorted({p for p, _ in pairs})
    assert all(label == pids.index(pid) for pid, label in pairs)
    assert all(line.startswith("Thermal/") for line in lines)


def test_caption_manifest_covers_every_image_of_every_split(synth_sysu_root):
    captions = read_manifest(synth_sysu_root / "reference_captions.parquet", "captions").to_pylist()
    index = build_index("sysu", synth_sysu_root).to_pylist()
    assert {c["image_id"] for c in captions} == {r["image_id"] for r in index}
    row = captions[0]
    assert row["source"] == row["model"] == "synthetic-reference"
    assert row["quantization"] == "none" and row["prompt"] == "" and row["generation"] == "{}"
    assert row["error"] is None and row["num_tokens"] > 10 and row["truncated"] is False
    assert all(c["num_tokens"] <= 77 for c in captions)


def test_synth_json_records_config_seed_and_version(synth_sysu_root):
    info = json.loads((synth_sysu_root / "synth.json").read_text())
    assert info["layout"] == "sysu" and info["seed"] == 0 and info["config"]["ids"] == 24
    assert info["vireid_version"]
    assert read_metadata(synth_sysu_root / "reference_captions.parquet")["config"] == info["config"]


def test_sysu_split_files_partition_the_identities(synth_sysu_root):
    def ids(name):
        return set(map(int, (synth_sysu_root / "exp" / f"{name}_id.txt").read_text().split(",")))

    train, val, test = ids("train"), ids("val"), ids("test")
    assert train | val | test == set(range(1, 25)) and not (train & val or train & test or val & test)
    assert len(test) == round(24 * 0.33)


@pytest.mark.parametrize("field, value", [("ids", 3), ("images_per_camera", 0), ("height", 16),
                                          ("ir_color_error_rate", 1.5), ("test_fraction", 1.0)])
def test_invalid_config_is_refused_naming_the_field(tmp_path, field, value):
    with pytest.raises(ConfigError, match=field):
        generate(tmp_path / "x", "sysu", SynthConfig(**{field: value}))


@pytest.mark.parametrize("layout, ids, needed", [("sysu", 5, 6), ("sysu", 3, 6), ("regdb", 3, 4), ("llcm", 3, 4)])
def test_too_few_ids_for_a_valid_layout_is_refused_in_one_line(tmp_path, layout, ids, needed):
    with pytest.raises(ConfigError) as info:
        generate(tmp_path / "x", layout, SynthConfig(**{**TINY, "ids": ids}))
    assert f"at least {needed} identities" in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("layout", ["sysu", "regdb", "llcm"])
def test_the_minimum_ids_give_a_folder_that_passes_check(tmp_path, layout):
    from vireid.datasets.synth.layout import minimum_ids

    config = SynthConfig(**{**TINY, "ids": minimum_ids(layout, SynthConfig())})
    root = generate(tmp_path / "x", layout, config)
    assert check_dataset(layout, root, 1 if layout == "regdb" else None).ok


def test_force_replaces_the_whole_folder_no_old_images_stay(tmp_path):
    out = generate(tmp_path / "s", "sysu", SynthConfig(**{**TINY, "ids": 10}))
    generate(out, "sysu", SynthConfig(**TINY), force=True)
    fresh = generate(tmp_path / "fresh", "sysu", SynthConfig(**TINY))
    assert _files(out) == _files(fresh)
    assert check_dataset("sysu", out).num_images == 6 * 6
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _add_user_files(out: Path) -> dict[str, str]:
    files = {"my_runs/notes.txt": "mine", "NOTES.md": "mine", "cam1/my_caption_notes.txt": "mine"}
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return files


@pytest.mark.parametrize("listed", [True, False], ids=["owned-list", "older-folder-without-list"])
def test_force_replaces_only_the_earlier_benchmarks_files(tmp_path, listed):
    out = generate(tmp_path / "s", "sysu", SynthConfig(**{**TINY, "ids": 10}))
    if not listed:  # written by a vireid before .vireid-owned.json: its synth.json says what it wrote
        (out / ".vireid-owned.json").unlink()
    mine = _add_user_files(out)
    generate(out, "sysu", SynthConfig(**TINY), force=True)
    assert {rel: (out / rel).read_text() for rel in mine} == mine
    fresh = generate(tmp_path / "fresh", "sysu", SynthConfig(**TINY))
    assert {k: v for k, v in _files(out).items() if k not in mine} == _files(fresh)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_force_refuses_to_overwrite_a_user_file_at_a_path_the_benchmark_writes(tmp_path):
    out = generate(tmp_path / "s", "sysu", SynthConfig(**TINY))
    listed = json.loads((out / ".vireid-owned.json").read_text())["files"]
    listed.remove("exp/test_id.txt")           # as if the user had put their own file there
    (out / ".vireid-owned.json").write_text(json.dumps({"files": listed}))
    (out / "exp" / "test_id.txt").write_text("mine")
    with pytest.raises(DatasetError, match=r"test_id.txt: not written by the earlier benchmark"):
        generate(out, "sysu", SynthConfig(**TINY), force=True)
    assert (out / "exp" / "test_id.txt").read_text() == "mine"


def test_without_force_a_non_empty_folder_is_refused(tmp_path):
    out = generate(tmp_path / "s", "sysu", SynthConfig(**TINY))
    with pytest.raises(DatasetError, match="not empty .pass --force"):
        generate(out, "sysu", SynthConfig(**TINY))


def test_force_refuses_a_folder_that_is_not_a_synthetic_benchmark(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(DatasetError, match=r"mine: not empty and not a synthetic benchmark \(no synth.json\)"):
        generate(tmp_path / "mine", "sysu", SynthConfig(**TINY), force=True)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_force_into_an_empty_folder_is_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    generate(tmp_path / "empty", "sysu", SynthConfig(**TINY), force=True)
    assert (tmp_path / "empty" / "synth.json").is_file()


def test_a_failed_generation_leaves_the_previous_benchmark_and_no_temp_folder(tmp_path, monkeypatch):
    import importlib

    gen = importlib.import_module("vireid.datasets.synth.generate")  # the package re-exports

    out = generate(tmp_path / "s", "sysu", SynthConfig(**TINY))
    before = _files(out)

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(gen, "render_infrared", broken)
    with pytest.raises(RuntimeError):
        generate(out, "sysu", SynthConfig(**{**TINY, "seed": 9}), force=True)
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


@pytest.mark.parametrize("field, value", [("version", 3), ("view_bias", 1.5), ("feet_crop_rate", -0.1),
                                          ("caption_omit_rate", 2.0), ("caption_error_rate", -1.0),
                                          ("caption_filler_rate", 1.01), ("caption_view_rate", 9.0)])
def test_invalid_version_2_options_are_refused_naming_the_field(tmp_path, field, value):
    with pytest.raises(ConfigError, match=field):
        generate(tmp_path / "x", "sysu", SynthConfig(**{field: value}))


def test_version_1_refuses_options_only_version_2_has(tmp_path):
    with pytest.raises(ConfigError, match="caption_omit_rate: only benchmark version 2"):
        SynthConfig(version=1, caption_omit_rate=0.5).validate()
    SynthConfig(version=1).validate()     # the version-2 defaults are simply not used


def test_version_2_records_every_option_and_version_1_only_its_own(tmp_path):
    v2 = generate(tmp_path / "v2", "regdb", SynthConfig(**TINY, caption_omit_rate=0.4, views=False))
    info = json.loads((v2 / "synth.json").read_text())
    assert info["config"]["version"] == 2 and info["config"]["caption_omit_rate"] == 0.4
    assert info["config"]["views"] is False
    assert set(info["config"]) == {f.name for f in dataclasses.fields(SynthConfig)}
    assert read_metadata(v2 / "reference_captions.parquet")["config"] == info["config"]
    v1 = generate(tmp_path / "v1", "regdb", SynthConfig(**TINY, version=1))
    old = json.loads((v1 / "synth.json").read_text())["config"]
    assert "version" not in old and "caption_omit_rate" not in old and "ir_color_error_rate" in old


def test_version_2_llcm_output_passes_check(tmp_path):
    root = generate(tmp_path / "l", "llcm", SynthConfig(ids=8, images_per_camera=2, height=64, width=32))
    report = check_dataset("llcm", root)
    assert report.ok, report.problems


def test_versions_share_identities_splits_and_file_names_but_not_pixels_or_captions(tmp_path):
    a = _files(generate(tmp_path / "a", "sysu", SynthConfig(**TINY, version=1)))
    b = _files(generate(tmp_path / "b", "sysu", SynthConfig(**TINY, version=2)))
    assert set(a) == set(b)
    assert all(a[k] == b[k] for k in a if k.startswith("exp/"))
    assert sum(a[k] != b[k] for k in a if k.endswith(".jpg")) > 0.5 * sum(k.endswith(".jpg") for k in a)
