"""Your own data: a folder with an index file that lists every image.

``<root>/index.csv`` (or ``<root>/index.parquet``), one row per image, with the columns

* ``path``: the image, relative to the root (POSIX or Windows separators);
* ``pid``: the person's integer identity;
* ``camera``: integer camera number (the same physical camera may film both modalities);
* ``modality``: ``visible`` or ``infrared``;
* ``split``: ``train``, ``query`` or ``gallery``;
* ``trial`` (optional, gallery rows only): the gallery trial the row belongs to; a blank
  trial puts the row in every trial. Without any trial there is one gallery (trial 0).

Every problem is collected with its line (CSV, the header being line 1) or row (Parquet,
1-based) and path: unknown values, missing files, duplicate paths, identities that are both
training and test identities, training identities seen in one modality only (cross-modality
training pairs every identity's visible and infrared images), and queries whose identity
has no gallery image in the other modality (nothing to find).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from vireid.datasets.images import is_image_file
from vireid.datasets.layout import Entry, Scan, leaves_root
from vireid.manifests import MODALITIES

INDEX_FILES = ("index.csv", "index.parquet")
REQUIRED_COLUMNS = ("path", "pid", "camera", "modality", "split")
SPLITS = ("train", "query", "gallery")
_MAX_CAMERA = 2**15 - 1      # the image index stores cameras as int16
_MAX_PID = 2**31 - 1


@dataclass(frozen=True)
class IndexRow:
    path: str
    pid: int
    camera: int
    modality: str
    split: str               # train | query | gallery
    trial: int | None        # gallery rows: None = every trial


@dataclass
class CustomIndex:
    file: Path | None
    rows: list[IndexRow]
    problems: list[str]
    notes: list[str]


def index_file(root: Path) -> tuple[Path | None, str | None]:
    """(the index file under ``root``, None) or (None, the problem)."""
    found = [root / name for name in INDEX_FILES if (root / name).is_file()]
    if len(found) > 1:
        return None, f"{root}: both index.csv and index.parquet found; keep one"
    if not found:
        return None, (f"{root / INDEX_FILES[0]}: index file not found (a custom dataset lists its "
                      f"images in index.csv or index.parquet: {', '.join(REQUIRED_COLUMNS)}[, trial])")
    return found[0], None


def _raw_rows(path: Path) -> tuple[list[str], list[tuple[str, dict]]]:
    """(columns, [(where, row as text values)]) of a CSV or Parquet index."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        cols = table.column_names
        data = table.to_pydict()
        return cols, [(f"row {i + 1}", {c: data[c][i] for c in cols}) for i in range(table.num_rows)]
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        reader.fieldnames = cols
        return cols, [(f"line {reader.line_num}", row) for row in reader]


def _integer(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def _parse_row(root: Path, where: str, raw: dict, problems: list[str]) -> IndexRow | None:
    text = "" if _blank(raw.get("path")) else str(raw["path"]).strip().replace("\\", "/")
    rel = text[2:] if text.startswith("./") else text
    said = f"{root / rel}" if rel else "(no path)"
    bad = []
    if not rel:
        bad.append("empty path")
    elif leaves_root(rel):
        bad.append(f"path {text!r} points outside the dataset root")
    elif not is_image_file(rel):
        bad.append("not an image file name")
    elif not (root / rel).is_file():
        bad.append("image file not found")
    pid, camera = _integer(raw.get("pid")), _integer(raw.get("camera"))
    if pid is None or not 0 <= pid <= _MAX_PID:
        bad.append(f"pid {raw.get('pid')!r} is not a non-negative integer")
    if camera is None or not 0 <= camera <= _MAX_CAMERA:
        bad.append(f"camera {raw.get('camera')!r} is not an integer in 0..{_MAX_CAMERA}")
    modality = "" if _blank(raw.get("modality")) else str(raw["modality"]).strip().lower()
    if modality not in MODALITIES:
        bad.append(f"modality {raw.get('modality')!r} is not one of {', '.join(MODALITIES)}")
    split = "" if _blank(raw.get("split")) else str(raw["split"]).strip().lower()
    if split not in SPLITS:
        bad.append(f"split {raw.get('split')!r} is not one of {', '.join(SPLITS)}")
    trial = None
    if not _blank(raw.get("trial")):
        trial = _integer(raw["trial"])
        if trial is None or trial < 0:
            bad.append(f"trial {raw['trial']!r} is not a non-negative integer")
        elif split in ("train", "query"):
            bad.append(f"trial {trial} on a {split} row (trials select gallery rows only)")
    if bad:
        problems.append(f"{where}: {said}: {'; '.join(bad)}")
        return None
    return IndexRow(rel, pid, camera, modality, split, trial)


def read_index(root: str | Path) -> CustomIndex:
    """Every valid row of ``root``'s index, and every problem found (none raised)."""
    root = Path(root)
    path, missing = index_file(root)
    if path is None:
        return CustomIndex(None, [], [missing], [])
    problems: list[str] = []
    try:
        columns, raw_rows = _raw_rows(path)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        return CustomIndex(path, [], [f"{path}: unreadable index: {exc}"], [])
    absent = [c for c in REQUIRED_COLUMNS if c not in columns]
    if absent:
        return CustomIndex(path, [], [f"{path}: missing column(s) {', '.join(absent)} "
                                      f"(has: {', '.join(columns) or 'none'})"], [])
    rows, first_seen = [], {}
    for where, raw in raw_rows:
        row = _parse_row(root, where, raw, problems)
        if row is None:
            continue
        if row.path in first_seen:
            problems.append(f"{where}: {root / row.path}: already listed on {first_seen[row.path]}")
            continue
        first_seen[row.path] = where
        rows.append(row)
    problems = [f"{path.name} {p}" for p in problems]
    if not raw_rows:
        problems.append(f"{path}: the index lists no images")
    problems.extend(_consistency(path, rows))
    return CustomIndex(path, rows, problems, _notes(rows))


def _consistency(path: Path, rows: list[IndexRow]) -> list[str]:
    """Problems between rows: identity overlaps, one-modality training ids, hopeless queries."""
    problems = []
    modalities: dict[tuple[str, int], set[str]] = defaultdict(set)
    for r in rows:
        modalities[("test" if r.split != "train" else "train", r.pid)].add(r.modality)
    train = {pid for split, pid in modalities if split == "train"}
    test = {pid for split, pid in modalities if split == "test"}
    for pid in sorted(train & test):
        problems.append(f"{path}: identity {pid} is both a train and a query/gallery identity "
                        f"(test identities must be unseen in training)")
    for pid in sorted(train):
        if len(modalities[("train", pid)]) == 1:
            only = next(iter(modalities[("train", pid)]))
            problems.append(f"{path}: training identity {pid} has {only} images only "
                            f"(cross-modality training needs both modalities)")
    gallery = {(r.pid, r.modality) for r in rows if r.split == "gallery"}
    hopeless = sorted({(r.pid, r.modality) for r in rows if r.split == "query"
                       and (r.pid, _other(r.modality)) not in gallery})
    for pid, modality in hopeless:
        problems.append(f"{path}: query identity {pid} ({modality}) has no {_other(modality)} "
                        f"gallery image: its queries have nothing to find")
    if rows and not any(r.split == "query" for r in rows):
        problems.append(f"{path}: no query rows (evaluation needs split=query and split=gallery)")
    if rows and not any(r.split == "gallery" for r in rows):
        problems.append(f"{path}: no gallery rows (evaluation needs split=query and split=gallery)")
    return problems


def _other(modality: str) -> str:
    return "visible" if modality == "infrared" else "infrared"


def _notes(rows: list[IndexRow]) -> list[str]:
    """What a user should know but need not fix: the query/gallery make-up, shared cameras."""
    notes = []
    for split in ("query", "gallery"):
        picked = [r for r in rows if r.split == split]
        per_mod = ", ".join(f"{m} {sum(r.modality == m for r in picked)}" for m in MODALITIES)
        notes.append(f"{split}: {len(picked)} images of {len({r.pid for r in picked})} identities ({per_mod})")
    q_cams = {r.camera for r in rows if r.split == "query"}
    g_cams = {r.camera for r in rows if r.split == "gallery"}
    shared = sorted(q_cams & g_cams)
    if shared:
        notes.append(f"cameras in both query and gallery: {', '.join(map(str, shared))} "
                     f"(the gallery rule in protocol.toml decides what a query sees of its own camera)")
    trials = sorted({r.trial for r in rows if r.trial is not None})
    if trials:
        notes.append(f"gallery trials: {', '.join(map(str, trials))}")
    return notes


def scan(root: Path, trial: int | None = None) -> Scan:
    """The index as dataset entries: train rows stay ``train``, query and gallery rows are
    the ``test`` split of the image index (evaluation reads the index again for its sets)."""
    index = read_index(root)
    result = Scan(problems=list(index.problems), notes=list(index.notes))
    result.entries = [Entry(r.path, r.modality, r.pid, r.camera,
                            "train" if r.split == "train" else "test") for r in index.rows]
    return result
