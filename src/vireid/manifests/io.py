"""Reading and writing manifests: atomic writes, schema and version checks on read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vireid.atomic import atomic_path
from vireid.errors import ManifestError
from vireid.manifests.schema import (
    EXTRA_KEY,
    KIND_KEY,
    MODALITIES,
    SCHEMA_VERSION,
    SCHEMAS,
    SPLITS,
    VERSION_KEY,
)


def _schema(kind: str) -> pa.Schema:
    try:
        return SCHEMAS[kind]
    except KeyError:
        raise ValueError(f"unknown manifest kind {kind!r}; known: {sorted(SCHEMAS)}") from None


def to_table(rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]], kind: str) -> pa.Table:
    """Rows (list of dicts) or columns (dict of lists) as a table of the kind's schema."""
    schema = _schema(kind)
    try:
        if isinstance(rows, Mapping):
            return pa.Table.from_pydict(dict(rows), schema=schema)
        return pa.Table.from_pylist(list(rows), schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError) as exc:
        raise ValueError(f"rows do not match the {kind} schema: {exc}") from exc


def _file_metadata(kind: str, metadata: Mapping[str, Any] | None) -> dict[bytes, bytes]:
    return {
        KIND_KEY: kind.encode(),
        VERSION_KEY: str(SCHEMA_VERSION).encode(),
        EXTRA_KEY: json.dumps(dict(metadata or {}), sort_keys=True, default=str).encode(),
    }


def write_manifest(table: pa.Table, path: str | Path, kind: str,
                   metadata: Mapping[str, Any] | None = None) -> Path:
    """Write ``table`` as a Parquet manifest of ``kind``, atomically (temp file + rename).

    ``metadata`` (JSON-serialisable) is stored under ``vireid.metadata``: inputs
    fingerprints, seeds and options of the run that wrote the file.
    """
    schema = _schema(kind)
    if not table.schema.equals(schema, check_metadata=False):
        table = table.select(schema.names).cast(schema)
    table = table.replace_schema_metadata(_file_metadata(kind, metadata))
    path = Path(path)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def write_manifest_parts(tables: Iterable[pa.Table], path: str | Path, kind: str,
                         metadata: Mapping[str, Any] | None = None, row_group_rows: int | None = None) -> Path:
    """:func:`write_manifest` of the rows of ``tables`` in order, written one piece at a time
    (a table too large for memory, e.g. a million embeddings, never is in memory whole).
    ``row_group_rows`` bounds the Parquet row groups (default: pyarrow's)."""
    schema = _schema(kind)
    meta = _file_metadata(kind, metadata)
    path = Path(path)
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, schema.with_metadata(meta), compression="zstd") as writer:
        for table in tables:
            if not table.schema.equals(schema, check_metadata=False):
                table = table.select(schema.names).cast(schema)
            writer.write_table(table.replace_schema_metadata(meta), row_group_size=row_group_rows)
    return path


def _check(schema: pa.Schema, path: Path, kind: str) -> None:
    meta = schema.metadata or {}
    found_kind = meta.get(KIND_KEY, b"").decode() or None
    if found_kind != kind:
        raise ManifestError(f"{path}: not a vireid {kind} manifest (kind={found_kind!r})")
    version = meta.get(VERSION_KEY, b"").decode()
    if version != str(SCHEMA_VERSION):
        raise ManifestError(
            f"{path}: {kind} manifest schema version {version or '?'}; this vireid reads "
            f"version {SCHEMA_VERSION} (re-create the manifest)"
        )
    expected = _schema(kind)
    missing = [name for name in expected.names if name not in schema.names]
    if missing:
        raise ManifestError(f"{path}: {kind} manifest lacks column(s) {', '.join(missing)}")


# Stored types that convert to the schema's type without changing meaning: any integer width
# (values are range-checked by the cast), either string flavour, any timestamp unit/zone.
_COMPATIBLE = (pa.types.is_integer, pa.types.is_string, pa.types.is_large_string,
               pa.types.is_timestamp, pa.types.is_boolean, pa.types.is_list)
_STRING_LIKE = (pa.types.is_string, pa.types.is_large_string)


def _same_family(found: pa.DataType, expected: pa.DataType) -> bool:
    if found.equals(expected) or pa.types.is_null(found):
        return True
    if any(check(expected) for check in _STRING_LIKE):
        return any(check(found) for check in _STRING_LIKE)
    return any(check(expected) and check(found) for check in _COMPATIBLE)


def _first(mask: pa.ChunkedArray) -> int:
    return int(pc.index(mask, value=True).as_py())


def _conform_column(column: pa.ChunkedArray, field: pa.Field, path: Path) -> pa.ChunkedArray:
    """``column`` cast to ``field``'s type; a wrong type or a null where none may be is an
    error naming the column (and the first offending row)."""
    where = f"{path}: column {field.name}"
    if not _same_family(column.type, field.type):
        raise ManifestError(f"{where}: has type {column.type}, expected {field.type}")
    if not field.nullable and column.null_count:
        row = _first(pc.is_null(column))
        raise ManifestError(f"{where}: row {row} is null; every row needs a value")
    try:
        return column.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ManifestError(f"{where}: cannot be read as {field.type} "
                            f"({str(exc).splitlines()[0]})") from None


def _check_values(table: pa.Table, path: Path) -> None:
    """Rows every stage relies on: known modality and split, one row per image_id."""
    allowed = {"modality": MODALITIES, "split": SPLITS}
    for name, values in allowed.items():
        if name not in table.column_names:
            continue
        column = table.column(name)
        bad = pc.invert(pc.is_in(column, value_set=pa.array(values)))
        if pc.any(bad).as_py():
            row = _first(bad)
            raise ManifestError(f"{path}: column {name}: row {row} has {column[row].as_py()!r}; "
                                f"expected one of {', '.join(values)}")
    ids = table.column("image_id").to_pylist() if "image_id" in table.column_names else []
    if len(set(ids)) != len(ids):
        seen: dict[str, int] = {}
        for row, image_id in enumerate(ids):
            if image_id in seen:
                raise ManifestError(f"{path}: column image_id: {image_id!r} appears in rows "
                                    f"{seen[image_id]} and {row}; each image needs one row")
            seen[image_id] = row


def read_manifest(path: str | Path, kind: str, columns: Sequence[str] | None = None) -> pa.Table:
    """Read a manifest file, checking its kind, schema version, columns, their types, nulls,
    modality/split values and the uniqueness of image_id. Every problem is a
    :class:`ManifestError` naming the file and the column (rows count from 0).

    ``columns``: read only these (the others are checked to exist, not read), e.g. everything
    but the features of an embedding file too large for memory (:func:`iter_column`)."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    try:
        stored = pq.read_schema(path)
        _check(stored, path, kind)
        fields = [f for f in _schema(kind) if columns is None or f.name in columns]
        table = pq.read_table(path, columns=[f.name for f in fields])
    except (pa.ArrowInvalid, OSError) as exc:
        raise ManifestError(f"{path}: unreadable Parquet file ({exc})") from None
    columns_read = [_conform_column(table.column(f.name), f, path) for f in fields]
    table = pa.Table.from_arrays(columns_read, schema=pa.schema(fields))
    _check_values(table, path)
    return table


def iter_column(path: str | Path, column: str, rows: int) -> Iterator[pa.Array]:
    """One column of a (checked) manifest in batches of ``rows`` rows, read from disk as it
    goes: memory holds one batch and its pages, whatever the file's size or row groups."""
    try:
        # No pre-buffering and a small read buffer: the reader then decodes page by page
        # instead of loading a whole row group's column chunk.
        reader = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        for batch in reader.iter_batches(batch_size=rows, columns=[column], use_threads=False):
            yield batch.column(0)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ManifestError(f"{path}: unreadable Parquet file ({exc})") from None


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The ``vireid.metadata`` JSON of a manifest (empty dict if absent)."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowInvalid, OSError) as exc:
        raise ManifestError(f"{path}: unreadable Parquet file ({exc})") from None
    raw = meta.get(EXTRA_KEY)
    return json.loads(raw) if raw else {}
