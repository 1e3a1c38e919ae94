"""Chance level: exact closed forms agree with random permutations (fixed seed)."""

import numpy as np
import pytest

from vireid.evaluation import chance_level, evaluate
from vireid.evaluation.chance import expected_ap, expected_inp


@pytest.mark.parametrize("n,m", [(1, 1), (2, 1), (5, 2), (12, 4), (30, 30)])
def test_closed_forms_match_the_mean_over_random_permutations(n, m):
    rng = np.random.default_rng(0)
    aps, inps = [], []
    for _ in range(4000):
        ranked = rng.permutation(n) < m                     # True = relevant
        pos = np.nonzero(ranked)[0] + 1
        aps.append(np.mean(np.arange(1, m + 1) / pos))
        inps.append(m / pos[-1])
    assert expected_ap(n, m) == pytest.approx(np.mean(aps), abs=0.01)
    assert expected_inp(n, m) == pytest.approx(np.mean(inps), abs=0.01)


def test_chance_level_applies_the_protocol_removal():
    # cam3 query: the cam2 gallery image (a match) is removed, leaving 1 match among 3
    qp, qc = np.array([1]), np.array([3])
    gp, gc = np.array([1, 1, 2, 3]), np.array([2, 1, 1, 4])
    assert chance_level(qp, gp, qc, gc, "sysu")["R1"] == pytest.approx(1 / 3)
    assert chance_level(qp, gp, qc, gc, "regdb")["R1"] == pytest.approx(2 / 4)


def test_random_distances_score_near_chance():
    rng = np.random.default_rng(1)
    qp, gp = rng.integers(0, 10, 400), np.repeat(np.arange(10), 6)
    qc, gc = np.full(400, 6), np.tile([1, 2, 4], 20)
    got = evaluate(rng.random((400, 60)), qp, gp, qc, gc, "regdb")
    chance = chance_level(qp, gp, qc, gc, "regdb")
    assert got.cmc[0] == pytest.approx(chance["R1"], abs=0.05)
    assert got.mAP == pytest.approx(chance["mAP"], abs=0.03)
