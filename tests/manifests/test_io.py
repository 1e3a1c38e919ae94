"""Manifest files: round trip, kind/version/column checks, atomic replacement."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vireid.errors import ManifestError
from vireid.manifests import IMAGE_INDEX_SCHEMA, SCHEMA_VERSION, read_manifest, read_metadata, to_table, write_manifest
from vireid.manifests.schema import KIND_KEY, VERSION_KEY

ROWS = [
    {"image_id": "sysu:cam1/0001/0001.jpg", "dataset": "sysu", "path": "cam1/0001/0001.jpg",
     "modality": "visible", "pid": 1, "label": 0, "camera": 1, "split": "train", "trial": None},
    {"image_id": "regdb:Thermal/3/a.bmp", "dataset": "regdb", "path": "Thermal/3/a.bmp",
     "modality": "infrared", "pid": 3, "label": -1, "camera": 2, "split": "test", "trial": 4},
]


def test_rows_survive_a_write_read_round_trip_with_metadata(tmp_path):
    path = write_manifest(to_table(ROWS, "image-index"), tmp_path / "index.parquet", "image-index",
                          metadata={"seed": 3, "options": {"trial": 4}})
    table = read_manifest(path, "image-index")
    assert table.schema.equals(IMAGE_INDEX_SCHEMA, check_metadata=False)
    assert table.to_pylist() == ROWS
    assert read_metadata(path) == {"seed": 3, "options": {"trial": 4}}


def test_columns_form_is_accepted_too():
    columns = {k: [r[k] for r in ROWS] for k in ROWS[0]}
    assert to_table(columns, "image-index").to_pylist() == ROWS


def test_rows_that_do_not_fit_the_schema_are_refused():
    with pytest.raises(ValueError, match="image-index schema"):
        to_table([{**ROWS[0], "pid": "one"}], "image-index")


def test_reading_as_the_wrong_kind_names_the_file(tmp_path):
    path = write_manifest(to_table(ROWS, "image-index"), tmp_path / "i.parquet", "image-index")
    with pytest.raises(ManifestError, match=rf"{path}: not a vireid captions manifest \(kind='image-index'\)"):
        read_manifest(path, "captions")


def test_other_schema_version_asks_to_recreate(tmp_path):
    table = to_table(ROWS, "image-index").replace_schema_metadata(
        {KIND_KEY: b"image-index", VERSION_KEY: str(SCHEMA_VERSION + 1).encode()})
    pq.write_table(table, tmp_path / "old.parquet")
    with pytest.raises(ManifestError, match="re-create the manifest"):
        read_manifest(tmp_path / "old.parquet", "image-index")


def test_missing_columns_are_listed(tmp_path):
    table = to_table(ROWS, "image-index").drop_columns(["camera", "trial"]).replace_schema_metadata(
        {KIND_KEY: b"image-index", VERSION_KEY: str(SCHEMA_VERSION).encode()})
    pq.write_table(table, tmp_path / "thin.parquet")
    with pytest.raises(ManifestError, match="lacks column.s. camera, trial"):
        read_manifest(tmp_path / "thin.parquet", "image-index")


def test_missing_and_non_parquet_files_are_manifest_errors(tmp_path):
    with pytest.raises(ManifestError, match=f"{tmp_path / 'none.parquet'}: manifest not found"):
        read_manifest(tmp_path / "none.parquet", "image-index")
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(ManifestError, match="unreadable Parquet file"):
        read_manifest(junk, "image-index")
    with pytest.raises(ManifestError, match="unreadable Parquet file"):
        read_metadata(junk)


def test_failed_write_leaves_the_previous_file_untouched(tmp_path, monkeypatch):
    path = write_manifest(to_table(ROWS, "image-index"), tmp_path / "i.parquet", "image-index",
                          metadata={"version": "old"})
    before = path.read_bytes()

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_manifest(to_table(ROWS[:1], "image-index"), path, "image-index", metadata={"version": "new"})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["i.parquet"]  # no temp file left behind


def test_unserialisable_metadata_is_stored_as_text(tmp_path):
    from pathlib import Path

    path = write_manifest(to_table(ROWS, "image-index"), tmp_path / "i.parquet", "image-index",
                          metadata={"root": Path("/data/sysu")})
    assert read_metadata(path) == {"root": "/data/sysu"}
    assert json.loads(pq.read_schema(path).metadata[b"vireid.metadata"]) == {"root": "/data/sysu"}


def test_a_table_with_extra_or_reordered_columns_is_written_in_schema_order(tmp_path):
    table = to_table(ROWS, "image-index")
    shuffled = table.select(list(reversed(table.column_names))).append_column("extra", pa.array([1, 2]))
    path = write_manifest(shuffled, tmp_path / "i.parquet", "image-index")
    assert pq.read_schema(path).names == IMAGE_INDEX_SCHEMA.names


def _write_raw(path, table, kind="image-index"):
    """A Parquet file with vireid's metadata but whatever columns ``table`` has."""
    pq.write_table(table.replace_schema_metadata(
        {KIND_KEY: kind.encode(), VERSION_KEY: str(SCHEMA_VERSION).encode()}), path)
    return path


def _index_with(column, values, type_=None):
    table = to_table(ROWS, "image-index")
    i = table.schema.get_field_index(column)
    return table.set_column(i, column, pa.array(values, type_))


def test_pid_stored_as_text_is_an_error_naming_the_column(tmp_path):
    path = _write_raw(tmp_path / "i.parquet", _index_with("pid", ["1", "three"]))
    with pytest.raises(ManifestError, match=rf"^{path}: column pid: has type string, expected int32$"):
        read_manifest(path, "image-index")


def test_null_image_id_is_an_error_naming_column_and_row(tmp_path):
    path = _write_raw(tmp_path / "i.parquet", _index_with("image_id", ["a", None]))
    with pytest.raises(ManifestError, match=rf"^{path}: column image_id: row 1 is null"):
        read_manifest(path, "image-index")


def test_null_label_is_an_error_naming_the_column(tmp_path):
    path = _write_raw(tmp_path / "i.parquet", _index_with("label", [None, -1], pa.int64()))
    with pytest.raises(ManifestError, match=rf"^{path}: column label: row 0 is null"):
        read_manifest(path, "image-index")


def test_integer_width_differences_are_accepted_and_overflow_is_named(tmp_path):
    ok = _write_raw(tmp_path / "ok.parquet", _index_with("pid", [1, 3], pa.int64()))
    assert read_manifest(ok, "image-index").column("pid").type == pa.int32()
    big = _write_raw(tmp_path / "big.parquet", _index_with("pid", [1, 2**40], pa.int64()))
    with pytest.raises(ManifestError, match=rf"^{big}: column pid: cannot be read as int32"):
        read_manifest(big, "image-index")


def test_unknown_modality_is_an_error_naming_column_and_row(tmp_path):
    path = _write_raw(tmp_path / "i.parquet", _index_with("modality", ["visible", "thermal"]))
    with pytest.raises(ManifestError,
                       match=rf"^{path}: column modality: row 1 has 'thermal'; expected one of visible, infrared$"):
        read_manifest(path, "image-index")


def test_duplicated_index_rows_are_an_error_naming_both_rows(tmp_path):
    table = to_table([ROWS[0], ROWS[1], ROWS[0]], "image-index")
    path = write_manifest(table, tmp_path / "i.parquet", "image-index")
    with pytest.raises(ManifestError,
                       match=rf"^{path}: column image_id: 'sysu:cam1/0001/0001.jpg' appears in rows 0 and 2"):
        read_manifest(path, "image-index")


CAPTION = {"image_id": "sysu:cam1/0001/0001.jpg", "dataset": "sysu", "path": "cam1/0001/0001.jpg",
           "modality": "visible", "pid": 1, "camera": 1, "caption": "a person", "num_tokens": 5,
           "truncated": False, "model": "m", "model_revision": None, "prompt": "p",
           "generation": "{}", "quantization": "none", "source": "llava",
           "created_at": __import__("datetime").datetime(2024, 1, 1,
                                                          tzinfo=__import__("datetime").timezone.utc),
           "error": None}


def test_duplicate_image_ids_in_a_caption_manifest_are_an_error_not_last_wins(tmp_path):
    rows = [CAPTION, {**CAPTION, "caption": "another person"}]
    path = write_manifest(to_table(rows, "captions"), tmp_path / "c.parquet", "captions")
    with pytest.raises(ManifestError, match=rf"^{path}: column image_id: .* appears in rows 0 and 1"):
        read_manifest(path, "captions")


def test_a_caption_column_holding_lists_is_an_error_naming_the_column(tmp_path):
    table = to_table([CAPTION], "captions")
    i = table.schema.get_field_index("caption")
    table = table.set_column(i, "caption", pa.array([["a", "person"]]))
    path = _write_raw(tmp_path / "c.parquet", table, "captions")
    with pytest.raises(ManifestError, match=rf"^{path}: column caption: has type list<.*string>, expected string$"):
        read_manifest(path, "captions")
