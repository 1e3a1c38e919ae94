"""Refactors preserve behaviour: every tiny preset's seeded short run gives the stored numbers.

The stored file was recorded before the method-registry refactor (``python -m
tests.golden.runs``); a change that is meant to alter these numbers re-records it in the
same commit and says why.
"""

import json
import math

import pytest

from tests.golden.runs import GOLDEN_FILE, PRESETS, make_benchmark, run_preset

pytestmark = pytest.mark.slow
GOLDEN = json.loads(GOLDEN_FILE.read_text())


@pytest.fixture(scope="module")
def golden_benchmark(tmp_path_factory):
    return make_benchmark(tmp_path_factory.mktemp("golden_synth"))


def _close(a: float, b: float) -> bool:
    # Identical on the recording machine; a hair of slack for other CPUs' float kernels.
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-7)


@pytest.mark.parametrize("preset", PRESETS)
def test_seeded_run_matches_the_recorded_numbers(preset, golden_benchmark, tmp_path):
    got = run_preset(preset, golden_benchmark, tmp_path / "cache", tmp_path)
    want = GOLDEN[preset]
    assert len(got["steps"]) == len(want["steps"])
    for step, (g, w) in enumerate(zip(got["steps"], want["steps"])):
        assert set(g) == set(w), f"step {step}: loss terms {sorted(g)} != {sorted(w)}"
        bad = {k: (g[k], w[k]) for k in w if not _close(g[k], w[k])}
        assert not bad, f"step {step}: {bad}"
    for section in ("val", "eval_all_single"):
        bad = {k: (got[section][k], v) for k, v in want[section].items() if not _close(got[section][k], v)}
        assert not bad, f"{section}: {bad}"
