"""Part files, de-duplication and merging into one manifest."""

from datetime import datetime, timedelta, timezone

import pytest

from vireid.captioning import writer
from vireid.errors import ManifestError
from vireid.manifests import read_manifest, read_metadata, to_table

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def row(image_id, caption="a man", error=None, at=0):
    return {"image_id": image_id, "dataset": "sysu", "path": image_id.split(":")[1],
            "modality": "visible", "pid": 1, "camera": 1, "caption": caption,
            "num_tokens": None if caption is None else 4, "truncated": None if caption is None else False,
            "model": "m", "model_revision": None, "prompt": "p", "generation": "{}",
            "quantization": "none", "source": "llava", "created_at": T0 + timedelta(seconds=at),
            "error": error}


def test_deduplicate_prefers_captions_then_newest_and_keeps_run_order():
    table = to_table([row("d:b", "old", at=1), row("d:a", None, "unreadable", at=5),
                      row("d:a", "fixed", at=2), row("d:b", "new", at=3)], "captions")
    result = writer.deduplicate(table, order=["d:b", "d:a"]).to_pylist()
    assert [(r["image_id"], r["caption"]) for r in result] == [("d:b", "new"), ("d:a", "fixed")]


def _setup(out, ids, fingerprint="fp"):
    writer.write_run_file(out, fingerprint, {"model": "m"}, ids)


def test_incomplete_merge_keeps_parts_and_complete_merge_removes_them(tmp_path):
    _setup(tmp_path, ["d:a", "d:b", "d:c"])
    parts = writer.PartWriter(tmp_path, "fp", "s0of1")
    parts.add([row("d:a"), row("d:b")])
    parts.flush()
    result = writer.merge(tmp_path)
    assert (result.rows, result.missing, result.complete) == (2, 1, False)
    assert len(writer.read_parts(tmp_path)) == 1
    assert read_metadata(tmp_path / "captions.parquet")["complete"] is False
    assert not writer.manifest_is_complete(tmp_path, "fp")

    parts.add([row("d:c"), row("d:a", at=9)])  # a duplicate, as after an overlapping rerun
    parts.flush()
    result = writer.merge(tmp_path)
    assert result.complete and result.rows == 3
    assert not (tmp_path / "parts").exists()
    table = read_manifest(tmp_path / "captions.parquet", "captions")
    assert table.column("image_id").to_pylist() == ["d:a", "d:b", "d:c"]
    assert writer.manifest_is_complete(tmp_path, "fp")
    assert not writer.manifest_is_complete(tmp_path, "other-inputs")


def test_parts_of_other_inputs_are_ignored_and_removable(tmp_path):
    _setup(tmp_path, ["d:a"])
    stale = writer.PartWriter(tmp_path, "old", "s0of1")
    stale.add([row("d:a", "stale")])
    stale.flush()
    assert writer.done_ids(tmp_path, "fp") == set()
    with pytest.raises(ManifestError, match="nothing to merge"):
        writer.merge(tmp_path)
    assert writer.remove_stale(tmp_path, "fp") == 1
    assert writer.read_parts(tmp_path) == []


def test_unreadable_part_is_skipped(tmp_path):
    _setup(tmp_path, ["d:a"])
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "part-s0of1-1-1.parquet").write_bytes(b"garbage")
    assert writer.read_parts(tmp_path) == []


def test_merge_of_a_folder_without_run_file_names_it(tmp_path):
    with pytest.raises(ManifestError, match="run.json"):
        writer.merge(tmp_path)
