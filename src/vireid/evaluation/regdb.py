"""RegDB test protocol: trial t (1..10) lists, both directions, no sampling.

``idx/test_visible_{t}.txt`` and ``idx/test_thermal_{t}.txt`` hold ``<root-relative path>
<label>`` per line; the label is the identity. Cameras: visible = 1, thermal = 2. RegDB is
evaluated with one model per trial: trial t's model on trial t's test lists only.
"""

from __future__ import annotations

from pathlib import Path

from vireid.errors import DatasetError, VireidError
from vireid.evaluation.sets import EvalSet, require_nonempty, require_root

TRIALS = tuple(range(1, 11))
DIRECTIONS = ("vis2ir", "ir2vis")
_FILES = {"visible": ("visible", 1), "infrared": ("thermal", 2)}


def _check(trial: int, direction: str) -> None:
    if trial not in TRIALS:
        raise VireidError(f"RegDB trial must be 1..10, got {trial}")
    if direction not in DIRECTIONS:
        raise VireidError(f"RegDB direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")


def regdb_list(root: str | Path, trial: int, modality: str) -> EvalSet:
    """The test list of one modality (``visible`` | ``infrared``) for ``trial``, in file order."""
    root = require_root(root)
    name, cam = _FILES[modality]
    path = root / "idx" / f"test_{name}_{trial}.txt"
    if not path.is_file():
        raise DatasetError(f"{path}: RegDB test list not found")
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            rows.append((Path(parts[0]).as_posix(), int(parts[1]), cam))
        except (IndexError, ValueError):
            raise DatasetError(f"{path}:{lineno}: expected '<path> <label>', got {line!r}") from None
    require_nonempty(rows, f"RegDB {name} test (trial {trial})", root)
    return EvalSet.build(rows, modality)


def regdb_query(root: str | Path, trial: int, direction: str = "vis2ir") -> EvalSet:
    """Queries: visible test images for ``vis2ir`` (visible->thermal), thermal for ``ir2vis``."""
    _check(trial, direction)
    return regdb_list(root, trial, "visible" if direction == "vis2ir" else "infrared")


def regdb_gallery(root: str | Path, trial: int, direction: str = "vis2ir") -> EvalSet:
    """Gallery: every test image of the other modality."""
    _check(trial, direction)
    return regdb_list(root, trial, "infrared" if direction == "vis2ir" else "visible")
