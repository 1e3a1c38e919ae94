"""SYSU-MM01 test protocol: IR queries (cam3, cam6) against sampled RGB galleries.

Trial numbering follows the field's evaluation loop: trials are 0..9 and trial ``t`` seeds a
``random.Random(t)`` generator, which yields exactly the sequence of ``random.seed(t)`` in the
public code, so single-shot galleries are the published ones. Multi-shot galleries draw
``rng.sample(files, 10)`` from the same generator (reproducible per trial, unlike the public
code); a folder with fewer than 10 images contributes all of them, in sorted order.
"""

from __future__ import annotations

import random
from pathlib import Path

from vireid.errors import VireidError
from vireid.evaluation.sets import EvalSet, read_id_line, require_nonempty, require_root, sorted_images

IR_CAMERAS = (3, 6)
RGB_CAMERAS = {"all": (1, 2, 4, 5), "indoor": (1, 2)}
MULTI_SHOT = 10


def _check_mode(mode: str) -> None:
    if mode not in RGB_CAMERAS:
        raise VireidError(f"SYSU mode must be 'all' or 'indoor', got {mode!r}")


def sysu_test_ids(root: str | Path) -> list[int]:
    """Sorted test identities from ``<root>/exp/test_id.txt``."""
    return read_id_line(require_root(root) / "exp" / "test_id.txt")


def sysu_query(root: str | Path, mode: str = "all") -> EvalSet:
    """Every IR image of the test ids: ids sorted, then cam3 before cam6, files sorted.

    The query set is the same for both modes (the mode only changes the gallery cameras).
    """
    _check_mode(mode)
    root = require_root(root)
    rows = [(path, pid, cam)
            for pid in sysu_test_ids(root)
            for cam in IR_CAMERAS
            for path in sorted_images(root, f"cam{cam}/{pid:04d}")]
    require_nonempty(rows, "SYSU-MM01 query (cam3/cam6 test)", root)
    return EvalSet.build(rows, "infrared")


def sysu_gallery(root: str | Path, mode: str = "all", trial: int = 0, shots: int = 1) -> EvalSet:
    """RGB gallery of trial ``trial`` (0..9, also the seed): per test id (sorted) and RGB camera
    in order, ``rng.choice`` of the sorted files (single-shot) or ``rng.sample`` of 10
    (multi-shot). (id, camera) pairs without images are skipped without drawing.
    """
    _check_mode(mode)
    if shots not in (1, MULTI_SHOT):
        raise VireidError(f"SYSU shots must be 1 or {MULTI_SHOT}, got {shots}")
    root = require_root(root)
    rng = random.Random(trial)
    rows = []
    for pid in sysu_test_ids(root):
        for cam in RGB_CAMERAS[mode]:
            files = sorted_images(root, f"cam{cam}/{pid:04d}")
            if not files:
                continue
            if shots == 1:
                picked = [rng.choice(files)]
            elif len(files) <= MULTI_SHOT:
                picked = files
            else:
                picked = rng.sample(files, MULTI_SHOT)
            rows.extend((path, pid, cam) for path in picked)
    require_nonempty(rows, f"SYSU-MM01 {mode}-search gallery", root)
    return EvalSet.build(rows, "visible")
