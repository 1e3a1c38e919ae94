"""`make reproduce` passes on what it is given and leaves the rest to vireid's own defaults."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _recipe(*args: str) -> str:
    out = subprocess.run(["make", "-n", "-C", str(ROOT), "reproduce", *args], capture_output=True, text=True,
                         check=True).stdout
    return next(line for line in out.splitlines() if " reproduce --table" in line)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_make_reproduce_leaves_the_seed_count_to_the_scale_unless_given():
    tiny = _recipe("DATASET=sysu", "ROOT=/data", "SCALE=tiny")
    assert "--seeds" not in tiny and "--shard" not in tiny  # vireid's tiny default (6), not 1
    given = _recipe("DATASET=sysu", "ROOT=/data", "SEEDS=3", "SHARD=2/4")
    assert "--seeds 3" in given and "--shard 2/4" in given
