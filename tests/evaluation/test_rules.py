"""Gallery rules: the benchmarks' rules are presets of one typed option, and the fast ranker
applies every rule exactly as the per-query reference does."""

import numpy as np
import pytest

from vireid.evaluation import EvaluationError, evaluate
from vireid.evaluation.metrics import evaluate_reference, removal_mask
from vireid.evaluation.rules import PRESETS, RULE_NAMES, GalleryRule, gallery_rule


def test_presets_name_the_benchmark_rules():
    assert gallery_rule("sysu") == GalleryRule("camera-pairs", ((3, 2),), dedup=True, name="sysu")
    assert gallery_rule("llcm").remove == "same-id-same-camera" and gallery_rule("llcm").dedup
    assert gallery_rule("regdb").remove == "none" and not gallery_rule("regdb").dedup
    assert set(PRESETS) < set(RULE_NAMES)


def test_same_camera_removes_every_image_of_the_query_camera():
    mask = removal_mask("same-camera", np.array([1, 2]), np.array([1, 2]),
                        np.array([1, 1, 2]), np.array([1, 2, 2]))
    assert mask.tolist() == [[True, False, False], [False, True, True]]


def test_same_id_same_camera_keeps_other_identities_of_that_camera():
    mask = removal_mask("same-id-same-camera", np.array([1]), np.array([1]),
                        np.array([1, 2, 1]), np.array([1, 1, 2]))
    assert mask.tolist() == [[True, False, False]]


def test_a_rule_is_validated_where_it_is_made():
    with pytest.raises(Exception, match="remove must be one of"):
        GalleryRule("same-room")
    with pytest.raises(Exception, match="camera_pairs"):
        GalleryRule("camera-pairs")
    with pytest.raises(EvaluationError, match="unknown protocol"):
        evaluate(np.zeros((1, 1)), [1], [1], [1], [1], protocol="market")


@pytest.mark.parametrize("rule", ["none", "same-camera", "same-id-same-camera", "sysu", "llcm",
                                  GalleryRule("camera-pairs", ((1, 2), (2, 1), (3, 3)), dedup=True)])
def test_fast_ranker_equals_reference_under_every_rule(rule):
    rng = np.random.default_rng(4)
    nq, ng = 60, 90
    q_pids, g_pids = rng.integers(0, 12, nq), rng.integers(0, 12, ng)
    q_cams, g_cams = rng.integers(1, 7, nq), rng.integers(1, 7, ng)
    dist = rng.random((nq, ng)).round(2)          # rounded: plenty of ties
    fast = evaluate(dist, q_pids, g_pids, q_cams, g_cams, protocol=rule)
    slow = evaluate_reference(dist, q_pids, g_pids, q_cams, g_cams, protocol=rule)
    np.testing.assert_array_equal(fast.first_rank, slow.first_rank)
    np.testing.assert_array_equal(fast.ap, slow.ap)
    np.testing.assert_array_equal(fast.inp, slow.inp)
