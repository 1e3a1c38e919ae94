"""Refactors preserve behaviour: every tiny preset's seeded short run gives the stored numbers.

What is compared, and how closely:

- every step's loss terms (continuous) within ``LOSS_REL_TOL``;
- rank metrics (R1/mAP/mINP averaged over queries, discrete in steps of 1/Q) within one
  query's worth, 1/Q: a last-bit change in any float kernel may legitimately flip one
  query's rank on a 24-identity gallery, a real regression moves the loss terms first.

The stored file records the versions it was made with. When the numbers differ AND those
versions differ from this machine's, the cause cannot be told apart from a dependency's
kernels, so the test skips and names the re-record command (``python -m tests.golden.runs``
or ``make golden``); under the recorded versions a difference fails. A change meant to
alter these numbers re-records the file in the same commit and says why.
"""

import json
import math

import pytest

from tests.golden.runs import GOLDEN_FILE, PRESETS, environment, make_benchmark, run_preset

pytestmark = pytest.mark.slow
GOLDEN = json.loads(GOLDEN_FILE.read_text())

# Measured with `python -m tests.golden.runs --spread` (2 shared CPU cores, torch 2.14.1): the
# largest relative difference of any loss term of any step between 1 and 2 intra-op threads
# is 2.0e-6 (reduction order); the file recorded under torch 2.15.0 matched torch 2.14.1's
# loss terms exactly. 2e-5 is 10x the measured spread. A 1% change of the smallest loss weight
# (EEES kd, 0.08 -> 0.0808) moved tiny-eees' step-0 total by 2.7e-5 and later steps' terms by up
# to 1.3e-3 relative: the test fails on it (measured, then reverted).
LOSS_REL_TOL = 2e-5
LOSS_ABS_TOL = 1e-7  # terms near zero (cmsp ~1e-3)


def _loss_close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=LOSS_REL_TOL, abs_tol=LOSS_ABS_TOL)


def _differences(got: dict, want: dict) -> list[str]:
    found = []
    assert len(got["steps"]) == len(want["steps"]), "number of training steps changed"
    for step, (g, w) in enumerate(zip(got["steps"], want["steps"])):
        assert set(g) == set(w), f"step {step}: loss terms {sorted(g)} != {sorted(w)}"
        found += [f"step {step} {k}: {g[k]!r} != {w[k]!r}" for k in w if not _loss_close(g[k], w[k])]
    for section, num_query in (("val", want["val"]["val/num_query"]), ("eval_all_single", want["eval_num_query"])):
        one_query = 1.0 / num_query + 1e-9
        found += [f"{section} {k}: {got[section][k]!r} != {v!r} (more than one query of {num_query:g})"
                  for k, v in want[section].items()
                  if not k.startswith("val/num_") and abs(got[section][k] - v) > one_query]
    return found


@pytest.fixture(scope="module")
def golden_benchmark(tmp_path_factory):
    return make_benchmark(tmp_path_factory.mktemp("golden_synth"))


@pytest.mark.parametrize("preset", PRESETS)
def test_seeded_run_matches_the_recorded_numbers(preset, golden_benchmark, tmp_path):
    got = run_preset(preset, golden_benchmark, tmp_path / "cache", tmp_path)
    differences = _differences(got, GOLDEN["presets"][preset])
    if differences and environment() != GOLDEN["recorded_with"]:
        pytest.skip(f"{preset} differs ({differences[0]}), but the golden file was recorded with "
                    f"{GOLDEN['recorded_with']} and this is {environment()}: re-record it under the "
                    "verified set with `python -m tests.golden.runs`")
    assert not differences, "\n".join(differences)


def test_rank_metrics_allow_one_query_and_no_more():
    want = GOLDEN["presets"]["tiny-baseline"]
    q = want["eval_num_query"]
    one_flip = json.loads(json.dumps(want))
    one_flip["eval_all_single"]["R1"] += 1.0 / q
    assert _differences(one_flip, want) == []
    one_flip["eval_all_single"]["R1"] += 1.0 / q
    assert _differences(one_flip, want) and "R1" in _differences(one_flip, want)[0]
