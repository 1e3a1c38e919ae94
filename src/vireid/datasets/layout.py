"""What every dataset reader produces, and the file-format helpers they share.

A reader *scans* a dataset root: it lists the images the dataset's split files select and
collects every layout problem it meets (each message names its path) instead of stopping
at the first. ``build_index`` refuses a scan with problems; ``check_dataset`` reports them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from vireid.datasets.images import is_image_file


@dataclass(frozen=True)
class Entry:
    """One image as the dataset's own files define it (before our val hold-out)."""

    path: str  # POSIX, relative to the root
    modality: str  # visible | infrared
    pid: int
    camera: int
    split: str  # train | test, as the dataset's files say


@dataclass
class Scan:
    entries: list[Entry] = field(default_factory=list)
    # Layout problems: missing folders or files, unparseable lines, ids without images.
    problems: list[str] = field(default_factory=list)
    # Non-image files inside image folders: harmless for indexing, reported by `data check`.
    strays: list[str] = field(default_factory=list)
    # Facts worth printing that need no fixing (a custom index's query/gallery make-up).
    notes: list[str] = field(default_factory=list)

    def problem(self, path: Path | str, what: str) -> None:
        self.problems.append(f"{path}: {what}")


def read_id_list(path: Path, scan: Scan) -> list[int]:
    """Identities from a SYSU/LLCM id file: integers separated by commas (and/or spaces)."""
    if not path.is_file():
        scan.problem(path, "id file not found")
        return []
    text = path.read_text(errors="replace")
    ids: list[int] = []
    bad = False
    for lineno, line in enumerate(text.splitlines(), 1):
        for token in re.split(r"[,\s]+", line.strip()):
            if not token:
                continue
            try:
                ids.append(int(token))
            except ValueError:
                bad = True
                scan.problem(path, f"line {lineno}: {token!r} is not an integer identity")
    if not ids and not bad:
        scan.problem(path, "id file is empty")
    return ids


def read_path_label_list(path: Path, scan: Scan) -> list[tuple[str, int]]:
    """``<relative path> <int label>`` lines (RegDB idx files, LLCM train lists)."""
    if not path.is_file():
        scan.problem(path, "list file not found")
        return []
    pairs: list[tuple[str, int]] = []
    bad = False
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError
            rel = parts[0].replace("\\", "/")
            rel = rel[2:] if rel.startswith("./") else rel
            label = int(parts[1])
        except ValueError:
            bad = True
            scan.problem(path, f"line {lineno}: expected '<image path> <integer label>', got {line.strip()!r}")
            continue
        if leaves_root(rel):
            bad = True
            scan.problem(path, f"line {lineno}: {parts[0]!r} points outside the dataset root")
            continue
        pairs.append((rel, label))
    if not pairs and not bad:
        scan.problem(path, "list file is empty")
    return pairs


def leaves_root(relpath: str) -> bool:
    """True for an absolute path or one whose ``..`` parts climb above the root.

    List files are data, not code: ``../../etc/passwd`` must not make us read (or later
    caption and cache) files outside the dataset.
    """
    if relpath.startswith("/") or re.match(r"^[A-Za-z]:", relpath):
        return True
    normal = posixpath.normpath(relpath)
    return normal == ".." or normal.startswith("../")


def list_images(folder: Path, root: Path, scan: Scan) -> list[str]:
    """Sorted relative paths of the image files in ``folder``; other files become strays."""
    paths = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue  # hidden files (.DS_Store and the like) are not dataset content
        if child.is_file() and is_image_file(child):
            paths.append(child.relative_to(root).as_posix())
        elif child.is_file():
            scan.strays.append(f"{child}: not an image file in an image folder")
    return paths


def pid_from_path(relpath: str) -> int | None:
    """The identity folder of a path (the last all-digit folder), or None."""
    for part in reversed(relpath.split("/")[:-1]):
        if part.isdigit():
            return int(part)
    return None


def camera_from_path(relpath: str) -> int | None:
    for part in relpath.split("/"):
        match = re.fullmatch(r"cam(\d+)", part)
        if match:
            return int(match.group(1))
    return None
