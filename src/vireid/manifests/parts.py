"""Part files: a long job's results appended as whole Parquet files, merged at the end.

A job (captioning, embedding) writes each few batches of rows as one new part file under
``<out>/parts/`` through :func:`~vireid.manifests.io.write_manifest` (temp file + rename),
tagged with the fingerprint of its inputs. A run killed at any instant (SIGKILL included)
leaves only whole parts; a restart reads them (:func:`read_parts`) and skips their rows.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vireid.errors import ManifestError
from vireid.manifests.io import read_manifest, read_metadata, to_table, write_manifest

PARTS_DIR = "parts"


class PartWriter:
    """Collects rows of manifest ``kind`` and writes them as one new part file per :meth:`flush`."""

    def __init__(self, out_dir: Path, fingerprint: str, tag: str, kind: str):
        self.dir = Path(out_dir) / PARTS_DIR
        self.fingerprint, self.tag, self.kind = fingerprint, tag, kind
        self.rows: list[dict[str, Any]] = []
        self.written = 0

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.rows.extend(rows)

    def flush(self) -> Path | None:
        if not self.rows:
            return None
        # Nanosecond time + pid: unique across restarts and concurrent shards.
        name = f"part-{self.tag}-{time.time_ns()}-{os.getpid()}.parquet"
        path = write_manifest(to_table(self.rows, self.kind), self.dir / name, self.kind,
                              metadata={"fingerprint": self.fingerprint})
        self.written += len(self.rows)
        self.rows = []
        return path


@dataclass
class Part:
    path: Path
    fingerprint: str | None
    table: pa.Table


def read_parts(out_dir: Path, kind: str, redo: str = "redone") -> list[Part]:
    """All readable part files of ``kind``. An unreadable one is reported (one warning line
    naming it) and moved aside to ``*.corrupt``, so its rows are ``redo``-ne again and it is
    reported only once."""
    parts = []
    for path in sorted((Path(out_dir) / PARTS_DIR).glob("part-*.parquet")):
        try:
            table = read_manifest(path, kind)
            fingerprint = read_metadata(path).get("fingerprint")
        except ManifestError as exc:
            _set_aside(path, exc, kind, redo)
            continue
        parts.append(Part(path, fingerprint, table))
    return parts


def _set_aside(path: Path, exc: ManifestError, kind: str, redo: str) -> None:
    try:
        rows = f"its {pq.ParquetFile(path).metadata.num_rows} row(s)"
    except Exception:  # the footer itself is damaged: the row count is lost with it
        rows = "its rows"
    aside = path.with_name(path.name + ".corrupt")
    os.replace(path, aside)
    reason = str(exc).splitlines()[0].removeprefix(f"{path}: ")
    noun = {"captions": "caption"}.get(kind, kind)
    print(f"warning: corrupt {noun} part file {path} ({reason}); moved to {aside.name}, "
          f"{rows} will be {redo}", file=sys.stderr)


@contextmanager
def merge_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.merge.lock``: several shards may finish at once; one merges at a time,
    the next sees no parts left."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".merge.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
