"""Search output: one Parquet row per (query, rank), and the contact sheet.

Columns: ``query`` (query path), ``query_pid``, ``rank`` (1-based), ``gallery`` (gallery
path), ``gallery_pid``, ``score`` (cosine similarity), ``match`` (same identity; null when
either identity is unknown). The file's ``vireid.metadata`` records the inputs, their
checkpoint sha256 and feature options, the search method and its parameters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vireid.atomic import atomic_path
from vireid.evaluation.report import Tile, draw_ranked_rows
from vireid.inference.features_file import Embeddings
from vireid.inference.search import SearchResult

RANKED_SCHEMA = pa.schema([
    pa.field("query", pa.string(), nullable=False),
    pa.field("query_pid", pa.int32(), nullable=True),
    pa.field("rank", pa.int16(), nullable=False),
    pa.field("gallery", pa.string(), nullable=False),
    pa.field("gallery_pid", pa.int32(), nullable=True),
    pa.field("score", pa.float32(), nullable=False),
    pa.field("match", pa.bool_(), nullable=True),
])


def _pid_array(pids: np.ndarray) -> pa.Array:
    return pa.array(pids, type=pa.int32(), mask=pids < 0)


def ranked_table(queries: Embeddings, gallery: Embeddings, result: SearchResult) -> pa.Table:
    q, k = result.index.shape
    q_rows = np.repeat(np.arange(q), k)
    g_rows = result.index.reshape(-1)
    valid = g_rows >= 0          # FAISS pads with -1 when a probe finds fewer than k
    q_rows, g_rows = q_rows[valid], g_rows[valid]
    q_pid, g_pid = queries.pids[q_rows], gallery.pids[g_rows]
    known = (q_pid >= 0) & (g_pid >= 0)
    return pa.table({
        "query": queries.paths.take(pa.array(q_rows)),
        "query_pid": _pid_array(q_pid),
        "rank": pa.array(np.tile(np.arange(1, k + 1), q)[valid], pa.int16()),
        "gallery": gallery.paths.take(pa.array(g_rows)),
        "gallery_pid": _pid_array(g_pid),
        "score": pa.array(result.scores.reshape(-1)[valid], pa.float32()),
        "match": pa.array(q_pid == g_pid, pa.bool_(), mask=~known),
    }, schema=RANKED_SCHEMA)


def write_ranked(path: Path, table: pa.Table, metadata: dict[str, Any]) -> Path:
    table = table.replace_schema_metadata({b"vireid.kind": b"ranked-lists",
                                           b"vireid.metadata": json.dumps(metadata, default=str).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def _resolve(root: Path | None, rel: str) -> Path:
    path = Path(rel)
    return path if path.is_absolute() or root is None else root / path


def draw_sheet(path: Path, queries: Embeddings, gallery: Embeddings, result: SearchResult,
               num_queries: int = 8) -> Path:
    """Contact sheet: ``num_queries`` queries evenly spaced over the query file (reproducible),
    each with its top-k; green / red frames where both identities are known."""
    picks = np.unique(np.linspace(0, len(queries.paths) - 1, num=min(num_queries, len(queries.paths)))
                      .round().astype(int))
    rows = []
    for qi in picks:
        q_pid = int(queries.pids[qi])
        tiles = []
        for gi, score in zip(result.index[qi], result.scores[qi]):
            if gi < 0:
                continue
            g_pid = int(gallery.pids[gi])
            match = None if q_pid < 0 or g_pid < 0 else q_pid == g_pid
            label = f"{g_pid}: {score:.3f}" if g_pid >= 0 else f"{score:.3f}"
            tiles.append(Tile(_resolve(gallery.root, gallery.paths[gi].as_py()), label, match))
        caption = f"query {q_pid}" if q_pid >= 0 else "query"
        rows.append((Tile(_resolve(queries.root, queries.paths[qi].as_py()), caption), tiles))
    return draw_ranked_rows(rows, path, result.index.shape[1])
