"""Specification of vireid.evaluation.evaluate: hand-built cases with known CMC / AP / mINP,
then property tests that the fast ranker equals the per-query reference exactly, for all three
protocols."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bench_evaluation import field_style_evaluate
from vireid.evaluation import EvaluationError, evaluate, ranking
from vireid.evaluation.metrics import evaluate_reference


def ev(dist, qp, gp, qc, gc, protocol, max_rank=5):
    return evaluate(np.asarray(dist, dtype=float), np.asarray(qp), np.asarray(gp),
                    np.asarray(qc), np.asarray(gc), protocol=protocol, max_rank=max_rank)


def test_ap_minp_and_cmc_of_a_single_ranked_list():
    # ranked identities 2, 1, 2, 1: true matches at ranks 2 and 4
    r = ev([[0.1, 0.2, 0.3, 0.4]], [1], [2, 1, 2, 1], [3], [1, 1, 1, 1], "regdb")
    assert r.cmc.tolist() == [0, 1, 1, 1, 1]
    assert r.mAP == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert r.mINP == pytest.approx(2 / 4)


def test_ties_are_broken_by_gallery_index():
    assert ev([[0.5, 0.5]], [1], [2, 1], [3], [1, 1], "regdb").cmc[0] == 0
    assert ev([[0.5, 0.5]], [1], [1, 2], [3], [1, 1], "regdb").cmc[0] == 1


def test_query_absent_from_gallery_is_excluded_and_counted():
    r = ev([[0.1, 0.2], [0.1, 0.2]], [1, 9], [1, 2], [6, 6], [1, 1], "sysu")
    assert (r.num_valid, r.num_invalid) == (1, 1)
    assert r.cmc[0] == 1 and r.mAP == 1 and r.mINP == 1
    assert np.isnan(r.ap[1]) and r.first_rank[1] == 0


def test_no_valid_query_is_an_error():
    with pytest.raises(EvaluationError, match="no query has a true match"):
        ev([[0.1]], [1], [2], [3], [1], "sysu")


def test_sysu_cam3_query_discards_all_cam2_gallery_images():
    dist = [[0.1, 0.2, 0.3]]
    gp, gc = [1, 2, 1], [2, 1, 1]
    cam3 = ev(dist, [1], gp, [3], gc, "sysu")          # ranked after removal: 2, 1
    assert cam3.cmc[0] == 0 and cam3.first_rank[0] == 2
    assert cam3.mAP == pytest.approx(1 / 2) and cam3.mINP == pytest.approx(1 / 2)
    cam6 = ev(dist, [1], gp, [6], gc, "sysu")          # nothing removed: 1, 2, 1
    assert cam6.cmc[0] == 1
    assert cam6.mAP == pytest.approx((1 + 2 / 3) / 2) and cam6.mINP == pytest.approx(2 / 3)


def test_sysu_cam3_query_whose_only_match_is_in_cam2_is_invalid():
    r = ev([[0.1, 0.2], [0.1, 0.2]], [1, 1], [1, 2], [3, 6], [2, 1], "sysu")
    assert (r.num_valid, r.num_invalid) == (1, 1)


def test_deduplication_changes_rank5_for_sysu_and_llcm_but_not_regdb():
    # ranked identities 2,2,2,2,2,3,1: rank 7 as a list, rank 3 after de-duplication
    gp = [2, 2, 2, 2, 2, 3, 1]
    dist = [np.arange(7) / 10]
    gc = [1] * 7
    assert ev(dist, [1], gp, [6], gc, "regdb").cmc.tolist() == [0, 0, 0, 0, 0]
    for protocol in ("sysu", "llcm"):
        r = ev(dist, [1], gp, [6], gc, protocol)
        assert r.cmc.tolist() == [0, 0, 1, 1, 1]
        assert r.mAP == pytest.approx(1 / 7)       # AP ignores de-duplication
        assert r.mINP == pytest.approx(1 / 7)


def test_llcm_removes_same_identity_same_camera_only():
    # ranked: (3,cam2) kept, (1,cam2) removed, (1,cam4) kept -> first match at rank 2
    r = ev([[0.05, 0.1, 0.2]], [1], [3, 1, 1], [2], [2, 2, 4], "llcm")
    assert r.first_rank[0] == 2 and r.mAP == pytest.approx(1 / 2)


def test_cmc_extends_past_the_gallery_length():
    r = ev([[0.1, 0.2]], [1], [2, 1], [6], [1, 1], "sysu", max_rank=20)
    assert len(r.cmc) == 20 and r.cmc[0] == 0 and (r.cmc[1:] == 1).all()


def test_bad_inputs_name_the_problem():
    with pytest.raises(EvaluationError, match="g_pids"):
        ev([[0.1, 0.2]], [1], [1], [3], [1, 1], "sysu")
    with pytest.raises(EvaluationError, match="unknown protocol"):
        ev([[0.1]], [1], [1], [3], [1], "market")


def assert_identical(got, want):
    """Every field equal, bit for bit (NaN where the reference has NaN)."""
    np.testing.assert_array_equal(got.cmc, want.cmc)
    np.testing.assert_array_equal(got.first_rank, want.first_rank)
    np.testing.assert_array_equal(got.ap, want.ap)        # treats NaN == NaN
    np.testing.assert_array_equal(got.inp, want.inp)
    assert (got.mAP, got.mINP) == (want.mAP, want.mINP)
    assert (got.num_valid, got.num_invalid) == (want.num_valid, want.num_invalid)


def test_the_reference_states_the_hand_built_cases_too():
    # the SYSU camera rule and de-duplication, through the reference itself
    r = evaluate_reference([[0.1, 0.2, 0.3]], [1], [1, 2, 1], [3], [2, 1, 1], "sysu", 5)
    assert r.first_rank[0] == 2 and r.mAP == pytest.approx(1 / 2)
    r = evaluate_reference([np.arange(7) / 10], [1], [2, 2, 2, 2, 2, 3, 1], [6], [1] * 7, "llcm", 5)
    assert r.cmc.tolist() == [0, 0, 1, 1, 1] and r.mINP == pytest.approx(1 / 7)


def test_nan_distances_are_rejected_by_both():
    for fn in (evaluate, evaluate_reference):
        with pytest.raises(EvaluationError, match="NaN"):
            fn(np.array([[0.1, np.nan]]), [1], [1, 2], [3], [1, 1], "regdb")


@st.composite
def problems(draw):
    nq = draw(st.integers(1, 30))
    ng = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    # integer levels from a small range create many ties on purpose, as float64, float32
    # (quantised) or int64 distances; optionally -0.0 / +0.0 / infinities mixed in
    levels = draw(st.sampled_from([3, 10, 1000]))
    dist = rng.integers(0, levels, size=(nq, ng)).astype(float)
    kind = draw(st.sampled_from(["float64", "float32", "int64"]))
    if kind == "float32":
        dist = (dist / levels).astype(np.float32)
    elif kind == "int64":
        dist = dist.astype(np.int64) - levels // 2
    if kind != "int64" and draw(st.booleans()):
        special = np.array([-0.0, 0.0, np.inf, -np.inf], dtype=dist.dtype)
        spots = rng.random((nq, ng)) < 0.2
        dist[spots] = rng.choice(special, int(spots.sum()))
    if draw(st.booleans()):
        dist = np.asfortranarray(dist)           # column-major, like d[:, cols] of a C array
    npid = draw(st.integers(1, 6))
    g_pids = rng.integers(0, npid, ng)
    if draw(st.booleans()):
        g_pids = np.sort(g_pids)                 # grouped by identity, like protocol galleries
    return (dist, rng.integers(0, npid, nq), g_pids,
            rng.choice([1, 2, 3, 6], nq), rng.choice([1, 2, 3, 4, 5, 6], ng))


@settings(max_examples=300, deadline=None)
@given(problems(), st.sampled_from(["sysu", "regdb", "llcm"]), st.integers(1, 25),
       st.sampled_from([None, 1, 37]))
def test_fast_ranker_equals_the_reference_exactly(problem, protocol, max_rank, block_entries):
    dist, qp, gp, qc, gc = problem
    try:
        want = evaluate_reference(dist, qp, gp, qc, gc, protocol, max_rank)
    except EvaluationError as error:             # no valid query: the same error
        with pytest.raises(EvaluationError, match=re.escape(str(error))):
            evaluate(dist, qp, gp, qc, gc, protocol, max_rank)
        return
    saved = ranking._BLOCK_ENTRIES
    try:
        if block_entries is not None:                 # several query blocks per call
            ranking._BLOCK_ENTRIES = block_entries
        got = evaluate(dist, qp, gp, qc, gc, protocol, max_rank)
    finally:
        ranking._BLOCK_ENTRIES = saved
    assert_identical(got, want)


@pytest.mark.parametrize("protocol", ["sysu", "regdb", "llcm"])
def test_float32_ties_at_gallery_scale_equal_the_reference(protocol):
    # SYSU-like galleries (identity-grouped, ~30 images per id) with float32 distances from
    # few to many levels: isolated tied pairs, long tied runs and ties across identities.
    rng = np.random.default_rng(0)
    g_pids = np.repeat(np.arange(40), 30)
    g_cams = rng.choice([1, 2, 4, 5], len(g_pids))
    q_pids, q_cams = rng.integers(0, 40, 300), rng.choice([2, 3, 6], 300)
    for levels in (5, 300, 10**6):
        d = rng.integers(0, levels, size=(300, len(g_pids))).astype(np.float32) / levels
        assert_identical(evaluate(d, q_pids, g_pids, q_cams, g_cams, protocol=protocol),
                         evaluate_reference(d, q_pids, g_pids, q_cams, g_cams, protocol=protocol))


def test_the_benchmarks_field_style_sysu_loop_computes_the_same_metrics():
    # the field's loop sums precisions with np.sum (pairwise): equal up to rounding
    rng = np.random.default_rng(1)
    g_pids = np.repeat(np.arange(20), 12)
    g_cams = rng.choice([1, 2, 4, 5], len(g_pids))
    q_pids, q_cams = rng.integers(0, 20, 150), rng.choice([3, 6], 150)
    d = rng.integers(0, 50, size=(150, len(g_pids))).astype(np.float32) / 50     # many ties
    got = evaluate(d, q_pids, g_pids, q_cams, g_cams, protocol="sysu")
    cmc, m_ap, m_inp, num_valid = field_style_evaluate(d, q_pids, g_pids, q_cams, g_cams)
    np.testing.assert_allclose(got.cmc, cmc, rtol=0, atol=1e-12)
    assert got.mAP == pytest.approx(m_ap, abs=1e-12)
    assert got.mINP == pytest.approx(m_inp, abs=1e-12)
    assert got.num_valid == num_valid
