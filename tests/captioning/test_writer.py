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


def test_a_corrupt_part_is_reported_once_set_aside_and_its_images_redone(tmp_path, capsys):
    _setup(tmp_path, ["d:a"])
    (tmp_path / "parts").mkdir()
    bad = tmp_path / "parts" / "part-s0of1-1-1.parquet"
    bad.write_bytes(b"garbage")
    assert writer.read_parts(tmp_path) == []
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"warning: corrupt caption part file {bad} (unreadable Parquet file")
    assert err[0].endswith("moved to part-s0of1-1-1.parquet.corrupt, its rows will be captioned again")
    assert writer.done_ids(tmp_path, "fp") == set()
    assert capsys.readouterr().err == ""  # reported once, not on every scan
    assert (tmp_path / "parts" / "part-s0of1-1-1.parquet.corrupt").read_bytes() == b"garbage"


def test_a_part_with_intact_footer_but_bad_rows_names_its_row_count(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vireid.manifests.schema import KIND_KEY, SCHEMA_VERSION, VERSION_KEY

    _setup(tmp_path, ["d:a", "d:b"])
    table = to_table([row("d:a"), row("d:b")], "captions")
    table = table.set_column(0, "image_id", pa.array(["d:a", None])).replace_schema_metadata(
        {KIND_KEY: b"captions", VERSION_KEY: str(SCHEMA_VERSION).encode()})
    (tmp_path / "parts").mkdir()
    pq.write_table(table, tmp_path / "parts" / "part-s0of1-2-2.parquet")
    assert writer.read_parts(tmp_path) == []
    err = capsys.readouterr().err
    assert "column image_id: row 1 is null" in err and "its 2 row(s) will be captioned again" in err


def test_a_full_disk_while_writing_a_part_is_one_line_and_leaves_no_temp(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from vireid.errors import StorageError

    def no_space(table, where, **kwargs):
        with open(where, "wb") as fh:
            fh.write(b"PAR1 half")
        raise OSError("[Errno 28] Error writing bytes to file. Detail: [errno 28] No space left on device")

    _setup(tmp_path, ["d:a"])
    parts = writer.PartWriter(tmp_path, "fp", "s0of1")
    parts.add([row("d:a")])
    monkeypatch.setattr(pq, "write_table", no_space)
    with pytest.raises(StorageError) as info:
        parts.flush()
    assert str(info.value).startswith(f"no space left on device writing {tmp_path / 'parts' / 'part-s0of1-'}")
    assert list((tmp_path / "parts").iterdir()) == []


def test_merge_of_a_folder_without_run_file_names_it(tmp_path):
    with pytest.raises(ManifestError, match="run.json"):
        writer.merge(tmp_path)


def test_a_zero_byte_manifest_is_one_warning_naming_it_and_its_images_are_redone(tmp_path, capsys):
    writer.manifest_path(tmp_path).write_bytes(b"")
    assert writer.done_ids(tmp_path, "fp") == set()
    assert writer.done_ids(tmp_path, "fp") == set()
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"warning: {writer.manifest_path(tmp_path)}: unreadable caption manifest")
    assert "captioned again" in err[0]
