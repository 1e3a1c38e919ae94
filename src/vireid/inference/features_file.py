"""Reading ``vireid embed`` output for search: the feature matrix and what each row is.

Rows with an ``error`` (unreadable images) have no feature and are left out, counted in
:attr:`Embeddings.skipped`. Two files can be searched against each other only when their
features come from the same checkpoint (sha256) with the same feature options and
dimension: anything else ranks meaningless dot products, so it is refused in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from vireid.errors import VireidError
from vireid.manifests import read_manifest, read_metadata

KIND = "embeddings"


@dataclass
class Embeddings:
    path: Path
    paths: list[str]
    modalities: list[str]
    pids: np.ndarray           # int64, -1 where the input named no identity
    feats: np.ndarray          # float32 [N, D], unit rows
    meta: dict[str, Any]
    skipped: int               # error rows left out

    @property
    def dim(self) -> int:
        return int(self.feats.shape[1])

    @property
    def root(self) -> Path | None:
        return Path(self.meta["root"]) if self.meta.get("root") else None


def read_embeddings(path: str | Path) -> Embeddings:
    """The embedded rows of a ``vireid embed`` file (errors skipped); problems name the file."""
    path = Path(path)
    table = read_manifest(path, KIND)
    meta = read_metadata(path)
    if not meta.get("complete", False):
        raise VireidError(f"{path}: an incomplete embedding file (some shards have not finished)")
    table = table.filter(pc.is_null(table.column("error")))
    skipped = int(meta.get("images", table.num_rows)) - table.num_rows
    if table.num_rows == 0:
        raise VireidError(f"{path}: no embedded image (every row has an error)")
    column = table.column("feature").combine_chunks()
    lengths = pc.list_value_length(column).unique().to_pylist()
    if len(lengths) != 1:
        raise VireidError(f"{path}: rows of different feature dimensions {sorted(lengths)}")
    feats = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(table.num_rows, lengths[0])
    pids = np.asarray([-1 if p is None else p for p in table.column("pid").to_pylist()], dtype=np.int64)
    return Embeddings(path, table.column("path").to_pylist(), table.column("modality").to_pylist(), pids,
                      feats, meta, skipped)


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
