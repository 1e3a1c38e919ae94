"""k-reciprocal re-ranking: the vectorised function equals a plain per-row reading of Zhong
et al.'s algorithm (the authors' Python version, step by step) on clustered features."""

from __future__ import annotations

import numpy as np
import pytest

from vireid.evaluation import EvaluationError, re_ranking
from vireid.evaluation.rerank import (RerankOptions, euclidean_from_cosine, re_ranking_features)


def reference_re_ranking(q_g, q_q, g_g, k1=20, k2=6, lambda_value=0.3):
    """One image at a time, dense matrices, a stable argsort per row: the specification."""
    nq = q_g.shape[0]
    stacked = np.block([[q_q, q_g], [q_g.T, g_g]]).astype(np.float64) ** 2
    dist = (stacked / stacked.max(axis=0)).T          # row i: column i over its maximum
    n = len(dist)
    rank = np.argsort(dist, axis=1, kind="stable")

    def reciprocal(i, k):
        forward = rank[i, :k + 1]
        return np.array([j for j in forward if i in rank[j, :k + 1]], dtype=np.int64)

    weights = np.zeros((n, n))
    half = int(np.around(k1 / 2.0))
    for i in range(n):
        own = reciprocal(i, k1)
        expanded = list(own)
        for candidate in own:
            theirs = reciprocal(candidate, half)
            if len(set(theirs) & set(own)) > 2.0 / 3 * len(theirs):
                expanded.extend(theirs)
        support = np.unique(expanded)
        w = np.exp(-dist[i, support])
        weights[i, support] = w / w.sum()
    if k2 != 1:
        weights = np.stack([weights[rank[i, :k2]].mean(axis=0) for i in range(n)])
    out = np.empty(q_g.shape)
    for i in range(nq):
        for j in range(q_g.shape[1]):
            shared = np.minimum(weights[i], weights[nq + j]).sum()
            jaccard = 1.0 - shared / (2.0 - shared)
            out[i, j] = (1 - lambda_value) * jaccard + lambda_value * dist[i, nq + j]
    return out


def clustered(rng, n_ids, per_id, dim=16, spread=0.35):
    """L2-normalised features around one centre per identity: real neighbourhoods."""
    centres = rng.normal(size=(n_ids, dim))
    feats = np.repeat(centres, per_id, axis=0) + spread * rng.normal(size=(n_ids * per_id, dim))
    return feats / np.linalg.norm(feats, axis=1, keepdims=True), np.repeat(np.arange(n_ids), per_id)


def euclid(a, b):
    return np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0.0))


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(7)
    feats, pids = clustered(rng, n_ids=12, per_id=9)
    order = rng.permutation(len(feats))
    feats, pids = feats[order], pids[order]
    query, gallery = feats[:40], feats[40:]
    return query, gallery, euclid(query, gallery), euclid(query, query), euclid(gallery, gallery)


@pytest.mark.parametrize("k1, k2, lam", [(20, 6, 0.3), (5, 1, 0.3), (7, 3, 0.0), (3, 2, 1.0),
                                          (12, 1, 0.5), (2, 4, 0.3)])
def test_equals_the_per_row_reference_on_clustered_features(problem, k1, k2, lam):
    _, _, q_g, q_q, g_g = problem
    expected = reference_re_ranking(q_g, q_q, g_g, k1, k2, lam)
    got = re_ranking(q_g, q_q, g_g, k1=k1, k2=k2, lambda_value=lam)
    assert got.shape == q_g.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=2e-6, rtol=0)


def test_the_problem_has_neighbourhood_structure(problem):
    """Guard for the comparison above: expansion and query expansion really change V."""
    _, _, q_g, q_q, g_g = problem
    plain = reference_re_ranking(q_g, q_q, g_g, 20, 6, 0.0)
    assert plain.min() < 0.6 and (plain < 1.0).mean() > 0.2 and (plain == 1.0).any()


def test_lambda_one_is_the_normalised_squared_distance(problem):
    _, _, q_g, q_q, g_g = problem
    stacked = np.block([[q_q, q_g], [q_g.T, g_g]]) ** 2
    expected = q_g ** 2 / stacked.max(axis=0)[:len(q_g), None]
    np.testing.assert_allclose(re_ranking(q_g, q_q, g_g, lambda_value=1.0), expected, atol=1e-6)


def test_re_ranking_helps_on_clustered_data():
    """The point of the method: more identities' images among each query's nearest."""
    rng = np.random.default_rng(3)
    feats, pids = clustered(rng, n_ids=30, per_id=10, spread=0.6)
    q, g = feats[::5], np.delete(feats, np.s_[::5], axis=0)
    qp, gp = pids[::5], np.delete(pids, np.s_[::5])
    plain = euclid(q, g)
    reranked = re_ranking(plain, euclid(q, q), euclid(g, g))

    def precision_at_5(dist):
        top = np.argsort(dist, axis=1, kind="stable")[:, :5]
        return (gp[top] == qp[:, None]).mean()

    assert precision_at_5(reranked) > precision_at_5(plain) + 0.02


def test_feature_fallback_matches_the_distance_version(problem):
    query, gallery, q_g, q_q, g_g = problem
    np.testing.assert_allclose(re_ranking_features(query, gallery, k1=9, k2=3),
                               re_ranking(q_g, q_q, g_g, k1=9, k2=3), atol=2e-6)


def test_ties_go_to_the_lower_index():
    """Duplicated gallery images (equal distances everywhere): the result does not depend on
    how an unstable sort would order them, and equals the stable reference."""
    rng = np.random.default_rng(1)
    feats, _ = clustered(rng, n_ids=5, per_id=6)
    feats = np.concatenate([feats, feats[:8]])
    q, g = feats[:10], feats[10:]
    q_g, q_q, g_g = euclid(q, g), euclid(q, q), euclid(g, g)
    np.testing.assert_allclose(re_ranking(q_g, q_q, g_g, k1=6, k2=3),
                               reference_re_ranking(q_g, q_q, g_g, 6, 3, 0.3), atol=2e-6)


def test_cosine_distance_converts_to_euclidean():
    rng = np.random.default_rng(0)
    a, _ = clustered(rng, 3, 4)
    cosine = 1.0 - a @ a.T
    np.testing.assert_allclose(euclidean_from_cosine(cosine), euclid(a, a), atol=1e-6)


@pytest.mark.parametrize("bad, match", [
    (dict(k1=0), "k1"), (dict(k2=0), "k2"), (dict(lambda_value=1.5), "lambda"),
    (dict(k1=2.5), "k1"),
])
def test_bad_parameters_are_one_clear_error(problem, bad, match):
    _, _, q_g, q_q, g_g = problem
    with pytest.raises(EvaluationError, match=match):
        re_ranking(q_g, q_q, g_g, **bad)


def test_bad_matrices_are_one_clear_error(problem):
    _, _, q_g, q_q, g_g = problem
    with pytest.raises(EvaluationError, match="g_g_dist"):
        re_ranking(q_g, q_q, g_g[:-1, :-1])
    broken = q_g.copy()
    broken[0, 0] = np.nan
    with pytest.raises(EvaluationError, match="q_g_dist contains NaN"):
        re_ranking(broken, q_q, g_g)


def test_options_record_the_parameters():
    assert RerankOptions().to_dict() == {"k1": 20, "k2": 6, "lambda_value": 0.3}
    assert "k1=20 k2=6 lambda=0.3" in RerankOptions().describe()


def test_evaluation_switches_to_the_feature_route_beyond_the_dense_limit(problem, monkeypatch):
    from vireid.evaluation import rerank

    query, gallery, *_ = problem
    options = RerankOptions(k1=9, k2=3)
    dense, route = rerank.rerank_features(query, gallery, options)
    assert route == "dense"
    monkeypatch.setattr(rerank, "DENSE_LIMIT_ENTRIES", (len(query) + len(gallery)) ** 2 - 1)
    sparse, route = rerank.rerank_features(query, gallery, options)
    assert route == "features"
    np.testing.assert_allclose(sparse, dense, atol=2e-6)
