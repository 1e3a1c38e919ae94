"""IVF-PQ over a gallery file: features streamed from disk in blocks, candidates re-scored
exactly, so every returned score is the exact dot product and the top-10 matches the exact
search's wherever the true neighbours are among the candidates."""

from __future__ import annotations

import numpy as np
import pytest

from tests.inference.galleries import clustered, write_gallery
from vireid.errors import VireidError
from vireid.inference.features_file import feature_blocks, read_embeddings
from vireid.inference.search import exact_topk, recall_at_k
from vireid.inference.search_pq import build_ivfpq, faiss_pq_topk, rescore


@pytest.fixture(scope="module")
def clustered_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    gallery, queries = clustered(rng, 3000, 32, 60), clustered(rng, 50, 32, 60)
    path = write_gallery(tmp_path_factory.mktemp("pq") / "g.parquet", gallery)
    return gallery, queries, read_embeddings(path, features=False)


@pytest.mark.parametrize("rows", [1, 7, 100, 4096])
def test_feature_blocks_stream_the_kept_rows_in_file_order(tmp_path, rows):
    feats = clustered(np.random.default_rng(1), 600, 8, 5)
    path = write_gallery(tmp_path / "g.parquet", feats, errors={0, 3, 599})
    on_disk = read_embeddings(path, features=False)
    assert on_disk.feats is None and on_disk.dim == 8 and on_disk.skipped == 3
    blocks = list(feature_blocks(on_disk, rows))
    assert all(0 < len(block) <= rows for _, block in blocks)
    assert [first for first, _ in blocks] == list(np.cumsum([0] + [len(b) for _, b in blocks[:-1]]))
    np.testing.assert_array_equal(np.concatenate([b for _, b in blocks]), read_embeddings(path).feats)
    assert on_disk.paths.to_pylist() == read_embeddings(path).paths.to_pylist()
    assert "g00000.jpg" not in on_disk.paths.to_pylist() and on_disk.pids.tolist()[:2] == [1, 2]


@pytest.mark.parametrize("block_rows", [1, 13, 5000])
def test_rescore_keeps_the_exact_top_k_of_each_querys_candidates(clustered_file, block_rows):
    gallery, queries, on_disk = clustered_file
    rng = np.random.default_rng(2)
    candidates = np.stack([rng.choice(len(gallery), 30, replace=False) for _ in queries])
    candidates[0, 5:] = -1                                      # a query with only 5 candidates
    scores, rows = rescore(queries, on_disk, candidates, 10, block_rows)
    for q, cand in enumerate(candidates):
        cand = cand[cand >= 0]
        exact = queries[q] @ gallery[cand].T
        order = np.lexsort((cand, -exact))[:10]
        np.testing.assert_array_equal(rows[q, :len(order)], cand[order])
        np.testing.assert_allclose(scores[q, :len(order)], exact[order], rtol=0, atol=1e-5)
    assert (rows[0, 5:] == -1).all() and np.isneginf(scores[0, 5:]).all()


def test_ivfpq_with_exact_rescoring_finds_the_exact_top10_with_exact_scores(clustered_file):
    gallery, queries, on_disk = clustered_file
    exact = exact_topk(queries, gallery, 10)
    result = faiss_pq_topk(queries, on_disk, 10, m=8, nprobe=16, rescore_factor=10, block_rows=256)
    assert recall_at_k(result.index, exact.index) >= 0.95
    np.testing.assert_allclose(result.scores, np.einsum("qd,qkd->qk", queries, gallery[result.index]), atol=1e-5)
    assert result.params["nlist"] == 55 and result.params["candidates"] == 100  # sqrt(3000); 10 x 10
    assert result.params["code_bytes_per_row"] == 8 + 8


def test_without_rescoring_the_compressed_scores_lose_neighbours(clustered_file):
    gallery, queries, on_disk = clustered_file
    exact = exact_topk(queries, gallery, 10)
    plain = faiss_pq_topk(queries, on_disk, 10, m=4, nprobe=16, rescore_factor=1)
    rescored = faiss_pq_topk(queries, on_disk, 10, m=4, nprobe=16, rescore_factor=10)
    assert recall_at_k(plain.index, exact.index) < 0.9 < recall_at_k(rescored.index, exact.index)


def test_the_index_holds_codes_not_vectors(clustered_file):
    _, _, on_disk = clustered_file
    index = build_ivfpq(on_disk, m=4)
    assert index.ntotal == 3000 and index.code_size == 4        # 4 bytes a row instead of 32 x 4


def test_bad_settings_are_one_line(clustered_file, tmp_path):
    _, queries, on_disk = clustered_file
    with pytest.raises(VireidError, match="--pq-m 5 must divide the feature dimension 32"):
        faiss_pq_topk(queries, on_disk, 10, m=5)
    with pytest.raises(VireidError, match="--rescore must be at least 1"):
        faiss_pq_topk(queries, on_disk, 10, rescore_factor=0)
    small = read_embeddings(write_gallery(tmp_path / "s.parquet", queries), features=False)
    with pytest.raises(VireidError, match="needs at least 256 gallery rows"):
        faiss_pq_topk(queries, small, 10, m=8)


def test_a_block_of_another_dimension_is_refused(tmp_path):
    feats = clustered(np.random.default_rng(3), 300, 8, 5)
    path = write_gallery(tmp_path / "g.parquet", feats, meta={"dim": 16})
    with pytest.raises(VireidError, match="hold 8-d features, the file records 16-d"):
        list(feature_blocks(read_embeddings(path, features=False), 64))
