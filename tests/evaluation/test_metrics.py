"""Specification of vireid.evaluation.evaluate: hand-built cases with known CMC / AP / mINP,
then a property test against the per-query reference loop for all three protocols."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vireid.evaluation import EvaluationError, evaluate

from ._reference import reference_evaluate


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


@st.composite
def problems(draw):
    nq = draw(st.integers(1, 30))
    ng = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    # integer distances from a small range create many ties on purpose
    dist = rng.integers(0, draw(st.sampled_from([3, 10, 1000])), size=(nq, ng)).astype(float)
    npid = draw(st.integers(1, 6))
    return (dist, rng.integers(0, npid, nq), rng.integers(0, npid, ng),
            rng.choice([1, 2, 3, 6], nq), rng.choice([1, 2, 3, 4, 5, 6], ng))


@settings(max_examples=150, deadline=None)
@given(problems(), st.sampled_from(["sysu", "regdb", "llcm"]), st.integers(1, 25))
def test_vectorised_equals_per_query_reference(problem, protocol, max_rank):
    dist, qp, gp, qc, gc = problem
    try:
        expected = reference_evaluate(dist, qp, gp, qc, gc, protocol, max_rank)
    except ValueError:
        with pytest.raises(EvaluationError):
            evaluate(dist, qp, gp, qc, gc, protocol, max_rank)
        return
    got = evaluate(dist, qp, gp, qc, gc, protocol, max_rank)
    cmc, m_ap, m_inp, num_valid = expected
    np.testing.assert_allclose(got.cmc, cmc, rtol=0, atol=1e-12)
    assert got.mAP == pytest.approx(m_ap, abs=1e-12)
    assert got.mINP == pytest.approx(m_inp, abs=1e-12)
    assert got.num_valid == num_valid


def test_fast_argsort_orders_ties_by_gallery_index_like_a_stable_sort():
    from vireid.evaluation.metrics import stable_argsort

    rng = np.random.default_rng(0)
    # few distinct values: isolated tied pairs and longer tied runs both occur
    for levels in (5, 300, 10**6):
        d = rng.integers(0, levels, size=(64, 400)).astype(np.float32) / levels
        np.testing.assert_array_equal(stable_argsort(d), np.argsort(d, axis=1, kind="stable"))
