"""Caption results on disk: part files while running, one tidy manifest at the end.

Layout of an output folder::

    <out>/run.json                 inputs of the run + the full image list (written first)
    <out>/parts/part-*.parquet     results, appended every few batches (atomic renames)
    <out>/captions.parquet         the merged manifest (one row per image)
    <out>/captions.summary.json    statistics of the manifest and of the run that merged it

Every part is written to a temporary file and renamed, so a run killed at any instant
(SIGKILL included) leaves only whole parts; a restart skips their images. Parts are
removed once a complete manifest is written; an incomplete merge keeps them so a later run
can resume.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vireid.atomic import write_json
from vireid.errors import ManifestError
from vireid.manifests import CAPTION_SCHEMA, parts, read_manifest, read_metadata, to_table, write_manifest
from vireid.manifests.parts import PARTS_DIR

MANIFEST_NAME = "captions.parquet"
SUMMARY_NAME = "captions.summary.json"
RUN_NAME = "run.json"
KIND = "captions"


def manifest_path(out_dir: str | Path) -> Path:
    return Path(out_dir) / MANIFEST_NAME


def write_run_file(out_dir: Path, fingerprint: str, inputs: Mapping[str, Any],
                   image_ids: Sequence[str]) -> Path:
    return write_json(out_dir / RUN_NAME, {"fingerprint": fingerprint, "inputs": dict(inputs),
                                           "image_ids": list(image_ids)})


def read_run_file(out_dir: Path) -> dict[str, Any]:
    path = out_dir / RUN_NAME
    if not path.is_file():
        raise ManifestError(f"{path}: not found; {out_dir} is not a captioning output folder")
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: unreadable ({exc})") from None


class PartWriter(parts.PartWriter):
    """Caption rows, one new part file per :meth:`flush` (see :mod:`vireid.manifests.parts`)."""

    def __init__(self, out_dir: Path, fingerprint: str, tag: str):
        super().__init__(out_dir, fingerprint, tag, KIND)


def read_parts(out_dir: Path) -> list[parts.Part]:
    """All readable caption part files; a corrupt one is set aside with one warning line."""
    return parts.read_parts(out_dir, KIND, redo="captioned again")


_WARNED: set[Path] = set()


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _manifest_if_matching(out_dir: Path, fingerprint: str) -> pa.Table | None:
    path = manifest_path(out_dir)
    if not path.is_file():
        return None
    try:
        if read_metadata(path).get("fingerprint") != fingerprint:
            return None
        return read_manifest(path, KIND)
    except ManifestError as exc:
        reason = str(exc).splitlines()[0].removeprefix(f"{path}: ")
        if path in _WARNED:  # read at the start and again at the merge: say it once
            return None
        _WARNED.add(path)
        _warn(f"{path}: unreadable caption manifest ({reason}); its images are captioned again "
              f"and it is replaced")
        return None


def manifest_is_complete(out_dir: Path, fingerprint: str) -> bool:
    """True when ``captions.parquet`` is a complete result of exactly these inputs."""
    path = manifest_path(out_dir)
    try:
        meta = read_metadata(path) if path.is_file() else {}
    except ManifestError:
        return False
    return meta.get("fingerprint") == fingerprint and bool(meta.get("complete"))


def remove_stale(out_dir: Path, fingerprint: str) -> int:
    """Delete parts written for other inputs (they can never be merged with these)."""
    removed = 0
    for part in read_parts(out_dir):
        if part.fingerprint != fingerprint:
            part.path.unlink(missing_ok=True)
            removed += 1
    return removed


def done_ids(out_dir: Path, fingerprint: str) -> set[str]:
    """Images already captioned (or failed) for these inputs, in parts or the manifest."""
    done: set[str] = set()
    for part in read_parts(out_dir):
        if part.fingerprint == fingerprint:
            done.update(part.table.column("image_id").to_pylist())
    existing = _manifest_if_matching(out_dir, fingerprint)
    if existing is not None:
        done.update(existing.column("image_id").to_pylist())
    return done


def deduplicate(table: pa.Table, order: Sequence[str] | None = None) -> pa.Table:
    """One row per image_id: a caption beats an error row, then the newest row wins.

    Rows come out in ``order`` (the run's image list) when given, else by image_id.
    """
    def preference(row: Mapping[str, Any]) -> tuple[bool, Any]:
        return (row["error"] is None, row["created_at"])

    best: dict[str, dict[str, Any]] = {}
    for row in table.to_pylist():
        old = best.get(row["image_id"])
        if old is None or preference(row) > preference(old):
            best[row["image_id"]] = row
    rank = {image_id: i for i, image_id in enumerate(order)} if order is not None else None
    keys = sorted(best, key=(lambda k: (rank.get(k, len(rank)), k)) if rank else None)
    return to_table([best[k] for k in keys], KIND)


@dataclass
class MergeResult:
    path: Path
    rows: int
    expected: int
    missing: int
    parts_merged: int

    @property
    def complete(self) -> bool:
        return self.missing == 0


def merge(out_dir: str | Path, metadata: Mapping[str, Any] | None = None) -> MergeResult:
    """Fold the parts (and any earlier manifest of the same inputs) into ``captions.parquet``.

    Uses ``run.json`` for the inputs and the expected image list. When every image has a
    row the manifest is marked complete and the parts are deleted; otherwise the parts
    stay, so a later run resumes from them.
    """
    out_dir = Path(out_dir)
    run = read_run_file(out_dir)
    fingerprint = run["fingerprint"]
    expected = run["image_ids"]
    with parts.merge_lock(out_dir):
        current = [p for p in read_parts(out_dir) if p.fingerprint == fingerprint]
        tables = [p.table for p in current]
        existing = _manifest_if_matching(out_dir, fingerprint)
        if existing is not None:
            tables.append(existing)
        if not tables:
            raise ManifestError(f"{out_dir}: nothing to merge (no part files of the current "
                                f"inputs under {out_dir / PARTS_DIR})")
        merged = deduplicate(pa.concat_tables(tables), order=expected)
        wanted = pa.array(expected, pa.string())
        merged = merged.filter(pc.is_in(merged.column("image_id"), value_set=wanted))
        missing = len(expected) - merged.num_rows
        meta = {**run["inputs"], **(metadata or {}), "fingerprint": fingerprint,
                "complete": missing == 0, "missing": missing}
        path = write_manifest(merged, manifest_path(out_dir), KIND, metadata=meta)
        if missing == 0:
            for part in read_parts(out_dir):
                part.path.unlink(missing_ok=True)
            try:
                (out_dir / PARTS_DIR).rmdir()
            except OSError:
                pass  # not empty: parts of another run's inputs, left for the user
    return MergeResult(path=path, rows=merged.num_rows, expected=len(expected), missing=missing,
                       parts_merged=len(current))


__all__ = ["CAPTION_SCHEMA", "MANIFEST_NAME", "PARTS_DIR", "SUMMARY_NAME", "MergeResult",
           "PartWriter", "deduplicate", "done_ids", "manifest_is_complete", "merge",
           "read_parts", "remove_stale", "write_run_file"]
