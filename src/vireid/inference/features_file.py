"""Reading ``vireid embed`` output for search: the feature matrix and what each row is.

Rows with an ``error`` (unreadable images) have no feature and are left out, counted in
:attr:`Embeddings.skipped`. Two files can be searched against each other only when their
features come from the same checkpoint (sha256) with the same feature options and
dimension: anything else ranks meaningless dot products, so it is refused in one line.

A gallery too large for memory is read with ``features=False`` (paths, identities and
metadata only) and its features streamed from disk in blocks (:func:`feature_blocks`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vireid.errors import VireidError
from vireid.manifests import iter_column, read_manifest, read_metadata

KIND = "embeddings"
_LABELS = ("path", "modality", "pid", "error")  # every column but the features


@dataclass
class Embeddings:
    path: Path
    paths: pa.StringArray      # as listed; Arrow strings, not a million Python objects
    modalities: pa.StringArray
    pids: np.ndarray           # int64, -1 where the input named no identity
    feats: np.ndarray | None   # float32 [N, D], unit rows; None when read without features
    meta: dict[str, Any]
    skipped: int               # error rows left out
    dim: int
    file_rows: np.ndarray      # int64 [N]: the file row of each kept row

    @property
    def root(self) -> Path | None:
        return Path(self.meta["root"]) if self.meta.get("root") else None


def _dims(path: Path, column: pa.ChunkedArray | pa.Array) -> int:
    if column.null_count:
        raise VireidError(f"{path}: {column.null_count} row(s) have neither a feature nor an error")
    lengths = pc.list_value_length(column).unique().to_pylist()
    if len(lengths) != 1:
        raise VireidError(f"{path}: rows of different feature dimensions {sorted(lengths)}")
    return int(lengths[0])


def read_embeddings(path: str | Path, *, features: bool = True) -> Embeddings:
    """The embedded rows of a ``vireid embed`` file (errors skipped); problems name the file.

    ``features=False`` reads everything but the features (for :func:`feature_blocks`); the
    dimension is then the one the file's metadata records."""
    path = Path(path)
    table = read_manifest(path, KIND, columns=None if features else _LABELS)
    meta = read_metadata(path)
    if not meta.get("complete", False):
        raise VireidError(f"{path}: an incomplete embedding file (some shards have not finished)")
    kept = pc.is_null(table.column("error"))
    file_rows = np.flatnonzero(kept.to_numpy(zero_copy_only=False)).astype(np.int64)
    table = table.filter(kept)
    skipped = int(meta.get("images", table.num_rows)) - table.num_rows
    if table.num_rows == 0:
        raise VireidError(f"{path}: no embedded image (every row has an error)")
    feats = None
    if features:
        column = table.column("feature").combine_chunks()
        dim = _dims(path, column)
        feats = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(table.num_rows, dim)
    elif isinstance(meta.get("dim"), int) and meta["dim"] > 0:
        dim = meta["dim"]
    else:
        raise VireidError(f"{path}: its metadata records no feature dimension; re-create it with vireid embed")
    pids = pc.fill_null(table.column("pid"), -1).to_numpy().astype(np.int64)
    return Embeddings(path, table.column("path").combine_chunks(), table.column("modality").combine_chunks(), pids,
                      feats, meta, skipped, dim, file_rows)


def feature_blocks(embeddings: Embeddings, rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(first, block)``: the kept rows' features in order, float32 ``[<= rows, D]``, read
    from the file as it goes (``block`` is row ``first`` onwards of the kept rows); memory
    holds one block whatever the file's size."""
    path, dim = embeddings.path, embeddings.dim
    kept = np.zeros(int(embeddings.file_rows[-1]) + 1, dtype=bool)
    kept[embeddings.file_rows] = True
    file_row = first = 0
    for column in iter_column(path, "feature", rows):
        n = len(column)
        mask = np.zeros(n, dtype=bool)
        part = kept[file_row:file_row + n]    # error rows after the last kept row are not in kept
        mask[:len(part)] = part
        file_row += n
        if not mask.any():
            continue
        column = column.filter(pa.array(mask)) if not mask.all() else column
        if _dims(path, column) != dim:
            raise VireidError(f"{path}: rows {first}.. hold {_dims(path, column)}-d features, the file records {dim}-d")
        block = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(len(column), dim)
        yield first, block
        first += len(block)
    if first != len(embeddings.file_rows):
        raise VireidError(f"{path}: changed while it was read ({first} of {len(embeddings.file_rows)} feature rows)")


def check_comparable(queries: Embeddings, gallery: Embeddings) -> None:
    """One line when the two files' features cannot be ranked against each other."""
    if queries.dim != gallery.dim:
        raise VireidError(f"{queries.path} has {queries.dim}-d features but {gallery.path} has "
                          f"{gallery.dim}-d: embed both with the same checkpoint and options")
    q_ck, g_ck = queries.meta.get("checkpoint_sha256"), gallery.meta.get("checkpoint_sha256")
    if q_ck != g_ck:
        raise VireidError(f"{queries.path} and {gallery.path} come from different checkpoints "
                          f"(sha256 {str(q_ck)[:12]} vs {str(g_ck)[:12]}): their features are not comparable")
    q_opt, g_opt = queries.meta.get("feature_options"), gallery.meta.get("feature_options")
    if q_opt != g_opt:
        raise VireidError(f"{queries.path} and {gallery.path} were embedded with different feature "
                          f"options ({q_opt} vs {g_opt})")
