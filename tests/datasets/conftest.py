"""Builders of small on-disk dataset layouts, and copies of the shared synthetic fixtures
that a test may damage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def write_jpeg(path: Path, value: int = 128, size: tuple[int, int] = (16, 8)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), value, np.uint8)).save(path, format="JPEG")


@pytest.fixture
def sysu_copy(synth_sysu_root, tmp_path) -> Path:
    """A private copy of the shared SYSU-layout fixture, safe to damage."""
    return Path(shutil.copytree(synth_sysu_root, tmp_path / "sysu"))


@pytest.fixture
def regdb_copy(synth_regdb_root, tmp_path) -> Path:
    return Path(shutil.copytree(synth_regdb_root, tmp_path / "regdb"))


LLCM_TRAIN_IDS = (3, 7, 8, 12, 20, 31, 40, 41, 42, 50, 51, 60)  # 12 ids
LLCM_TEST_IDS = (5, 9, 33)
LLCM_VIS_TEST_CAMS = tuple(range(1, 10))
LLCM_NIR_TEST_CAMS = (1, 2, 4, 5, 6, 7, 8, 9)


def make_llcm(root: Path) -> Path:
    """An LLCM layout: 12 training ids with 2 VIS (cam1, cam2) + 1 NIR (cam4) image each;
    3 test ids with one image in each test camera (9 VIS, 8 NIR)."""
    vis_lines, nir_lines = [], []
    for label, pid in enumerate(LLCM_TRAIN_IDS):
        for cam in (1, 2):
            rel = f"train_vis/cam{cam}/{pid:04d}/{pid:04d}_c{cam:02d}_a.jpg"
            write_jpeg(root / rel)
            vis_lines.append(f"{rel} {label}")
        rel = f"train_nir/cam4/{pid:04d}/{pid:04d}_c04_a.jpg"
        write_jpeg(root / rel, 60)
        nir_lines.append(f"{rel} {label}")
    for pid in LLCM_TEST_IDS:
        for cam in LLCM_VIS_TEST_CAMS:
            write_jpeg(root / f"test_vis/cam{cam}/{pid:04d}/{pid:04d}_c{cam:02d}_x.jpg")
        for cam in LLCM_NIR_TEST_CAMS:
            write_jpeg(root / f"test_nir/cam{cam}/{pid:04d}/{pid:04d}_c{cam:02d}_x.jpg", 60)
    (root / "idx").mkdir(parents=True, exist_ok=True)
    (root / "idx" / "train_vis.txt").write_text("\n".join(vis_lines) + "\n")
    (root / "idx" / "train_nir.txt").write_text("\n".join(nir_lines) + "\n")
    (root / "idx" / "test_id.txt").write_text(",".join(map(str, LLCM_TEST_IDS)) + "\n")
    return root


@pytest.fixture
def llcm_root(tmp_path) -> Path:
    return make_llcm(tmp_path / "llcm")
