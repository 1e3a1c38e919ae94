"""Saved test features: one ``.npz`` file per evaluation, looked up by image path.

Format (``numpy.savez``, no pickled objects, so loading never runs code):

* ``paths``       str [N]      root-relative POSIX paths (the image index ``path`` column)
* ``modalities``  str [N]      ``visible`` | ``infrared``
* ``features``    float32 [N, D], L2-normalised rows
* ``meta``        str []       JSON: ``format`` ("vireid-features"), ``version`` (1), ``dataset``,
                               ``feature`` kind, ``flip``, ``checkpoint``, ``checkpoint_sha256``, ...

It holds every test image of the dataset that any setting/trial needs (both modalities).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vireid.atomic import atomic_path
from vireid.evaluation.errors import EvaluationError

FORMAT = "vireid-features"
VERSION = 1
_MAX_LISTED = 10


@dataclass
class FeatureTable:
    """Features keyed by path; ``lookup`` returns rows in the order asked for."""

    paths: list[str]
    features: np.ndarray
    modalities: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.paths) != len(self.features) or len(self.paths) != len(self.modalities):
            raise EvaluationError(f"feature table has {len(self.paths)} paths, {len(self.features)} "
                                  f"feature rows and {len(self.modalities)} modalities")
        self._row = {p: i for i, p in enumerate(self.paths)}

    def lookup(self, paths: Sequence[str], source: str = "the feature table") -> np.ndarray:
        missing = [p for p in paths if p not in self._row]
        if missing:
            shown = "\n".join(f"  {p}" for p in missing[:_MAX_LISTED])
            more = f"\n  ... and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
            raise EvaluationError(f"{source}: no features for {len(missing)} protocol image(s) "
                                  f"(was it saved for another dataset or root?):\n{shown}{more}")
        return self.features[[self._row[p] for p in paths]]


def save_features(path: str | Path, table: FeatureTable) -> Path:
    meta = {"format": FORMAT, "version": VERSION, **table.meta}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, paths=np.array(table.paths, dtype=str),
                     modalities=np.array(table.modalities, dtype=str),
                     features=np.asarray(table.features, dtype=np.float32),
                     meta=np.array(json.dumps(meta)))
    return Path(path)


def load_features(path: str | Path) -> FeatureTable:
    path = Path(path)
    if not path.is_file():
        raise EvaluationError(f"{path}: features file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"paths", "modalities", "features", "meta"} - set(data.files)
            if missing:
                raise EvaluationError(f"{path}: not a vireid features file (missing {', '.join(sorted(missing))})")
            meta = json.loads(str(data["meta"]))
            if not isinstance(meta, dict):
                raise EvaluationError(f"{path}: not a vireid features file (meta is a JSON "
                                      f"{type(meta).__name__}, not an object)")
            table = FeatureTable(paths=data["paths"].tolist(), features=data["features"],
                                 modalities=data["modalities"].tolist(), meta=meta)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        # EOFError: an empty file (click would turn it into a bare "Aborted!")
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise EvaluationError(f"{path}: unreadable features file ({first or type(exc).__name__})") from None
    if meta.get("format") != FORMAT:
        raise EvaluationError(f"{path}: not a vireid features file (format {meta.get('format')!r})")
    feats = table.features
    if feats.ndim != 2:
        raise EvaluationError(f"{path}: features must be a 2-D array, got shape {feats.shape}")
    if feats.dtype.kind not in "fiu":
        raise EvaluationError(f"{path}: features must be real numbers, got dtype {feats.dtype}")
    if feats.shape[0] and feats.shape[1] == 0:
        raise EvaluationError(f"{path}: features have 0 dimensions")
    if not np.isfinite(feats).all():
        bad = int((~np.isfinite(feats)).any(axis=1).sum())
        raise EvaluationError(f"{path}: {bad} feature row(s) hold NaN or inf (e.g. {table.paths[int(np.flatnonzero((~np.isfinite(feats)).any(axis=1))[0])]})")
    zero = np.flatnonzero(~feats.any(axis=1))
    if len(zero):
        raise EvaluationError(f"{path}: {len(zero)} of {len(feats)} feature row(s) are all zero "
                              f"(e.g. {table.paths[int(zero[0])]}); saved features are L2-normalised")
    return table
