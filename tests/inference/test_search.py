"""Top-k search: the blocked exact search equals a full argsort; FAISS IVF-Flat recovers it."""

from __future__ import annotations

import numpy as np
import pytest

from vireid.errors import VireidError
from vireid.inference.search import default_nlist, exact_topk, faiss_topk, recall_at_k


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _clustered(rng, n, d, clusters):
    centres = _unit(rng, clusters, d)
    x = centres[rng.integers(clusters, size=n)] + 0.3 * _unit(rng, n, d)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("block_size, query_block", [(7, 3), (1000, 1024), (1, 1)])
def test_blocked_exact_search_equals_the_full_ranking(block_size, query_block):
    rng = np.random.default_rng(0)
    queries, gallery = _unit(rng, 13, 16), _unit(rng, 50, 16)
    result = exact_topk(queries, gallery, 5, block_size=block_size, query_block=query_block)
    full = queries @ gallery.T
    expected = np.argsort(-full, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(result.index, expected)
    np.testing.assert_allclose(result.scores, np.take_along_axis(full, expected, 1), atol=1e-6)


def test_k_beyond_the_gallery_returns_the_whole_gallery():
    rng = np.random.default_rng(1)
    result = exact_topk(_unit(rng, 2, 8), _unit(rng, 3, 8), 10, block_size=2)
    assert result.index.shape == (2, 3) and sorted(result.index[0]) == [0, 1, 2]


def test_faiss_ivf_recovers_the_exact_top10_on_clustered_features():
    rng = np.random.default_rng(2)
    gallery = _clustered(rng, 4000, 32, 50)
    queries = _clustered(rng, 100, 32, 50)
    exact = exact_topk(queries, gallery, 10)
    all_cells = faiss_topk(queries, gallery, 10, nprobe=default_nlist(len(gallery)))
    assert recall_at_k(all_cells.index, exact.index) > 0.99      # every cell visited: exhaustive
    few = faiss_topk(queries, gallery, 10, nprobe=1)
    assert recall_at_k(few.index, exact.index) < recall_at_k(all_cells.index, exact.index)
    assert all_cells.params["nlist"] == default_nlist(4000) == 102


def test_features_of_different_dimension_are_refused():
    rng = np.random.default_rng(3)
    with pytest.raises(VireidError, match="differ in dimension"):
        exact_topk(_unit(rng, 2, 8), _unit(rng, 3, 9), 1)
