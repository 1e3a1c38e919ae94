"""Reading and writing manifests: atomic writes, schema and version checks on read."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vireid.atomic import atomic_path
from vireid.errors import ManifestError
from vireid.manifests.schema import EXTRA_KEY, KIND_KEY, SCHEMA_VERSION, SCHEMAS, VERSION_KEY


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


def write_manifest(table: pa.Table, path: str | Path, kind: str,
                   metadata: Mapping[str, Any] | None = None) -> Path:
    """Write ``table`` as a Parquet manifest of ``kind``, atomically (temp file + rename).

    ``metadata`` (JSON-serialisable) is stored under ``vireid.metadata``: inputs
    fingerprints, seeds and options of the run that wrote the file.
    """
    schema = _schema(kind)
    if not table.schema.equals(schema, check_metadata=False):
        table = table.select(schema.names).cast(schema)
    meta = {
        KIND_KEY: kind.encode(),
        VERSION_KEY: str(SCHEMA_VERSION).encode(),
        EXTRA_KEY: json.dumps(dict(metadata or {}), sort_keys=True, default=str).encode(),
    }
    table = table.replace_schema_metadata(meta)
    path = Path(path)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
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


def read_manifest(path: str | Path, kind: str) -> pa.Table:
    """Read a manifest file, checking its kind, schema version and columns."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ManifestError(f"{path}: unreadable Parquet file ({exc})") from None
    _check(table.schema, path, kind)
    return table.select(_schema(kind).names).cast(_schema(kind))


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The ``vireid.metadata`` JSON of a manifest (empty dict if absent)."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowInvalid, OSError) as exc:
        raise ManifestError(f"{path}: unreadable Parquet file ({exc})") from None
    raw = meta.get(EXTRA_KEY)
    return json.loads(raw) if raw else {}
