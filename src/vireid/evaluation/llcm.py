"""LLCM test protocol, both directions with query and gallery sets truly swapped.

Layout: ``idx/test_id.txt`` (one line of ids), ``test_vis/cam1..9/<pid:04d>/`` and
``test_nir/cam{1,2,4..9}/<pid:04d>/``. Queries: every test image of the query modality (ids
sorted, cameras in order, files sorted). Gallery of trial ``t`` (0..9, the seed): one
``rng.choice`` per (id, camera) of the other modality, like SYSU single-shot. The public
code's VIS->IR mode transposes the IR->VIS distance matrix instead; its numbers differ.
Camera numbers are kept as on disk (the same physical camera captures both modalities),
which the LLCM rule "drop same identity and same camera" relies on.
"""

from __future__ import annotations

import random
from pathlib import Path

from vireid.errors import VireidError
from vireid.evaluation.sets import EvalSet, read_id_line, require_nonempty, require_root, sorted_images

DIRECTIONS = ("ir2vis", "vis2ir")
_FOLDERS = {"visible": ("test_vis", (1, 2, 3, 4, 5, 6, 7, 8, 9)),
            "infrared": ("test_nir", (1, 2, 4, 5, 6, 7, 8, 9))}


def _modalities(direction: str) -> tuple[str, str]:
    if direction not in DIRECTIONS:
        raise VireidError(f"LLCM direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    return ("infrared", "visible") if direction == "ir2vis" else ("visible", "infrared")


def llcm_test_ids(root: str | Path) -> list[int]:
    return read_id_line(require_root(root) / "idx" / "test_id.txt")


def llcm_query(root: str | Path, direction: str = "ir2vis") -> EvalSet:
    """All test images of the query modality (NIR for ``ir2vis``, VIS for ``vis2ir``)."""
    modality = _modalities(direction)[0]
    root = require_root(root)
    folder, cams = _FOLDERS[modality]
    rows = [(path, pid, cam)
            for pid in llcm_test_ids(root)
            for cam in cams
            for path in sorted_images(root, f"{folder}/cam{cam}/{pid:04d}")]
    require_nonempty(rows, f"LLCM {folder} query", root)
    return EvalSet.build(rows, modality)


def llcm_gallery(root: str | Path, direction: str = "ir2vis", trial: int = 0) -> EvalSet:
    """Single-shot gallery of the other modality for ``trial`` (0..9, seeds ``random.Random``)."""
    modality = _modalities(direction)[1]
    root = require_root(root)
    folder, cams = _FOLDERS[modality]
    rng = random.Random(trial)
    rows = []
    for pid in llcm_test_ids(root):
        for cam in cams:
            files = sorted_images(root, f"{folder}/cam{cam}/{pid:04d}")
            if files:
                rows.append((rng.choice(files), pid, cam))
    require_nonempty(rows, f"LLCM {folder} gallery", root)
    return EvalSet.build(rows, modality)
