"""The report's diagnostics as pure functions: camera pairs, swapped direction, hardest
queries, ranked lists and the PCA projection."""

import numpy as np
import pytest

from vireid.evaluation.metrics import evaluate
from vireid.evaluation.sets import EvalSet
from vireid.report.analysis import (Breakdown, camera_pair_metrics, hardest_queries, pca_2d,
                                    ranked_gallery, swapped_direction)


def _sets():
    # Two infrared query cameras (3, 6), two visible gallery cameras (1, 2); ids 1 and 2.
    query = EvalSet(["q1", "q2", "q3", "q4"], np.array([1, 2, 1, 2]), np.array([3, 3, 6, 6]), "infrared")
    gallery = EvalSet(["g1", "g2", "g3", "g4"], np.array([1, 2, 1, 2]), np.array([1, 1, 2, 2]), "visible")
    # Camera 1 ranks every query right; camera 2 ranks every query wrong.
    dist = np.array([[0.1, 0.9, 0.9, 0.1],
                     [0.9, 0.1, 0.1, 0.9],
                     [0.1, 0.9, 0.9, 0.1],
                     [0.9, 0.1, 0.1, 0.9]], dtype=np.float32)
    return query, gallery, dist


def test_camera_pairs_rank_each_query_camera_against_one_gallery_camera():
    query, gallery, dist = _sets()
    pairs = camera_pair_metrics(query, gallery, dist, "regdb")
    assert pairs[(3, 1)] == (1.0, 1.0, 2) and pairs[(6, 1)] == (1.0, 1.0, 2)
    assert pairs[(6, 2)][0] == 0.0 and pairs[(6, 2)][1] == pytest.approx(0.5)


def test_camera_pairs_apply_the_protocols_removal():
    query, gallery, dist = _sets()
    # SYSU removes gallery camera 2 for query camera 3: that pair has no valid query at all.
    pairs = camera_pair_metrics(query, gallery, dist, "sysu")
    assert (3, 2) not in pairs and (6, 2) in pairs


def test_swapping_roles_ranks_gallery_images_against_the_queries():
    query, gallery, dist = _sets()
    swapped = swapped_direction(query, gallery, dist)
    direct = evaluate(dist.T.copy(), gallery.pids, query.pids, gallery.cams, query.cams, protocol="regdb",
                      max_rank=4)
    assert swapped.cmc[0] == direct.cmc[0] and swapped.mAP == direct.mAP
    assert swapped.cmc[0] == pytest.approx(0.5)   # g1, g2 right; g3, g4 wrong


def test_breakdown_averages_over_trials_and_adds_the_swapped_direction_once_per_trial():
    query, gallery, dist = _sets()
    result = evaluate(dist, query.pids, gallery.pids, query.cams, gallery.cams, protocol="regdb", max_rank=4)
    bd = Breakdown()
    for _ in range(3):
        bd.add("s", "setting", query, gallery, dist, "regdb", result, swap=True)
    rows = bd.direction_rows()
    assert [(d, n) for d, _, _, _, n in rows] == [("infrared -> visible", 3), ("visible -> infrared", 3)]
    assert "roles swapped" in rows[1][1]
    assert bd.pair_rows("s")[0] == (3, 1, 1.0, 1.0, 3, 2)


def test_hardest_queries_are_the_lowest_ap_with_later_first_match_first():
    class R:  # the EvalResult fields hardest_queries reads
        ap = np.array([0.9, 0.2, np.nan, 0.2, 0.5])
        first_rank = np.array([1, 3, 0, 7, 2])

    assert hardest_queries(R, 3).tolist() == [3, 1, 4]   # query 2 has no true match: never picked


def test_ranked_gallery_skips_removed_images():
    row = np.array([0.3, 0.1, 0.2, 0.0])
    assert ranked_gallery(row, None, 3).tolist() == [3, 1, 2]
    assert ranked_gallery(row, np.array([False, False, False, True]), 3).tolist() == [1, 2, 0]


@pytest.mark.parametrize("shape", [(40, 200), (300, 12)])
def test_pca_matches_the_svd_of_the_centred_features(shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape) * np.linspace(3, 0.1, shape[1])
    coords, ratio = pca_2d(x)
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(coords), np.abs(centred @ vt[:2].T), atol=1e-8)
    np.testing.assert_allclose(ratio, s[:2] ** 2 / (s ** 2).sum(), rtol=1e-9)
