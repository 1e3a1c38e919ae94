"""RegDB reader (``Visible/<pid>/``, ``Thermal/<pid>/`` + ``idx/*_{t}.txt``, t = 1..10).

Each trial is its own dataset: one model per trial. The idx files relabel identities per
file (0..N-1), so the identity comes from the numeric person folder of the path when there
is one (the real layout), else from the file's label.
"""

from __future__ import annotations

from pathlib import Path

from vireid.datasets.images import is_image_file
from vireid.datasets.layout import Entry, Scan, pid_from_path, read_path_label_list
from vireid.errors import DatasetError

TRIALS = tuple(range(1, 11))
# RegDB's visible and thermal images come from one dual camera; numbering them 1 and 2
# keeps "camera" meaningful for the other stages.
CAMERAS = {"visible": 1, "thermal": 2}


def check_trial(trial: int | None) -> int:
    if trial is None:
        raise DatasetError("regdb: a trial is required (--trial 1..10); each trial is trained and tested separately")
    if trial not in TRIALS:
        raise DatasetError(f"regdb: trial must be 1..10, got {trial}")
    return trial


def scan(root: Path, trial: int | None = None) -> Scan:
    trial = check_trial(trial)
    result = Scan()
    idx = root / "idx"
    if not idx.is_dir():
        result.problem(idx, "split folder not found (expected idx/train_visible_1.txt ...)")
    for folder in ("Visible", "Thermal"):
        if not (root / folder).is_dir():
            result.problem(root / folder, "image folder not found")
    for split in ("train", "test"):
        for kind, camera in CAMERAS.items():
            list_file = idx / f"{split}_{kind}_{trial}.txt"
            modality = "visible" if kind == "visible" else "infrared"
            for rel, label in read_path_label_list(list_file, result):
                if not (root / rel).is_file():
                    result.problem(root / rel, f"listed in {list_file.name} but not found")
                    continue
                pid = pid_from_path(rel)
                result.entries.append(Entry(rel, modality, label if pid is None else pid, camera, split))
    _check_stray_files(root, result)
    return result


def _check_stray_files(root: Path, result: Scan) -> None:
    # The idx files select images, so nothing else walks the person folders: look for
    # stray files here so `data check` can report them.
    for folder in ("Visible", "Thermal"):
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".") and not is_image_file(path):
                result.strays.append(f"{path}: not an image file in an image folder")
