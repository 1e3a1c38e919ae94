"""LLCM reader (DEEN, CVPR 2023).

Training images come from ``idx/train_vis.txt`` and ``idx/train_nir.txt`` (path + label);
test identities from ``idx/test_id.txt``, with images under ``test_vis/cam1..9/<pid:04d>/``
and ``test_nir/cam{1,2,4..9}/<pid:04d>/`` (there is no NIR camera 3). The camera is read
from the ``camN`` folder of each path.
"""

from __future__ import annotations

from pathlib import Path

from vireid.datasets.layout import (
    Entry,
    Scan,
    camera_from_path,
    list_images,
    pid_from_path,
    read_id_list,
    read_path_label_list,
)

TEST_FOLDERS = {"visible": "test_vis", "infrared": "test_nir"}


def scan(root: Path, trial: int | None = None) -> Scan:
    result = Scan()
    idx = root / "idx"
    if not idx.is_dir():
        result.problem(idx, "split folder not found (expected idx/train_vis.txt, train_nir.txt, test_id.txt)")
    for name, modality in (("train_vis.txt", "visible"), ("train_nir.txt", "infrared")):
        for rel, label in read_path_label_list(idx / name, result):
            camera = camera_from_path(rel)
            if camera is None:
                result.problem(idx / name, f"{rel}: no camN folder in the path")
                continue
            if not (root / rel).is_file():
                result.problem(root / rel, f"listed in {name} but not found")
                continue
            pid = pid_from_path(rel)
            result.entries.append(Entry(rel, modality, label if pid is None else pid, camera, "train"))

    test = sorted(set(read_id_list(idx / "test_id.txt", result)))
    pid_dirs: dict[int, list[tuple[str, int, Path]]] = {}
    for modality, folder_name in TEST_FOLDERS.items():
        folder = root / folder_name
        if not folder.is_dir():
            result.problem(folder, "test image folder not found")
            continue
        for cam_dir in sorted(folder.glob("cam*")):
            camera = camera_from_path(cam_dir.name)
            if camera is None or not cam_dir.is_dir():
                continue
            for pid in test:
                pid_dir = cam_dir / f"{pid:04d}"
                if pid_dir.is_dir():
                    pid_dirs.setdefault(pid, []).append((modality, camera, pid_dir))
    for pid in test:
        found = 0
        for modality, camera, pid_dir in sorted(pid_dirs.get(pid, []), key=lambda t: (t[0] != "visible", t[1])):
            for rel in list_images(pid_dir, root, result):
                result.entries.append(Entry(rel, modality, pid, camera, "test"))
                found += 1
        if not found:
            result.problem(root / f"test_*/cam*/{pid:04d}",
                           f"identity {pid} (listed in idx/test_id.txt) has no images")
    return result
