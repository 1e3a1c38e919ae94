"""The custom dataset's test protocol: query and gallery exactly as the user's index splits
them, cross-modality, in every direction the index allows.

* Settings: ``ir2vis`` (infrared queries against the visible gallery rows) when the index
  has infrared queries and visible gallery rows, ``vis2ir`` likewise; both when both exist.
  Gallery rows of the query's own modality are never in its gallery (VI-ReID is cross-modal).
* Trials: the ``trial`` values of the gallery rows (a blank trial is in every trial); none
  at all gives one gallery, trial 0. ``--trials N`` keeps the first N trials.
* Order: the index's row order (queries and galleries are not sampled).
* Gallery rule: ``gallery_rule`` in the optional ``<root>/protocol.toml`` (one of
  :data:`vireid.evaluation.rules.RULE_NAMES`; default ``same-id-same-camera``, the
  Market-1501 / LLCM convention that a query is not matched to its own camera's images of
  its own identity).
"""

from __future__ import annotations

from pathlib import Path

from vireid.config import load_toml
from vireid.datasets.custom import INDEX_FILES, read_index
from vireid.errors import DatasetError
from vireid.evaluation.rules import RULE_NAMES, gallery_rule
from vireid.evaluation.sets import EvalSet, require_root
from vireid.fingerprint import hash_file

PROTOCOL_FILE = "protocol.toml"
DEFAULT_RULE = "same-id-same-camera"
DIRECTIONS = {"ir2vis": ("infrared", "visible", "IR->VIS"), "vis2ir": ("visible", "infrared", "VIS->IR")}


def custom_rule(root: str | Path) -> str:
    """The gallery rule's name from ``<root>/protocol.toml`` (default same-id-same-camera)."""
    path = require_root(root) / PROTOCOL_FILE
    if not path.is_file():
        return DEFAULT_RULE
    data = load_toml(path)
    unknown = sorted(set(data) - {"gallery_rule"})
    if unknown:
        raise DatasetError(f"{path}: unknown key(s) {', '.join(unknown)} (only gallery_rule)")
    name = data.get("gallery_rule", DEFAULT_RULE)
    if name not in RULE_NAMES:
        raise DatasetError(f"{path}: gallery_rule must be one of {', '.join(RULE_NAMES)}, got {name!r}")
    gallery_rule(name)
    return name


def _rows(root: str | Path):
    index = read_index(require_root(root))
    if index.problems:
        raise DatasetError(index.problems)
    return index.rows


def custom_directions(root: str | Path) -> list[tuple[str, str]]:
    """(key, title) of every direction the index has queries and gallery rows for."""
    rows = _rows(root)
    have = {(r.split, r.modality) for r in rows}
    found = [(key, title) for key, (q, g, title) in DIRECTIONS.items()
             if ("query", q) in have and ("gallery", g) in have]
    if not found:
        raise DatasetError(f"{root}: the index has no query modality with gallery rows of the other "
                           f"modality (cross-modality evaluation needs e.g. infrared queries and a "
                           f"visible gallery)")
    return found


def custom_trials(root: str | Path) -> list[int]:
    """The gallery trials (sorted), or [0] when no row names one."""
    return sorted({r.trial for r in _rows(root) if r.split == "gallery" and r.trial is not None}) or [0]


def custom_query(root: str | Path, direction: str = "ir2vis") -> EvalSet:
    modality = DIRECTIONS[direction][0]
    rows = [(r.path, r.pid, r.camera) for r in _rows(root) if r.split == "query" and r.modality == modality]
    return EvalSet.build(rows, modality)


def custom_gallery(root: str | Path, direction: str = "ir2vis", trial: int = 0) -> EvalSet:
    modality = DIRECTIONS[direction][1]
    rows = [(r.path, r.pid, r.camera) for r in _rows(root)
            if r.split == "gallery" and r.modality == modality and r.trial in (None, trial)]
    if not rows:
        raise DatasetError(f"{root}: gallery trial {trial} has no {modality} rows")
    return EvalSet.build(rows, modality)


def custom_protocol_files(root: str | Path) -> dict[str, str]:
    """sha256 of the files that define the protocol (index and protocol.toml): the image index
    does not tell query from gallery rows, so cached evaluations key on these too."""
    root = Path(root)
    return {name: hash_file(root / name) for name in (*INDEX_FILES, PROTOCOL_FILE) if (root / name).is_file()}
