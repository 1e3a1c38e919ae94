"""The query / gallery lists every protocol produces, and the file-listing helpers they share.

Paths are root-relative POSIX strings (``cam3/0001/0001.jpg``), the same form as the image
index ``path`` column, so saved features and manifests join on them directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vireid.datasets.images import is_image_file
from vireid.errors import DatasetError


@dataclass(frozen=True)
class EvalSet:
    """An ordered list of test images: ``paths`` (root-relative), ``pids``, ``cams``, one modality."""

    paths: list[str]
    pids: np.ndarray
    cams: np.ndarray
    modality: str  # "visible" | "infrared"

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def build(cls, rows: list[tuple[str, int, int]], modality: str) -> EvalSet:
        paths = [r[0] for r in rows]
        pids = np.array([r[1] for r in rows], dtype=np.int64)
        cams = np.array([r[2] for r in rows], dtype=np.int64)
        return cls(paths=paths, pids=pids, cams=cams, modality=modality)


def sorted_images(root: Path, folder: str) -> list[str]:
    """Root-relative paths of the image files in ``root/folder``, sorted by name.

    A missing folder or one without images gives ``[]``: the field's evaluators skip such
    (identity, camera) pairs. Non-image files (``Thumbs.db``, ``.DS_Store``) are ignored.
    """
    try:
        # scandir reads the file type from the directory entry: no stat per image, which
        # matters when 40 galleries are listed from ~400 SYSU folders.
        with os.scandir(root / folder) as entries:
            names = sorted(e.name for e in entries if is_image_file(e.name) and e.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [f"{folder}/{name}" for name in names]


def read_id_line(path: Path) -> list[int]:
    """Identities of an id file (SYSU ``exp/test_id.txt``, LLCM ``idx/test_id.txt``), sorted.

    The files hold one line of comma-separated integers; whitespace separators are accepted too.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: identity list not found")
    text = path.read_text().replace(",", " ").split()
    try:
        ids = sorted({int(tok) for tok in text})
    except ValueError:
        raise DatasetError(f"{path}: expected comma-separated integer identities") from None
    if not ids:
        raise DatasetError(f"{path}: identity list is empty")
    return ids


def require_root(root: str | Path) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset root not found")
    return root


def require_nonempty(rows: list, what: str, root: Path) -> None:
    if not rows:
        raise DatasetError(f"{root}: no {what} images found (check the dataset layout)")
