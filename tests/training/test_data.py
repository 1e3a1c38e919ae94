"""Specification of joining the image index with caption manifests."""

from datetime import datetime, timezone

import pytest

from vireid.manifests.schema import MODALITIES
from vireid.errors import ConfigError, ManifestError
from vireid.manifests import to_table, write_manifest
from vireid.training.data import DataConfig, MissingCaptionsError, load_train_data


def _index_rows():
    rows = []
    for pid, label, split in ((10, 0, "train"), (11, 1, "train"), (12, -1, "val"), (13, -1, "test")):
        for modality, cam in (("visible", 1), ("infrared", 3)):
            path = f"cam{cam}/{pid:04d}/0001.jpg"
            rows.append({"image_id": f"sysu:{path}", "dataset": "sysu", "path": path,
                         "modality": modality, "pid": pid, "label": label, "camera": cam,
                         "split": split, "trial": None})
    return rows


def _caption_rows(index_rows, *, skip=(), error=(), text="a person"):
    out = []
    for r in index_rows:
        if r["image_id"] in skip:
            continue
        bad = r["image_id"] in error
        out.append({"image_id": r["image_id"], "dataset": "sysu", "path": r["path"],
                    "modality": r["modality"], "pid": r["pid"], "camera": r["camera"],
                    "caption": None if bad else f"{text} {r['pid']}", "num_tokens": 5,
                    "truncated": False, "model": "m", "model_revision": None, "prompt": "p",
                    "generation": "{}", "quantization": "none", "source": "llava",
                    "created_at": datetime(2024, 1, 1, tzinfo=timezone.utc),
                    "error": "boom" if bad else None})
    return out


@pytest.fixture
def inputs(tmp_path):
    rows = _index_rows()
    index = write_manifest(to_table(rows, "image-index"), tmp_path / "index.parquet", "image-index")
    return tmp_path, rows, index


def _cfg(tmp_path, index, captions=(), **kw):
    return DataConfig(root=str(tmp_path), index=str(index), captions=[str(c) for c in captions], **kw)


def test_train_rows_get_their_captions_and_val_rows_are_kept_apart(inputs):
    tmp_path, rows, index = inputs
    caps = write_manifest(to_table(_caption_rows(rows), "captions"), tmp_path / "c.parquet", "captions")
    data = load_train_data(_cfg(tmp_path, index, [caps]), caption_modalities=MODALITIES)
    assert data.train.num_rows == 4 and data.num_classes == 2
    assert set(data.val.column("pid").to_pylist()) == {12}
    assert 13 not in data.train.column("pid").to_pylist() + data.val.column("pid").to_pylist()
    pairs = dict(zip(data.train.column("image_id").to_pylist(), data.train.column("caption").to_pylist()))
    assert pairs["sysu:cam1/0010/0001.jpg"] == "a person 10"
    assert data.missing_captions == 0 and "index" in data.fingerprints


def test_missing_or_failed_captions_are_an_error_naming_count_and_ids(inputs):
    tmp_path, rows, index = inputs
    caps = write_manifest(to_table(_caption_rows(rows, skip={"sysu:cam1/0010/0001.jpg"},
                                                 error={"sysu:cam3/0011/0001.jpg"}), "captions"),
                          tmp_path / "c.parquet", "captions")
    with pytest.raises(MissingCaptionsError, match=r"2 of 4 training images") as err:
        load_train_data(_cfg(tmp_path, index, [caps]), caption_modalities=MODALITIES)
    assert "sysu:cam1/0010/0001.jpg" in str(err.value) and "--missing-captions template" in str(err.value)


def test_template_fallback_fills_missing_captions_and_counts_them(inputs):
    tmp_path, rows, index = inputs
    caps = write_manifest(to_table(_caption_rows(rows, skip={"sysu:cam1/0010/0001.jpg"}), "captions"),
                          tmp_path / "c.parquet", "captions")
    data = load_train_data(_cfg(tmp_path, index, [caps], missing_captions="template"), caption_modalities=MODALITIES)
    pairs = dict(zip(data.train.column("image_id").to_pylist(), data.train.column("caption").to_pylist()))
    assert pairs["sysu:cam1/0010/0001.jpg"] == "a photo of a person"
    assert data.missing_captions == 1


def test_later_caption_manifest_wins(inputs):
    tmp_path, rows, index = inputs
    a = write_manifest(to_table(_caption_rows(rows, text="old"), "captions"), tmp_path / "a.parquet", "captions")
    b = write_manifest(to_table(_caption_rows(rows[:1], text="new"), "captions"), tmp_path / "b.parquet", "captions")
    data = load_train_data(_cfg(tmp_path, index, [a, b]), caption_modalities=MODALITIES)
    pairs = dict(zip(data.train.column("image_id").to_pylist(), data.train.column("caption").to_pylist()))
    assert pairs[rows[0]["image_id"]] == "new 10" and pairs[rows[1]["image_id"]] == "old 10"


def test_presets_without_captions_need_no_manifest(inputs):
    tmp_path, _, index = inputs
    data = load_train_data(_cfg(tmp_path, index))
    assert data.train.num_rows == 4


def test_caption_presets_without_a_manifest_say_how_to_give_one(inputs):
    tmp_path, _, index = inputs
    with pytest.raises(ConfigError, match="--captions"):
        load_train_data(_cfg(tmp_path, index), caption_modalities=MODALITIES)


def test_missing_files_are_named(inputs):
    tmp_path, _, index = inputs
    with pytest.raises(ManifestError, match="nope.parquet"):
        load_train_data(_cfg(tmp_path, index, [tmp_path / "nope.parquet"]), caption_modalities=MODALITIES)
    with pytest.raises(ManifestError, match="missing.parquet"):
        load_train_data(_cfg(tmp_path, tmp_path / "missing.parquet"))


def _regdb_index(tmp_path, trial=1):
    rows = [{**r, "dataset": "regdb", "image_id": "regdb:" + r["path"], "trial": trial} for r in _index_rows()]
    return write_manifest(to_table(rows, "image-index"), tmp_path / f"regdb{trial}.parquet", "image-index")


def test_an_index_decides_dataset_and_trial_the_run_records(tmp_path):
    from vireid.training.config import resolve_config

    index = _regdb_index(tmp_path)
    cfg = resolve_config("tiny-baseline", overrides=[f"data.index={str(index)!r}"])
    assert (cfg.data.dataset, cfg.data.trial) == ("regdb", 1)       # not the defaults sysu / 0


@pytest.mark.parametrize("override, named", [("data.dataset='llcm'", "says llcm"), ("data.trial=2", "says 2")])
def test_a_dataset_or_trial_that_contradicts_the_index_is_refused(tmp_path, override, named):
    from vireid.training.config import resolve_config

    index = _regdb_index(tmp_path)
    with pytest.raises(ConfigError) as err:
        resolve_config("tiny-baseline", overrides=[f"data.index={str(index)!r}", override])
    assert str(index) in str(err.value) and "regdb trial 1" in str(err.value) and named in str(err.value)


def test_loading_an_index_of_another_dataset_than_configured_is_refused(inputs):
    tmp_path, _, index = inputs
    with pytest.raises(ConfigError, match="index is of sysu, but data.dataset"):
        load_train_data(_cfg(tmp_path, index, dataset="llcm"), caption_modalities=(), seed=0)


def test_caption_rows_describing_another_image_are_one_warning(inputs):
    tmp_path, rows, index = inputs
    captions = _caption_rows(rows)
    captions[0] = {**captions[0], "pid": 99}
    captions[2] = {**captions[2], "path": captions[2]["path"].replace(".jpg", ".png")}
    path = write_manifest(to_table(captions, "captions"), tmp_path / "c.parquet", "captions")
    data = load_train_data(_cfg(tmp_path, index, [path]), caption_modalities=MODALITIES, seed=0)
    assert len(data.warnings) == 1 and data.warnings[0].startswith(f"{path}: 2 caption rows describe their image")
    assert f"{captions[0]['image_id']}: pid 99 vs 10" in data.warnings[0]
    clean = write_manifest(to_table(_caption_rows(rows), "captions"), tmp_path / "ok.parquet", "captions")
    assert load_train_data(_cfg(tmp_path, index, [clean]), caption_modalities=MODALITIES, seed=0).warnings == []
