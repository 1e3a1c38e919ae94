"""Embedding files of synthetic features for the search tests (no model needed)."""

from __future__ import annotations

import numpy as np

from vireid.manifests import to_table, write_manifest_parts


def clustered(rng: np.random.Generator, n: int, d: int, clusters: int, noise: float = 0.5) -> np.ndarray:
    """``n`` unit rows, each a random unit centre plus ``noise`` times a random unit vector."""
    centres = rng.standard_normal((clusters, d)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = rng.standard_normal((n, d)).astype(np.float32)
    x = centres[rng.integers(clusters, size=n)] + noise * x / np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def write_gallery(path, feats: np.ndarray, *, errors=(), row_group_rows: int = 100, meta: dict | None = None,
                  prefix: str = "g"):
    """An embedding file of ``feats`` (rows listed in ``errors`` stored as unreadable images),
    written in pieces of 250 rows and row groups of ``row_group_rows``."""
    rows = [{"image_id": f"{prefix}{i:05d}.jpg", "path": f"{prefix}{i:05d}.jpg", "modality": "visible",
             "pid": i % 7, "camera": None, "feature": None if i in errors else f.tolist(),
             "error": "unreadable" if i in errors else None} for i, f in enumerate(feats)]
    pieces = [to_table(rows[i:i + 250], "embeddings") for i in range(0, len(rows), 250)]
    meta = {"complete": True, "dim": feats.shape[1], "images": len(rows), "checkpoint_sha256": "c" * 64,
            **(meta or {})}
    return write_manifest_parts(pieces, path, "embeddings", meta, row_group_rows=row_group_rows)
