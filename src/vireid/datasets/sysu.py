"""SYSU-MM01 reader (``cam1..cam6/<pid:04d>/<img>.jpg`` + ``exp/*_id.txt``).

Cameras 1, 2, 4, 5 are visible (RGB), 3 and 6 near-infrared. Training identities are
``train_id`` + ``val_id`` (the dataset's own val list is part of the standard training set);
test identities are ``test_id``, and all their images from all six cameras are indexed so
evaluation can draw query (cam3, cam6) and gallery (RGB cameras) from the index.
"""

from __future__ import annotations

from pathlib import Path

from vireid.datasets.layout import Entry, Scan, list_images, read_id_list

CAMERAS = (1, 2, 3, 4, 5, 6)
INFRARED_CAMERAS = (3, 6)


def modality_of(camera: int) -> str:
    return "infrared" if camera in INFRARED_CAMERAS else "visible"


def scan(root: Path, trial: int | None = None) -> Scan:
    result = Scan()
    exp = root / "exp"
    if not exp.is_dir():
        result.problem(exp, "split folder not found (expected exp/train_id.txt, val_id.txt, test_id.txt)")
    train = read_id_list(exp / "train_id.txt", result) + read_id_list(exp / "val_id.txt", result)
    test = read_id_list(exp / "test_id.txt", result)
    for pid in sorted(set(train) & set(test)):
        result.problem(exp / "test_id.txt", f"identity {pid} is also a training identity")

    cam_dirs = {}
    for cam in CAMERAS:
        folder = root / f"cam{cam}"
        if folder.is_dir():
            cam_dirs[cam] = folder
        else:
            result.problem(folder, "camera folder not found")

    for split, ids, source in (("train", train, "train_id.txt/val_id.txt"), ("test", test, "test_id.txt")):
        for pid in sorted(set(ids)):
            found = 0
            for cam, folder in cam_dirs.items():
                pid_dir = folder / f"{pid:04d}"
                if not pid_dir.is_dir():
                    continue  # not every identity passes every camera
                for rel in list_images(pid_dir, root, result):
                    result.entries.append(Entry(rel, modality_of(cam), pid, cam, split))
                    found += 1
            if not found and cam_dirs:
                result.problem(root / f"cam*/{pid:04d}",
                               f"identity {pid} (listed in exp/{source}) has no images")
    return result
