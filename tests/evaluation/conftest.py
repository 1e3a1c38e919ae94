"""Tiny dataset layouts for the protocol tests: real (4x8 px) JPEGs so the report code can
draw them, but only a few hundred, so building them takes well under a second."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _write(root: Path, rel: str, value: int) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 4, 3), value % 256, dtype=np.uint8)).save(path)


# SYSU: 5 test ids (plus train ids on disk that must be ignored). Id 7 has no cam5 folder,
# id 9 an empty cam4 folder; cam1 folders hold 12 images (> 10, so multi-shot samples).
SYSU_TEST_IDS = (3, 5, 7, 9, 12)
SYSU_COUNTS = {1: 12, 2: 4, 3: 3, 4: 2, 5: 11, 6: 2}


@pytest.fixture(scope="session")
def tiny_sysu_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sysu")
    (root / "exp").mkdir()
    (root / "exp" / "test_id.txt").write_text("12,3,5,7,9\n")   # unsorted on purpose
    (root / "exp" / "train_id.txt").write_text("1,2\n")
    for pid in (1, 2) + SYSU_TEST_IDS:
        for cam, count in SYSU_COUNTS.items():
            folder = f"cam{cam}/{pid:04d}"
            if (pid, cam) == (7, 5):
                continue
            (root / folder).mkdir(parents=True, exist_ok=True)
            if (pid, cam) == (9, 4):
                continue
            for k in range(1, count + 1):
                _write(root, f"{folder}/{k:04d}.jpg", pid * 10 + cam)
    (root / "cam3" / "0003" / "Thumbs.db").write_text("not an image")
    return root


REGDB_IDS = (0, 1, 2, 3)


@pytest.fixture(scope="session")
def tiny_regdb_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("regdb")
    (root / "idx").mkdir()
    for trial in range(1, 11):
        for name, folder in (("visible", "Visible"), ("thermal", "Thermal")):
            lines = []
            for pid in REGDB_IDS:
                for k in range(3):
                    rel = f"{folder}/{pid}/{name}_{pid}_{k}.bmp"
                    if trial == 1:
                        _write(root, rel, pid * 40 + k)
                    lines.append(f"{rel} {pid}")
            (root / "idx" / f"test_{name}_{trial}.txt").write_text("\n".join(lines) + "\n")
    return root


LLCM_TEST_IDS = (2, 4, 8)


@pytest.fixture(scope="session")
def tiny_llcm_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("llcm")
    (root / "idx").mkdir()
    (root / "idx" / "test_id.txt").write_text(",".join(map(str, LLCM_TEST_IDS)) + "\n")
    for pid in LLCM_TEST_IDS:
        for cam in (1, 2, 3, 5):
            for k in range(3):
                _write(root, f"test_vis/cam{cam}/{pid:04d}/v{cam}_{k}.jpg", pid * 9 + cam)
        for cam in (1, 2, 4):
            for k in range(2):
                _write(root, f"test_nir/cam{cam}/{pid:04d}/n{cam}_{k}.jpg", pid * 7 + cam)
    return root
