"""Which files of a folder vireid wrote: the folder's ``.vireid-owned.json``.

A run folder or a synthetic-benchmark folder may also hold the user's own files (notes,
caption manifests, other runs, an evaluation). Replacing a folder's content (``--force``)
moves or deletes only the files listed here; everything else stays where it is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from vireid.atomic import write_json

OWNED_NAME = ".vireid-owned.json"


def read_owned(folder: str | Path) -> set[str] | None:
    """The relative paths ``folder``'s manifest lists, or None when it has none (or an
    unreadable one: then nothing is known to be vireid's)."""
    try:
        data = json.loads((Path(folder) / OWNED_NAME).read_text())
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        return None
    return {f for f in files if isinstance(f, str) and _inside(f)}


def write_owned(folder: str | Path, files: Iterable[str]) -> None:
    """Record ``files`` (relative paths) as vireid's, atomically."""
    write_json(Path(folder) / OWNED_NAME, {"format": "vireid-owned", "files": sorted(set(files))})


def _inside(rel: str) -> bool:
    # A manifest is data: a listed path must not lead outside its folder.
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def files_in(folder: str | Path, *, skip: Iterable[str] = ()) -> set[str]:
    """Every file (and symlink) under ``folder`` as a relative POSIX path, minus the
    top-level names in ``skip`` (their subtrees too)."""
    root = Path(folder)
    skipped = set(skip) | {OWNED_NAME}
    found: set[str] = set()
    if not root.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in skipped]
            filenames = [f for f in filenames if f not in skipped]
        for name in [*filenames, *(d for d in dirnames if (here / d).is_symlink())]:
            found.add((here / name).relative_to(root).as_posix())
    return found


def move_files(src: str | Path, dst: str | Path, files: Iterable[str]) -> list[str]:
    """Rename each relative path from ``src`` to ``dst`` (same file system), creating parent
    folders; returns the paths moved. Missing sources are skipped."""
    moved = []
    for rel in sorted(files):
        source = Path(src) / rel
        if not (source.exists() or source.is_symlink()):
            continue
        target = Path(dst) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        moved.append(rel)
    return moved


def remove_empty_dirs(folder: str | Path, files: Iterable[str]) -> None:
    """Remove the folders that held ``files`` once they are empty (never ``folder`` itself,
    never a folder that still holds anything, such as a user's file)."""
    root = Path(folder)
    parents = {p for rel in files for p in Path(rel).parents if p != Path(".")}
    for rel in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        try:
            (root / rel).rmdir()
        except OSError:
            pass
